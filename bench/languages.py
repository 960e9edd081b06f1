"""Quality and speed of the `languages` stage on a mixed-language eval set (e.g. ../shared/eval/mixed).

    .venv/bin/python bench/languages.py /work/shared/eval/mixed [--detectors py3langid langdetect] [--out DIR]

For each detector: runs the stage over `docs.jsonl` (reading only `id` and `text`; blank lines make the
blocks), writes predictions to `DIR/languages-<detector>.jsonl`, runs the set's `score.py` on them and
prints its summary, then the speed in sentences per second on one core. Last, it measures translation
duplicate detection (`translation_evidence`): positives are sentences of the set that are translations of
each other (the same Parallel UD sentence id in two languages, read from the gold `src`), negatives every
other pair of sentences in different languages from those treebanks, and adjacent paragraphs of
different languages.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pipeline.document import Block, Document
from stages.languages import UNCERTAIN, Languages, LanguagesConfig
from stages.sentences import split_sentences
from stages.transdup import translation_evidence

_PARAGRAPH = re.compile(r"\S(?:.*\S)?(?:\n(?!\s*\n).*\S)*")


def to_document(record: dict[str, Any]) -> tuple[Document, list[int]]:
    """A document whose blocks are the record's paragraphs, and each block's offset into the text."""
    text = record["text"]
    blocks, offsets = [], []
    for m in _PARAGRAPH.finditer(text):
        blocks.append(Block(kind="paragraph", text=m.group(), index=len(blocks)))
        offsets.append(m.start())
    return Document(id=record["id"], source=record["id"], blocks=blocks), offsets


def predictions(doc: Document, text: str) -> dict[str, Any]:
    """Segments as offsets into the original text; uncertain text is left without a language."""
    segments, cursor = [], 0
    for block in doc.blocks:
        base = text.index(block.text, cursor)
        cursor = base + len(block.text)
        segments += [{"start": base + s.start, "end": base + s.end, "lang": s.lang}
                     for s in block.segments if s.lang != UNCERTAIN]
    return {"id": doc.id, "segments": segments}


def run_detector(records: list[dict[str, Any]], detector: str, out: Path, eval_dir: Path) -> None:
    stage = Languages(LanguagesConfig(detector=detector))  # type: ignore[arg-type]
    stage.setup()
    preds = []
    for record in records:
        doc, _ = to_document(record)
        preds.append(predictions(stage.process(doc), record["text"]))
    path = out / f"languages-{detector}.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in preds), encoding="utf-8")
    print(f"== {detector}: {dict(sorted(stage.counters.items()))}")
    subprocess.run([sys.executable, str(eval_dir / "score.py"), str(path), "--gold", str(eval_dir / "docs.jsonl")],
                   check=True)
    print(f"speed: {speed(records, stage):,.0f} sentences/s on one core")


def speed(records: list[dict[str, Any]], stage: Languages, seconds: float = 2.0) -> float:
    """Sentences per second through `process` pinned to one core, over whole passes of the set for at
    least `seconds`."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    sentences = sum(len(split_sentences(b.text)) for r in records for b in to_document(r)[0].blocks)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for record in records:
            stage.process(to_document(record)[0])
        done += sentences
    return done / (time.perf_counter() - started)


def duplicates(records: list[dict[str, Any]], threshold: float) -> None:
    """Precision and recall of `translation_evidence` at `threshold` on real translation pairs."""
    parallel: dict[str, list[tuple[str, str]]] = {}
    for record in records:
        for s in record["segments"]:
            treebank, sid = s["src"].split(":", 1)
            if "PUD" in treebank:
                parallel.setdefault(sid, []).append((s["lang"], record["text"][s["start"]:s["end"]]))
    items = sorted((sid, lang, text) for sid, found in parallel.items() for lang, text in set(found))
    positives, negatives = [], []
    for (sid_a, lang_a, a), (sid_b, lang_b, b) in itertools.combinations(items, 2):
        if lang_a != lang_b:
            (positives if sid_a == sid_b else negatives).append((a, b))
    for record in records:
        paras = record.get("paragraphs", [])
        for p, q in zip(paras, paras[1:], strict=False):
            if p["lang"] != q["lang"]:
                negatives.append((record["text"][p["start"]:p["end"]], record["text"][q["start"]:q["end"]]))
    tp = sum(translation_evidence(a, b) >= threshold for a, b in positives)
    fp = sum(translation_evidence(a, b) >= threshold for a, b in negatives)
    print(f"translation duplicates at threshold {threshold}: recall {tp}/{len(positives)} = "
          f"{tp / max(1, len(positives)):.3f}, false pairs {fp}/{len(negatives)} = {fp / max(1, len(negatives)):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("eval_dir", type=Path, help="directory with docs.jsonl and score.py")
    parser.add_argument("--detectors", nargs="+", default=["py3langid", "langdetect"])
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.eval_dir / "docs.jsonl", encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    for detector in args.detectors:
        run_detector([{"id": r["id"], "text": r["text"]} for r in records], detector, args.out, args.eval_dir)
    duplicates(records, LanguagesConfig().duplicate_threshold)


if __name__ == "__main__":
    main()
