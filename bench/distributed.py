"""The Ray executor against the local runner, same pipeline, same number of workers, in one run.

Writes a deterministic corpus (`bench/corpus.py`) as JSONL parts, cleans it with the local runner
(`--jobs J`, one ordered file) and with `--executor ray` into a directory (Ray Data reads, cleans and writes
the shards; `run.jobs = J` actors), or with `--ordered` into one file (the driver reads and writes, Ray actors
clean), and prints both rates, their ratio, and the driver's resident memory while Ray streams the input
(sampled from /proc every 0.1 s: it should stay flat whatever the input size).

Each run is timed in a fresh process, so each pays its own start-up: for the local runner its imports and
the stages' setup, for Ray also Ray Data's start (its own actors, the worker processes that import it) and
the actors' setup, about ten seconds on a 2-core machine. Ray starts its workers at a low priority (nice 15):
on a machine busy with other work they wait, so compare figures from a quiet machine. A second pair of
runs over the first `--startup-docs` documents measures that fixed cost; the rate once started is what a
long run approaches, `(N - n) / (T_N - T_n)`, as `bench/speed.py` does for the text path.

    python bench/distributed.py fixtures/articles --docs 8000 --jobs 1
    python bench/distributed.py fixtures/articles --docs 4000 --jobs 1 --ordered
    python bench/distributed.py fixtures/articles --bytes 1G --skip-local --startup-docs 0 --set 'pipeline=[decode]'

Ray gets every CPU of the machine (`ray.init(num_cpus=os.cpu_count())`, outside the timing): the pool leaves
one to its read and write tasks, as it does on a cluster, so J should be at most the CPU count minus one.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from corpus import articles, parse_size, seed_sentences, write_jsonl

from pipeline import config as config_module
from pipeline import ray_executor, runner

TEXT_PIPELINE = "pipeline=[decode,extract,repair,boilerplate,normalise,dedupe,languages]"


class RssSampler(threading.Thread):
    """This process's resident set size, sampled until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.1):
            self.samples.append(rss_mb())

    def stop(self) -> list[float]:
        self._done.set()
        self.join()
        return self.samples


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def write_parts(seeds: Path, folder: Path, docs: int | None, size: int | None, parts: int) -> int:
    """The corpus as `parts` JSONL files (so reads can run in parallel); returns the document count."""
    stream = articles(seed_sentences(seeds), seed=0, html_share=0.2)
    total = 0
    for part in range(parts):
        path = folder / f"part-{part:03d}.jsonl"
        write_jsonl(stream, path, docs // parts if docs else None, size // parts if size else None)
        total += sum(1 for _ in path.open("rb"))
    return total


@dataclass(frozen=True)
class Timed:
    """One run in a fresh process: its documents, wall seconds, and for Ray the driver's RSS samples (MB)."""

    documents: int
    seconds: float
    rss: tuple[float, ...] = ()


def timed(executor: str, overrides: list[str], inputs: str, output: str) -> Timed:
    """`executor` ("local" or "ray") over `inputs` in a spawned process: the config loaded and the run made
    inside the timing, `ray.init` outside it."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_timed_child, (executor, overrides, inputs, output))


def _timed_child(executor: str, overrides: list[str], inputs: str, output: str) -> Timed:
    root = Path(__file__).resolve().parents[1]
    if executor == "local":
        started = time.perf_counter()
        stats = runner.run(config_module.load(root / "config.yaml", [*overrides, f"run.output={output}"]), [inputs])
        return Timed(stats.documents, time.perf_counter() - started)
    import ray

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    try:
        sampler = RssSampler()
        before = rss_mb()
        sampler.start()
        started = time.perf_counter()
        stats = ray_executor.run(config_module.load(root / "config.yaml", [*overrides, f"run.output={output}"]),
                                 [inputs])
        seconds = time.perf_counter() - started
        return Timed(stats.documents, seconds, (before, *sampler.stop()))
    finally:
        ray.shutdown()


def once_started(whole: Timed, start: Timed) -> float:
    """Documents a second once started: what the whole run does beyond the short one."""
    return (whole.documents - start.documents) / max(1e-9, whole.seconds - start.seconds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("seeds", type=Path, help="seed articles for the corpus (e.g. fixtures/articles)")
    parser.add_argument("--docs", type=int, help="documents in the corpus (default 4000 unless --bytes)")
    parser.add_argument("--bytes", type=parse_size, dest="size", help="corpus size instead, e.g. 1G")
    parser.add_argument("--parts", type=int, default=16, help="JSONL files the corpus is split into")
    parser.add_argument("--jobs", type=int, default=1, help="workers for both runners")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config overrides")
    parser.add_argument("--ordered", action="store_true", help="Ray's ordered path (one file) instead of shards")
    parser.add_argument("--skip-local", action="store_true", help="only the Ray run (e.g. for the RSS figure)")
    parser.add_argument("--startup-docs", type=int, default=64,
                        help="documents of the short runs that measure start-up (0: no short runs)")
    args = parser.parse_args(argv)
    docs = args.docs if args.docs or args.size else 4000

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        count = write_parts(args.seeds, folder, docs, args.size, args.parts)
        megabytes = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        print(f"corpus: {count} documents, {megabytes:.0f} MB in {args.parts} JSONL files")
        short = Path(tmp) / "short"
        if args.startup_docs:
            short.mkdir()
            write_parts(args.seeds, short, args.startup_docs, None, 1)
        overrides = [TEXT_PIPELINE, *args.set, f"run.jobs={args.jobs}"]
        kind = "ordered file" if args.ordered else "shards"

        def out(executor: str, run: str) -> str:
            if executor == "ray" and not args.ordered:
                return str(Path(tmp) / f"{run}-shards") + "/"
            return str(Path(tmp) / f"{run}-{executor}.jsonl")

        names = {"local": f"local runner, --jobs {args.jobs}", "ray": f"ray executor, {args.jobs} actors, {kind}"}
        rates: dict[str, tuple[float, float | None]] = {}
        for executor in ("ray",) if args.skip_local else ("local", "ray"):
            whole = timed(executor, overrides, str(folder), out(executor, "whole"))
            line = f"{names[executor]}: {whole.documents} documents in {whole.seconds:.1f} s = " \
                   f"{whole.documents / whole.seconds:.0f} docs/s"
            steady = None
            if args.startup_docs:
                start = timed(executor, overrides, str(short), out(executor, "short"))
                steady = once_started(whole, start)
                line += f"; {start.documents} documents in {start.seconds:.1f} s, so {steady:.0f} docs/s once started"
            rates[executor] = (whole.documents / whole.seconds, steady)
            print(line)
            if whole.rss:
                print(f"driver RSS while Ray streams {megabytes:.0f} MB: {whole.rss[0]:.0f} MB before, peak "
                      f"{max(whole.rss):.0f} MB, last {whole.rss[-1]:.0f} MB")
        if "local" in rates:
            (local, local_steady), (ray_rate, ray_steady) = rates["local"], rates["ray"]
            print(f"ratio ray / local, start-up included: {ray_rate / local:.2f}x")
            if local_steady and ray_steady:
                print(f"ratio ray / local once started: {ray_steady / local_steady:.2f}x (target >= 0.85x)")


if __name__ == "__main__":
    main()
