"""Long fuzz campaign: random bytes, Unicode, HTML soup and JSONL lines through the default pipeline.

Reports inputs tried, crashes (an exception escaping the runner), lost records (fewer outputs than inputs),
stage errors (error records: a stage raised on an input) and unserialisable records. Deterministic by seed.

    .venv/bin/python bench/fuzz.py --inputs 100000 --json out/fuzz.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import load_config, readers  # noqa: E402
from pipeline.document import Document  # noqa: E402
from pipeline.runner import Pipeline  # noqa: E402

TAGS = ["p", "div", "h1", "li", "ul", "a", "span", "script", "table", "td", "br", "article", "nav", "meta charset=x"]
SNIPPETS = ["PUBLICITÉ", "Lesen Sie auch", "Partager", "é", "Ã©", "&amp;", "\u00a0", "\u200b", "\u202e", "•", "1 × 1 =",
            "Der Text ist deutsch.", "The caption is English.", "\r\n", "\n\n", "\x00", "\ud800", "«", "»"]


def random_text(rng: random.Random, size: int) -> str:
    parts = []
    while sum(map(len, parts)) < size:
        pick = rng.random()
        if pick < 0.4:
            parts.append(rng.choice(SNIPPETS))
        elif pick < 0.8:
            parts.append("".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(1, 30))))
        else:
            words = ["la", "der", "the", "Corée", "Nord", "."]
            parts.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 20))))
    return "".join(parts)


def random_html(rng: random.Random, depth: int = 0) -> str:
    if depth > 6 or rng.random() < 0.3:
        return random_text(rng, rng.randint(0, 80))
    tag = rng.choice(TAGS)
    kids = "".join(random_html(rng, depth + 1) for _ in range(rng.randint(0, 4)))
    return f"<{tag}>{kids}" + (f"</{tag.split()[0]}>" if rng.random() < 0.8 else "")


def random_input(rng: random.Random, n: int) -> Document:
    kind = n % 4
    if kind == 0:
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 2000)))
        content_type = rng.choice(["text/plain", "text/html", readers.UNKNOWN])
        return Document(id=str(n), source="fuzz", content_type=content_type, raw=data)
    if kind == 1:
        raw = random_text(rng, rng.randint(0, 3000)).encode("utf-8", "surrogatepass")
        return Document(id=str(n), source="fuzz", raw=raw)
    if kind == 2:
        return Document(id=str(n), source="fuzz", content_type="text/html",
                        raw=random_html(rng).encode("utf-8", "surrogatepass"))
    record = {"id": str(n), rng.choice(["text", "html", "body"]): random_text(rng, rng.randint(0, 1500))}
    line = json.dumps(record).encode() if rng.random() < 0.9 else json.dumps(record).encode()[: rng.randint(0, 30)]
    return readers._from_record(line, n, str(n), "fuzz")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--config", default=str(Path(__file__).resolve().parent.parent / "config.yaml"))
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pipe = Pipeline.from_config(load_config(args.config, ["run.timeout=30"]))
    pipe.setup()
    tried = crashes = lost = unserialisable = 0
    statuses: Counter[str] = Counter()
    stage_errors: Counter[str] = Counter()
    started = time.perf_counter()
    while tried < args.inputs:
        batch = [random_input(rng, tried + i) for i in range(min(args.batch, args.inputs - tried))]
        tried += len(batch)
        try:
            out = pipe.process(batch)
        except Exception:
            crashes += 1
            traceback.print_exc()
            continue
        lost += len(batch) - len(out)
        for doc in out:
            statuses[doc.status] += 1
            if doc.status == "error" and doc.stage != "read":
                stage_errors[f"{doc.stage}: {(doc.reason or '')[:80]}"] += 1
            try:
                json.dumps(doc.to_json(), ensure_ascii=False).encode("utf-8")
            except (TypeError, ValueError):
                unserialisable += 1
        if tried % (args.batch * 100) == 0:
            print(f"{tried} inputs, {crashes} crashes, {lost} lost", file=sys.stderr)
    seconds = time.perf_counter() - started
    figures = {"inputs": tried, "crashes": crashes, "lost_records": lost, "unserialisable": unserialisable,
               "statuses": dict(statuses), "stage_errors": dict(stage_errors.most_common(20)),
               "seconds": round(seconds, 1), "inputs_per_second": round(tried / seconds, 1)}
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if crashes or lost or unserialisable or stage_errors else 0


if __name__ == "__main__":
    sys.exit(main())
