"""Whether this tree's pipeline writes the same JSONL as a reference commit's, byte for byte, record by record.

A speed change must not change a decision: this runs `tamis run` of both trees (the reference checked out
with `git archive` into a temporary folder and run with this tree's Python, so that only the code differs;
`--candidate REV` checks a commit instead of the working tree)
over the same inputs and compares the output lines. Inputs, each compared on its own:

- `corpus`: `--docs` documents of `bench/corpus.py` over `SEEDS` (text and HTML files);
- every page and text dump of the dev sets under `--eval` (`html/trafilatura/html`, `html/scrapinghub/html`,
  `html/text`, `ext/html`, `ext/text`) and the documents of `mixed/docs.jsonl` and `transdup/docs.jsonl`, when
  they exist.

    python bench/same_output.py fixtures/articles --reference main --docs 2000 --eval /work/shared/eval

Prints, per input, the records compared and the ones that differ (with the first differing field of the first
few); exit status 1 when any record differs or the two runs give different counts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import corpus

ROOT = Path(__file__).resolve().parents[1]
TEXT_PATH = "pipeline=[decode, extract, repair, boilerplate, normalise, dedupe, languages]"
EVAL_INPUTS = ("html/trafilatura/html", "html/scrapinghub/html", "html/text", "ext/html", "ext/text",
               "mixed/docs.jsonl", "transdup/docs.jsonl")
SHOWN = 5  # differing records described per input


def checkout(revision: str, into: Path) -> Path:
    """The tree of `revision` (of this repository) extracted into the new folder `into`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", revision],
                             check=True, capture_output=True).stdout
    tree = into
    tree.mkdir()
    with tempfile.TemporaryFile() as buffer:
        buffer.write(archive)
        buffer.seek(0)
        with tarfile.open(fileobj=buffer) as tar:
            tar.extractall(tree, filter="data")
    return tree


def run(tree: Path, inputs: str, output: Path, overrides: list[str], jobs: int) -> float:
    """Seconds for `tamis run` of `tree` (its packages first on the path) over `inputs` into `output`."""
    command = [sys.executable, "-c", "import sys; from pipeline.cli import main; sys.exit(main())", "run", inputs,
               "-o", str(output), "--jobs", str(jobs)]
    for override in [TEXT_PATH, *overrides]:
        command += ["--set", override]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
                          capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: some documents failed, which both runs must agree on
        raise SystemExit(f"{tree}: tamis run {inputs} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def first_difference(a: Any, b: Any, where: str = "") -> str:
    """Where two JSON values first differ, as a path, with both values (shortened)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for name in [*a, *(k for k in b if k not in a)]:
            if a.get(name) != b.get(name):
                return first_difference(a.get(name), b.get(name), f"{where}.{name}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{where}[{i}]")
    elif a == b:
        return f"{where}: same value, different bytes"
    return f"{where}: {json.dumps(a, ensure_ascii=False)[:150]} != {json.dumps(b, ensure_ascii=False)[:150]}"


def compare(name: str, reference: Path, candidate: Path) -> int:
    """Differing records of two JSONL outputs, printed; a count mismatch counts as a difference."""
    ours, theirs = candidate.read_bytes().splitlines(), reference.read_bytes().splitlines()
    differing = [(i, a, b) for i, (a, b) in enumerate(zip(theirs, ours, strict=False)) if a != b]
    print(f"{name}: {len(ours)} records, {len(differing)} differ"
          + (f", COUNT MISMATCH (reference {len(theirs)})" if len(ours) != len(theirs) else ""))
    for i, a, b in differing[:SHOWN]:
        before, after = json.loads(a), json.loads(b)
        print(f"  record {i} ({before.get('id')}): {first_difference(before, after)}")
    return len(differing) + abs(len(ours) - len(theirs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("seeds", type=Path, help="seed articles for bench/corpus.py (e.g. fixtures/articles)")
    parser.add_argument("--reference", default="main", help="git revision to compare with (default: main)")
    parser.add_argument("--candidate", help="git revision to check instead of the working tree")
    parser.add_argument("--docs", type=int, default=2000, help="corpus documents (default 2000)")
    parser.add_argument("--eval", type=Path, help="folder of the dev sets (html/, ext/, mixed/)")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE",
                        help="an override for both runs (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="workers per run (default 1)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="same-output-") as tmp:
        work = Path(tmp)
        reference = checkout(args.reference, work / "reference")
        candidate = checkout(args.candidate, work / "candidate") if args.candidate else ROOT
        corpus.write_directory(corpus.articles(corpus.seed_sentences(args.seeds), 0, 0.2), work / "corpus",
                               args.docs)
        inputs = {"corpus": work / "corpus"}
        if args.eval is not None:
            inputs |= {part: args.eval / part for part in EVAL_INPUTS if (args.eval / part).exists()}
        differing = 0
        for i, (name, path) in enumerate(inputs.items()):
            outputs = work / f"reference-{i}.jsonl", work / f"candidate-{i}.jsonl"
            seconds = [run(tree, str(path.resolve()), out, args.overrides, args.jobs)
                       for tree, out in zip((reference, candidate), outputs, strict=True)]
            print(f"[{name}: reference {seconds[0]:.1f} s, candidate {seconds[1]:.1f} s]")
            differing += compare(name, *outputs)
    print(f"{'SAME' if differing == 0 else 'DIFFERENT'}: {differing} differing records against {args.reference}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
