"""Same output: the default pipeline (translation left out) of two checkouts over the same inputs, record by record.

A speed change must not change a decision. This runs `tamis run` of a reference checkout (e.g. main) with
its own Python and of this checkout with its own over the same inputs, and compares the JSONL records byte
for byte: it prints how many records each side wrote, how many differ, and for the first differing ones
their id and the top-level fields that differ. Exit code 1 when any record differs (or the counts do).

Inputs: a corpus generated with `bench/corpus.py` from the seeds (`--docs`, text and HTML pages), and the
eval folders or files given (`--eval`): of a folder, the files in its `html/` and `text/` folders (pages
and dumps; gold, scorers and licences are left out), a file as it is (e.g. a `docs.jsonl`).

    python bench/equivalence.py fixtures/articles --reference /work/main --docs 2000 \\
        --eval /work/shared/eval/html --eval /work/shared/eval/ext \\
        --eval /work/shared/eval/mixed/docs.jsonl --eval /work/shared/eval/transdup/docs.jsonl
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import corpus

from pipeline import config as config_module

HERE = Path(__file__).resolve().parent.parent
# The eval folders keep their pages and dumps in folders of these names, beside gold, scorers and licences.
INPUT_FOLDERS = ("html", "text")


def pipeline_names() -> list[str]:
    """The default pipeline's stage instances, translation left out (it needs a model, and is not measured)."""
    return [s.instance for s in config_module.load(None, []).stages if s.stage != "translate"]


def eval_inputs(roots: list[Path]) -> list[str]:
    """Every input file under the eval folders (or the files themselves), sorted so both sides read the same."""
    found: list[str] = []
    for root in roots:
        if root.is_file():
            found.append(str(root))
            continue
        found += sorted(str(p) for p in root.rglob("*")
                        if p.is_file() and p.parent != root and p.parent.name in INPUT_FOLDERS)
    return found


def run(checkout: Path, inputs: list[str], out: Path, names: list[str]) -> None:
    """`tamis run` of `checkout` with its own venv, one worker, into `out`."""
    python = checkout / ".venv" / "bin" / "python"
    command = [str(python), "-m", "pipeline", "run", *inputs, "-o", str(out), "--jobs", "1",
               "--set", f"pipeline=[{', '.join(names)}]"]
    done = subprocess.run(command, cwd=checkout, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):  # 1: some documents failed, which is output to compare too
        sys.exit(f"{checkout}: tamis run exited {done.returncode}\n{done.stderr[-2000:]}")


def compare(reference: Path, branch: Path, shown: int) -> int:
    """Print the comparison; the number of differing records (a count mismatch counts as its difference)."""
    left, right = reference.read_bytes().splitlines(), branch.read_bytes().splitlines()
    print(f"records: reference {len(left)}, this checkout {len(right)}")
    differing = [i for i, (a, b) in enumerate(zip(left, right, strict=False)) if a != b]
    for i in differing[:shown]:
        a, b = json.loads(left[i]), json.loads(right[i])
        fields = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        print(f"  differs: record {i} id={a.get('id')!r}: {', '.join(fields)}")
    total = len(differing) + abs(len(left) - len(right))
    print(f"differing records: {total}")
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("seeds", type=Path, help="seed articles for bench/corpus.py (e.g. fixtures/articles)")
    parser.add_argument("--reference", type=Path, required=True, help="the checkout to compare with (its .venv)")
    parser.add_argument("--docs", type=int, default=2000, help="corpus documents (default 2000)")
    parser.add_argument("--eval", type=Path, action="append", default=[], help="an eval folder or file (repeatable)")
    parser.add_argument("--keep", type=Path, help="write both outputs into this folder and keep them")
    parser.add_argument("--reuse-reference", action="store_true",
                        help="with --keep: take the reference output found there instead of running it again")
    parser.add_argument("--show", type=int, default=20, help="differing records to describe (default 20)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tamis-equivalence-") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        checksum = corpus.write_directory(corpus.articles(corpus.seed_sentences(args.seeds), 0, 0.2),
                                          work / "corpus", args.docs)
        inputs = [str(work / "corpus"), *eval_inputs([p.resolve() for p in args.eval])]
        print(f"corpus: {args.docs} documents, sha256 {checksum}; eval inputs: {len(inputs) - 1} files")
        names = pipeline_names()
        print(f"pipeline: {names}")
        sides = [(args.reference.resolve(), work / "reference.jsonl"), (HERE, work / "branch.jsonl")]
        todo = sides[1:] if args.keep and args.reuse_reference and sides[0][1].exists() else sides
        with ThreadPoolExecutor(2) as pool:  # the two runs are independent processes
            list(pool.map(lambda side: run(side[0], inputs, side[1], names), todo))
        differing = compare(sides[0][1], sides[1][1], args.show)
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
