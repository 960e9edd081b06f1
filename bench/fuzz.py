"""Long fuzz campaign: random bytes, Unicode, HTML soup, JSONL lines and the adversarial families of issue 15
(non-UTF-8 file names, JSON the decoder refuses, lines shaped like tamis records, huge attribute counts,
runs of dots) through the default pipeline, one document at a time so that each one's time is measured.

Reports, in total and per family: inputs tried, crashes (an exception escaping the reader or the runner),
lost records (other than one output per input), stage errors (error records: a stage raised on an input),
unserialisable records (no valid UTF-8 JSON line), and documents over `run.timeout` by more than a second.
Deterministic by seed.

    .venv/bin/python bench/fuzz.py --inputs 100000 --json out/fuzz.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import load_config, readers  # noqa: E402
from pipeline.config import PipelineConfig  # noqa: E402
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


BAD = ("crashes", "lost_records", "unserialisable", "over_limit", "stage_errors")  # each must stay 0
FAMILIES = ("bytes", "text", "html", "jsonl", "filename", "refused-json", "record-shaped", "attributes", "dot-runs")


def random_input(rng: random.Random, n: int, workdir: Path, config: PipelineConfig) -> list[Document]:
    """The documents that one input of family `n % len(FAMILIES)` reads as (one, when the readers keep their
    promise). Each input is written to a file of its own and read back by `readers.Reader` from its
    directory, as `tamis run DIR` reads it: suffixes, sniffing, JSONL lines and file names all count."""
    family = FAMILIES[n % len(FAMILIES)]
    name = rng.choice([b"page.txt", b"page.html", b"page.md"])
    if family == "bytes":
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 2000)))
    elif family == "text":
        data = random_text(rng, rng.randint(0, 3000)).encode("utf-8", "surrogatepass")
    elif family == "html":
        name, data = b"page.html", random_html(rng).encode("utf-8", "surrogatepass")
    elif family == "jsonl":
        record = {"id": str(n), rng.choice(["text", "html", "body"]): random_text(rng, rng.randint(0, 1500))}
        line = json.dumps(record).encode()
        name, data = b"lines.jsonl", line if rng.random() < 0.9 else line[: rng.randint(1, 30)]
    elif family == "filename":
        name = bytes(rng.choice([0xFF, 0xFE, 0xC3, 0x80, 0xE9, 0x41, 0x5F]) for _ in range(rng.randint(1, 12)))
        name += rng.choice([b".txt", b".html", b".md"])
        data = random_text(rng, rng.randint(0, 800)).encode("utf-8", "surrogatepass")
    elif family == "refused-json":
        name, data = b"lines.jsonl", _refused_json(rng)
    elif family == "record-shaped":
        name, data = b"lines.jsonl", _record_shaped(rng, n)
    elif family == "attributes":
        # Mostly hundreds; one in two hundred holds tens of thousands (the 140k-attribute page ran 277 s).
        count = rng.randint(10, 500) if rng.random() < 0.995 else rng.randint(10_000, 40_000)
        attrs = " ".join(f'{rng.choice("abcdxyz")}{i}="{rng.choice(["v", "", "x" * 20])}"' for i in range(count))
        body = f"<div {attrs}><p>{random_text(rng, 300)}</p></div>"
        html = f"<html><head><title>T</title></head><body>{body}</body></html>"
        name, data = b"page.html", html.encode("utf-8", "surrogatepass")
    else:
        run = rng.choice(".!?…") * (rng.randint(2, 2000) if rng.random() < 0.99 else rng.randint(20_000, 100_000))
        glue = rng.choice(["", " ", "x", "\n"])
        text = random_text(rng, rng.randint(0, 500)) + glue.join((run, run[: rng.randint(0, 50)]))
        name, data = b"page.txt", (text + rng.choice(["", " Fin.", "x"])).encode("utf-8", "surrogatepass")
    return _read_back(workdir / str(n), name, data, config)


def _read_back(folder: Path, name: bytes, data: bytes, config: PipelineConfig) -> list[Document]:
    """The documents that `readers.Reader` reads from a directory holding one file `name` (bytes: a name
    need not be UTF-8) with `data`."""
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), name), "wb") as out:
        out.write(data)
    try:
        return list(readers.Reader([str(folder)], config.run.glob, config.run.max_bytes))
    finally:
        shutil.rmtree(folder)


def _refused_json(rng: random.Random) -> bytes:
    """JSON that Python's `json` refuses (huge integers, deep nesting) or reads as what no JSON output may
    hold (lone surrogates, NaN, Infinity, 1e999)."""
    pick = rng.randrange(4)
    if pick == 0:
        return b'{"text": "x", "n": ' + b"9" * rng.choice([4301, 5000, 20_000]) + b"}"
    if pick == 1:
        depth = rng.choice([1000, 10_000, 100_000])
        return b'{"text": "x", "deep": ' + b"[" * depth + b"]" * depth + b"}"
    if pick == 2:
        return b'{"text": "' + b"\\ud800" * rng.randint(1, 5) + b'", "id": "\\udfff"}'
    return b'{"text": ' + rng.choice([b"NaN", b"Infinity", b"-Infinity", b"1e999"]) + b"}"


def _record_shaped(rng: random.Random, n: int) -> bytes:
    """Lines shaped like tamis output records, with fields of the wrong type or out of range."""
    junk = [None, 1, -1, 1.5, "x", "\ud800", [], {}, [1], ["x"], {"a": 1}, True, "published"]
    block = {"kind": rng.choice(["paragraph", "title", "nope", 3]), "text": rng.choice(["Texte.", 7, None]),
             "index": rng.choice([0, -1, "0", None]), "segments": rng.choice([[], "x", [{"start": "a"}]])}
    record: dict[str, Any] = {"id": rng.choice([str(n), 5, None, "\ud800"]), "source": rng.choice(["s", 1]),
                              "status": rng.choice(["ok", "filtered", "error", "published", 1]),
                              "blocks": rng.choice([[block], block, "x", None, [block, 1]])}
    for key in rng.sample(["removed", "changes", "warnings", "metadata", "extra", "lang", "done", "text"], 4):
        record[key] = rng.choice(junk)
    return json.dumps(record).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="run.timeout for the campaign")
    parser.add_argument("--config", default=str(Path(__file__).resolve().parent.parent / "config.yaml"))
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    config = load_config(args.config, [f"run.timeout={args.timeout}"])
    pipe = Pipeline.from_config(config)
    pipe.setup()
    totals: Counter[str] = Counter()
    families: dict[str, Counter[str]] = {f: Counter() for f in FAMILIES}
    statuses: Counter[str] = Counter()
    stage_errors: Counter[str] = Counter()
    crash_kinds: Counter[str] = Counter()
    slowest = 0.0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.inputs):
            family = FAMILIES[n % len(FAMILIES)]
            seen = families[family]
            seen["inputs"] += 1
            begun = time.perf_counter()
            try:
                out = pipe.process(random_input(rng, n, Path(tmp), config))
            except Exception as exc:
                seen["crashes"] += 1
                crash_kinds[f"{family}: {type(exc).__name__}: {str(exc)[:80]}"] += 1
                if seen["crashes"] == 1:
                    traceback.print_exc()
                continue
            seconds = time.perf_counter() - begun
            seen["milliseconds"] += round(seconds * 1000)
            slowest = max(slowest, seconds)
            if seconds > args.timeout + 1:
                seen["over_limit"] += 1
            if len(out) != 1:
                seen["lost_records"] += abs(len(out) - 1)
            for doc in out:
                statuses[doc.status] += 1
                if doc.status == "error" and doc.stage != "read":
                    seen["stage_errors"] += 1
                    stage_errors[f"{doc.stage}: {(doc.reason or '')[:80]}"] += 1
                try:
                    json.dumps(doc.to_json(), ensure_ascii=False, allow_nan=False).encode("utf-8")
                except (TypeError, ValueError):
                    seen["unserialisable"] += 1
            if (n + 1) % 1000 == 0:
                bad = {k: sum(f[k] for f in families.values()) for k in BAD}
                print(f"{n + 1} inputs, {json.dumps(bad)}, {time.perf_counter() - started:.0f} s", file=sys.stderr,
                      flush=True)
    for seen in families.values():
        totals.update(seen)
    seconds = time.perf_counter() - started
    figures = {"inputs": totals["inputs"], "crashes": totals["crashes"], "lost_records": totals["lost_records"],
               "unserialisable": totals["unserialisable"], "over_limit": totals["over_limit"],
               "stage_errors": totals["stage_errors"], "timeout": args.timeout,
               "slowest_document_seconds": round(slowest, 2),
               "families": {f: dict(sorted(c.items())) for f, c in families.items()},
               "statuses": dict(statuses), "crash_kinds": dict(crash_kinds.most_common(20)),
               "stage_error_kinds": dict(stage_errors.most_common(20)),
               "seconds": round(seconds, 1), "inputs_per_second": round(totals["inputs"] / seconds, 1)}
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if any(totals[k] for k in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
