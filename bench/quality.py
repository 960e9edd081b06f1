"""Main-text quality of the tamis pipeline on an HTML evaluation set, from the HTML and from text dumps.

    python bench/quality.py /path/to/eval/html [--sets trafilatura,scrapinghub] [--limit N]

The set's own scorer (`score.py` in that directory, see its README) runs four times: HTML and text-dump
input, each with strict and `--fold` matching. The pipeline is decode → extract → repair → boilerplate →
normalise, leaving out the stages that are not installed; it is called in-process through `clean_file`.
The project never reads the evaluation data at run time: the directory is an argument.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WANTED = ("decode", "extract", "repair", "boilerplate", "normalise")
_F1 = re.compile(r"^F1 trafilatura-set=(\S+) scrapinghub-set=(\S+)$", re.MULTILINE)
_pipeline: Any = None


def stage_names() -> list[str]:
    """The wanted stages that can be imported now (others may still be being written)."""
    from pipeline import registry

    names = []
    for name in WANTED:
        try:
            registry.get(name)
        except (ImportError, registry.RegistryError):
            continue
        names.append(name)
    return names


def clean_file(path: str) -> str:
    """The clean main text of one page (HTML or text dump), as `score.py --py` expects."""
    global _pipeline
    from pipeline import Document, Pipeline, load_config

    if _pipeline is None:
        _pipeline = Pipeline.from_config(load_config(None, [f"pipeline={json.dumps(stage_names())}"]))
    content_type = "text/html" if path.endswith((".html", ".htm")) else "text/plain"
    doc = Document(id=path, source=path, content_type=content_type, raw=Path(path).read_bytes())
    [out] = _pipeline.process([doc])
    return out.text if out.status == "ok" else ""


def score(eval_dir: Path, text_input: bool, fold: bool, extra: list[str]) -> tuple[str, str]:
    cmd = [sys.executable, "score.py", "--py", "bench.quality:clean_file", "--jobs", "1", "--bootstrap", "0",
           "--input", "text" if text_input else "html", *(["--fold"] if fold else []), *extra]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(cmd, cwd=eval_dir, env=env, capture_output=True, text=True, check=True)
    found = _F1.search(done.stdout)
    if found is None:
        raise RuntimeError(f"score.py printed no F1 line:\n{done.stdout}\n{done.stderr[-2000:]}")
    return found.group(1), found.group(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("eval_dir", type=Path, help="directory holding score.py, e.g. .../eval/html")
    parser.add_argument("--sets", help="passed to score.py (trafilatura,scrapinghub)")
    parser.add_argument("--limit", type=int, help="passed to score.py: first N cases of each set")
    args = parser.parse_args(argv)
    if not (args.eval_dir / "score.py").is_file():
        parser.error(f"{args.eval_dir}: no score.py there")
    extra = [*(["--sets", args.sets] if args.sets else []), *(["--limit", str(args.limit)] if args.limit else [])]
    print(f"pipeline: {' → '.join(stage_names())}")
    print(f"{'input':<6} {'match':<7} {'trafilatura-set F1':>19} {'scrapinghub-set F1':>19}")
    for text_input in (False, True):
        for fold in (False, True):
            tf, sh = score(args.eval_dir, text_input, fold, extra)
            kind, match = "text" if text_input else "html", "fold" if fold else "strict"
            print(f"{kind:<6} {match:<7} {tf:>19} {sh:>19}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
