"""Translation-duplicate detection on a transdup eval set (e.g. ../shared/eval/transdup).

    .venv/bin/python bench/transdup.py /work/shared/eval/transdup [--out DIR] [--model-path]

Without a model (the default): runs `decode, extract, repair, normalise, languages` on each document's `id`
and `text` (nothing else of the gold is read), turns every block with `duplicate_of` into a prediction (the
block's text and its original's text found in the input text, as the set's README describes), and scores
the predictions with the set's `score.py`: on the whole set, then on two halves split by document id
(even / odd final digit), so a rule that only fits one half shows. Prints the scorer's summary per part.

`--model-path` shows the translate stage's comparison on the same pairs instead: blocks are the gold
paragraphs with their gold language (the foreign one marked `translate`, no duplicate marked before), and the
engine is a test double that returns each foreign sentence's human translation into the main language when
the set holds it (the same PUD sentence id in another paragraph of the set, split one to one), the sentence
unchanged otherwise (the negatives' translations are not in the set). Each `translation-duplicate` removal
becomes a prediction. Tiny real packages are built so the stage finds a route for every pair.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import load_config  # noqa: E402
from pipeline.document import Document  # noqa: E402
from pipeline.runner import Pipeline  # noqa: E402

PIPELINE = ["decode", "extract", "repair", "normalise", "languages"]


def predict(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One prediction line per document: each duplicate block's span and its original's span."""
    config = load_config(None, [f"pipeline={json.dumps(PIPELINE)}"])
    pipe = Pipeline.from_config(config)
    inputs = [Document(id=d["id"], source=d["id"], plain_text=d["text"]) for d in docs]
    out = []
    for record, doc in zip(docs, pipe.process(inputs), strict=True):
        text = record["text"]
        found = []
        for block in doc.blocks:
            if block.duplicate_of is None:
                continue
            start = text.find(block.text)
            originals = [b for b in doc.blocks if b.index == block.duplicate_of and b.duplicate_of is None]
            spans = [(s, s + len(b.text)) for b in originals if (s := text.find(b.text)) >= 0]
            if start < 0 or not spans:
                continue
            found.append({"foreign_start": start, "foreign_end": start + len(block.text),
                          "original_start": min(a for a, _ in spans), "original_end": max(b for _, b in spans)})
        out.append({"id": record["id"], "duplicates": found})
    return out


def predict_with_model(docs: list[dict[str, Any]], work: Path) -> list[dict[str, Any]]:
    """Predictions of the translate stage's after-translation comparison, the engine replaced by the gold."""
    from pipeline.document import Block, Segment
    from stages.sentences import split_sentences
    from stages.translate import models
    from stages.translate.stage import Translate, TranslateConfig
    from tests import tinymodels

    def sentences(text: str) -> list[str]:
        return [" ".join(text[s.start : s.end].split()) for s in split_sentences(text)]

    known: dict[str, dict[str, str]] = {}
    for d in docs:
        for p in d["paragraphs"]:
            texts = sentences(d["text"][p["start"] : p["end"]])
            if p["role"] != "host" and len(texts) == len(p["src"]):
                for sid, text in zip(p["src"], texts, strict=True):
                    known.setdefault(sid.split(":")[1], {})[p["lang"]] = text
    gold: dict[str, str] = {}
    inputs = []
    for d in docs:
        blocks = []
        for i, p in enumerate(d["paragraphs"]):
            text = d["text"][p["start"] : p["end"]]
            foreign = p["role"] == "foreign"
            if foreign and len(sentences(text)) == len(p["src"]):
                for sid, sentence in zip(p["src"], sentences(text), strict=True):
                    if d["main_lang"] in known.get(sid.split(":")[1], {}):
                        gold[sentence] = known[sid.split(":")[1]][d["main_lang"]]
            blocks.append(Block(kind="paragraph", text=text, index=i, lang=p["lang"], segments=[
                Segment(start=0, end=len(text), lang=p["lang"], action="translate" if foreign else "keep")]))
        inputs.append(Document(id=d["id"], source=d["id"], blocks=blocks, lang=d["main_lang"]))
    pairs = {(p["lang"], d["main_lang"]) for d in docs for p in d["paragraphs"] if p["role"] == "foreign"}
    for seed, pair in enumerate(sorted(pairs)):
        models.install(tinymodels.build_package(work, *pair, seed=seed), directory=work / "models")
    stage = Translate(TranslateConfig(models_dir=str(work / "models")))
    stage.setup()

    class Gold:
        def translate(self, texts: list[str]) -> list[str]:
            return [gold.get(t, t) for t in texts]

    stage.engine = lambda model: Gold()  # type: ignore[method-assign]
    out = []
    for d, doc in zip(docs, stage.process_batch(inputs), strict=True):
        found = []
        for r in doc.removed:
            original = d["paragraphs"][int(r.reason.split("repeats block ")[1].split()[0])]
            foreign = d["paragraphs"][r.block or 0]
            found.append({"foreign_start": foreign["start"], "foreign_end": foreign["end"],
                          "original_start": original["start"], "original_end": original["end"]})
        out.append({"id": d["id"], "duplicates": found})
    return out


def score(eval_dir: Path, docs: list[dict[str, Any]], preds: list[dict[str, Any]], work: Path, part: str) -> str:
    """The scorer's report on `docs` only (a docs.jsonl of the part, beside a copy of score.py)."""
    folder = work / part
    folder.mkdir()
    (folder / "score.py").write_bytes((eval_dir / "score.py").read_bytes())
    (folder / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    ids = {d["id"] for d in docs}
    (folder / "preds.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds if p["id"] in ids),
                                        encoding="utf-8")
    result = subprocess.run([sys.executable, str(folder / "score.py"), str(folder / "preds.jsonl")],
                            capture_output=True, text=True, check=True, cwd=folder)
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("eval_dir", type=Path, help="directory with docs.jsonl and score.py")
    parser.add_argument("--out", type=Path, help="keep the predictions here")
    parser.add_argument("--model-path", action="store_true", help="the after-translation comparison, gold engine")
    args = parser.parse_args()
    docs = [json.loads(line) for line in (args.eval_dir / "docs.jsonl").read_text(encoding="utf-8").splitlines()]
    if args.model_path:
        with tempfile.TemporaryDirectory() as tmp:
            preds = predict_with_model(docs, Path(tmp))
    else:
        preds = predict(docs)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "transdup-preds.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    parts = {"all": docs, "half-even": [d for d in docs if int(d["id"][-1]) % 2 == 0],
             "half-odd": [d for d in docs if int(d["id"][-1]) % 2 == 1]}
    with tempfile.TemporaryDirectory() as tmp:
        for part, subset in parts.items():
            report = score(args.eval_dir, subset, preds, Path(tmp), part)
            print(f"== {part} ({len(subset)} documents)")
            print(report if part == "all" else "\n".join(report.splitlines()[-12:]))


if __name__ == "__main__":
    main()
