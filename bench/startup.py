"""Start-up cost: `tamis run ONE-FILE` at the default `run.jobs` against `--jobs 1`, and what a worker's
start-up is made of (imports, then each stage's `setup()`), each in a fresh process.

    .venv/bin/python bench/startup.py [FILE] [--rounds 5]

The run times are the best of `--rounds` (alternating between the two settings, so a busy machine hurts
both alike); the ratio default/--jobs 1 should be close to 1: one batch starts no worker.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter: the time of each import and of each stage's setup, as a worker pays them.
_PARTS = """
import json, time
t = time.perf_counter()
import pipeline
from pipeline import load_config
from pipeline.runner import Pipeline
parts = {"import pipeline": time.perf_counter() - t}
pipe = Pipeline.from_config(load_config("config.yaml"))
for name, stage in zip(pipe.names, pipe.stages):
    t = time.perf_counter()
    stage.setup()
    parts[f"setup {name}"] = time.perf_counter() - t
print(json.dumps(parts))
"""


def run_once(path: Path, jobs: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pipeline", "run", str(path), "-o", f"{tmp}/out.jsonl", *jobs],
                       cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path, default=ROOT / "fixtures/articles/000_78e9fdaecc2f2e94.txt")
    parser.add_argument("--rounds", type=int, default=5, help="0: only the start-up parts")
    args = parser.parse_args()
    best = {"default jobs": float("inf"), "--jobs 1": float("inf")}
    for _ in range(args.rounds):
        best["default jobs"] = min(best["default jobs"], run_once(args.file, []))
        best["--jobs 1"] = min(best["--jobs 1"], run_once(args.file, ["--jobs", "1"]))
    if args.rounds:
        print(f"tamis run {args.file.name}, best of {args.rounds}: default jobs {best['default jobs']:.2f} s, "
              f"--jobs 1 {best['--jobs 1']:.2f} s, ratio {best['default jobs'] / best['--jobs 1']:.2f}")
    parts = json.loads(subprocess.run([sys.executable, "-c", _PARTS], cwd=ROOT, check=True, capture_output=True,
                                      text=True).stdout)
    print("worker start-up: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in parts.items())
          + f" (total {sum(parts.values()):.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
