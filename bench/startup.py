"""Start-up cost: `tamis run ONE-FILE` at the default `run.jobs` against `--jobs 1`, what a cold start is made
of (imports, then each stage's `setup()`), the warm-up of the forkserver workers are forked from, and the
time from a worker's start to its first document (and its memory then), for forked (warm) and spawned (cold)
workers. Each figure is taken in a fresh process (Linux: memory is read from /proc).

    .venv/bin/python bench/startup.py [FILE] [--rounds 5]

The run times are the best of `--rounds` (alternating between the two settings, so a busy machine hurts
both alike); the ratio default/--jobs 1 should be close to 1: one batch starts no worker. A worker's first
document: three pools of one worker each in one process, one one-document batch each; the first forked
worker waits for the forkserver's warm-up (once per process), the next ones fork a warm server.
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

# Run in a fresh interpreter: the time of each import, of each stage's setup and of the first documents, as a
# cold worker pays them.
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
from pipeline import warm
t = time.perf_counter()
pipe.process(warm.documents())
parts["first documents (a page, a text)"] = time.perf_counter() - t
print(json.dumps(parts))
"""

# The forkserver's warm-up, as it runs it: importing `pipeline.preload` in a fresh interpreter.
_WARM_UP = """
import json, time
t = time.perf_counter()
import pipeline.preload
print(json.dumps(time.perf_counter() - t))
"""

# Seconds from the start of a pool of one worker to its first processed batch (one document), three times,
# and the worker's memory then (RSS, and PSS: the pages it shares with N processes count 1/N).
_FIRST = """
import json, multiprocessing, sys, time
from pipeline import config, warm, workers
from pipeline.document import Document
warm.START_METHOD = sys.argv[1]
run_config = config.load("config.yaml", ["run.batch_size=1"])
seconds = []
for i in range(3):
    docs = [Document(id=str(n), source="bench", raw="Un texte en français, pour voir démarrer un ouvrier.".encode())
            for n in range(2)]  # two batches: one batch would run in this process
    t = time.perf_counter()
    stream = workers.process_stream(run_config, docs, jobs=1)
    next(stream)
    took = time.perf_counter() - t
    [worker] = multiprocessing.active_children()
    with open(f"/proc/{worker.pid}/smaps_rollup") as f:
        kb = {line.split()[0]: int(line.split()[1]) for line in f if line.split()[0] in ("Rss:", "Pss:")}
    seconds.append((took, kb["Rss:"] / 1024, kb["Pss:"] / 1024))
    stream.close()
print(json.dumps(seconds))
"""


def run_once(path: Path, jobs: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pipeline", "run", str(path), "-o", f"{tmp}/out.jsonl", *jobs],
                       cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - started


def fresh(script: str, *args: str) -> object:
    """What `script` prints as JSON, run in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


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
    parts = fresh(_PARTS)
    assert isinstance(parts, dict)
    print("cold start-up (a spawned worker's): "
          + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in parts.items())
          + f" (total {sum(parts.values()):.2f} s)")
    print(f"forkserver warm-up (once per parent process): {fresh(_WARM_UP):.2f} s")
    for method in ("forkserver", "spawn"):
        seconds = fresh(_FIRST, method)
        assert isinstance(seconds, list)
        print(f"worker start -> first document, {method}: "
              + ", ".join(f"{s:.3f} s (RSS {rss:.0f} MB, PSS {pss:.0f} MB)" for s, rss, pss in seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
