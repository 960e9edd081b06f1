"""The Ray executor against the local runner, same pipeline, same number of workers, in one run.

Writes a deterministic corpus (`bench/corpus.py`) as JSONL parts, cleans it with the local runner
(`--jobs J`, one ordered file) and with `--executor ray` into a directory (Ray Data reads, cleans and writes
the shards; `run.jobs = J` actors), or with `--ordered` into one file (the driver reads and writes, Ray actors
clean), and prints both rates, their ratio, and the driver's resident memory while Ray streams the input
(sampled from /proc every 0.1 s: it should stay flat whatever the input size).

    python bench/distributed.py fixtures/articles --docs 4000 --jobs 1
    python bench/distributed.py fixtures/articles --docs 4000 --jobs 1 --ordered
    python bench/distributed.py fixtures/articles --bytes 1G --jobs 1 --skip-local --set 'pipeline=[decode]'  # RSS

Ray gets every CPU of the machine (`ray.init(num_cpus=os.cpu_count())`): the pool leaves one to its read
and write tasks, as it does on a cluster, so J should be at most the CPU count minus one.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
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
    args = parser.parse_args(argv)
    docs = args.docs if args.docs or args.size else 4000

    import ray

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        count = write_parts(args.seeds, folder, docs, args.size, args.parts)
        megabytes = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        print(f"corpus: {count} documents, {megabytes:.0f} MB in {args.parts} JSONL files")
        root = Path(__file__).resolve().parents[1]
        overrides = [TEXT_PIPELINE, *args.set, f"run.jobs={args.jobs}"]

        def load(output: str) -> config_module.PipelineConfig:
            return config_module.load(root / "config.yaml", [*overrides, f"run.output={output}"])

        local_rate = None
        if not args.skip_local:
            started = time.perf_counter()
            local = runner.run(load(str(Path(tmp) / "local.jsonl")), [str(folder)])
            local_seconds = time.perf_counter() - started
            local_rate = local.documents / local_seconds
            print(f"local runner, --jobs {args.jobs}: {local.documents} documents in {local_seconds:.1f} s "
                  f"= {local_rate:.0f} docs/s")

        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        try:
            sampler = RssSampler()
            before = rss_mb()
            sampler.start()
            started = time.perf_counter()
            output = str(Path(tmp) / "ray.jsonl") if args.ordered else str(Path(tmp) / "shards") + "/"
            distributed = ray_executor.run(load(output), [str(folder)])
            ray_seconds = time.perf_counter() - started
            samples = sampler.stop() or [before]
        finally:
            ray.shutdown()
        ray_rate = distributed.documents / ray_seconds
        kind = "ordered file" if args.ordered else "shards"
        print(f"ray executor, {args.jobs} actors, {kind}: {distributed.documents} documents in {ray_seconds:.1f} s "
              f"= {ray_rate:.0f} docs/s")
        if local_rate:
            print(f"ratio ray / local: {ray_rate / local_rate:.2f}x (target >= 0.85x)")
        print(f"driver RSS while Ray streams {megabytes:.0f} MB: {before:.0f} MB before, peak {max(samples):.0f} MB, "
              f"last {samples[-1]:.0f} MB")


if __name__ == "__main__":
    main()
