"""Speed and memory of a pipeline, measured in one run: figures, ratios against targets, and a JSON file.

Works over whatever stages the config names (`pipeline.config.load`, `pipeline.runner`), on a corpus it
generates with `bench/corpus.py` from the seed articles you give it:

- per stage: documents per second (from the runner's stage stats) and the peak RSS of a fresh process
  running the pipeline up to that stage;
- the text path (all stages on 3 KB text articles, one process): documents per second per core;
- overhead: time the whole run spends in tamis code (reading, stage logic, writing) over the time spent in
  the third-party library calls it makes (ftfy, trafilatura, py3langid, ...), from a stack sampler;
- `jobs = 2` against `jobs = 1`: wall-time speed-up;
- RSS of a run streaming a large JSONL file, sampled over time: flat means the last quarter's samples
  are no higher than the second quarter's (the first is start-up);
- `tamis --help` wall time.

Translation is left out unless `--with-translate` (its speed is `bench/translate.py`'s business).

    python bench/speed.py fixtures/articles --docs 2000 --stream 300M --json out/bench/speed.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import corpus

import pipeline
import stages
from pipeline import config as config_module
from pipeline import runner
from pipeline.config import PipelineConfig

TARGETS = {"text_docs_per_second_per_core": 300.0, "overhead": 0.15, "jobs_speedup": 1.8, "help_seconds": 0.3,
           "stream_rss_growth": 1.10}
_TAMIS_DIRS = tuple(str(Path(m.__file__).parent) + os.sep for m in (pipeline, stages))
_THIRD_PARTY = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)


def load(config_path: str | None, overrides: list[str], with_translate: bool, **run: Any) -> PipelineConfig:
    """The config to measure; translation dropped unless asked for, `run` options replaced."""
    cfg = config_module.load(config_path, overrides)
    chosen = cfg.stages if with_translate else tuple(s for s in cfg.stages if s.stage != "translate")
    return dataclasses.replace(cfg, stages=chosen, run=dataclasses.replace(cfg.run, **run))


def _pipeline_run(cfg: PipelineConfig, inputs: list[str]) -> tuple[dict[str, Any], float, int]:
    """One local run: its stats, wall seconds, and this process's peak RSS in bytes."""
    started = time.perf_counter()
    stats = runner.run(cfg, inputs)
    seconds = time.perf_counter() - started
    return stats.to_json(), seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def start(cfg: PipelineConfig, inputs: list[str]) -> tuple[Any, Any]:
    """`_pipeline_run` in a new process (its peak RSS is its own; not a pool worker, which may not start
    the workers of a `jobs > 1` run): the process, and the end of a pipe its result comes from."""
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(cfg, inputs, send))
    process.start()
    send.close()
    return process, receive


def _child(cfg: PipelineConfig, inputs: list[str], send: Any) -> None:
    send.send(_pipeline_run(cfg, inputs))


def finish(process: Any, receive: Any) -> tuple[dict[str, Any], float, int]:
    try:
        result: tuple[dict[str, Any], float, int] = receive.recv()
    except EOFError:
        raise SystemExit(f"a benchmark run failed (exit code {process.join() or process.exitcode})") from None
    process.join()
    return result


def in_fresh_process(cfg: PipelineConfig, inputs: list[str]) -> tuple[dict[str, Any], float, int]:
    return finish(*start(cfg, inputs))


def per_stage(cfg: PipelineConfig, inputs: list[str]) -> list[dict[str, Any]]:
    """docs/s of each stage in a whole run, and the peak RSS of a process running up to that stage."""
    rows = []
    full_stats: dict[str, Any] = {}
    for k in range(1, len(cfg.stages) + 1):
        stats, _, rss = in_fresh_process(dataclasses.replace(cfg, stages=cfg.stages[:k]), inputs)
        full_stats = stats["stages"]
        rows.append({"stage": cfg.stages[k - 1].instance, "peak_rss_mb": round(rss / 2**20, 1)})
    for row in rows:
        s = full_stats.get(row["stage"], {})
        row.update({"in": s.get("in", 0), "seconds": s.get("seconds", 0.0),
                    "docs_per_second": s.get("docs_per_second")})
    return rows


class Sampler:
    """Samples the main thread's stack: which code is running, tamis's or a library's it called.

    The innermost frame that is either tamis code or a third-party package decides; standard-library
    frames count for whoever called them."""

    def __init__(self, interval: float = 0.0005) -> None:
        self.interval = interval
        self.counts: Counter[str] = Counter()
        self._target = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Sampler:
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(self.interval)  # lets the sampler in often enough to see short calls
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        sys.setswitchinterval(self._switch)

    def _loop(self) -> None:
        while not self._stop.is_set():
            frame = sys._current_frames().get(self._target)  # noqa: SLF001 - the standard way to sample
            self.counts[self.classify(frame)] += 1
            time.sleep(self.interval)

    @staticmethod
    def classify(frame: Any) -> str:
        while frame is not None:
            name = frame.f_code.co_filename
            if name.startswith(_TAMIS_DIRS):
                return "tamis"
            if any(part in name for part in _THIRD_PARTY):
                return "library"
            frame = frame.f_back
        return "other"


def overhead(cfg: PipelineConfig, inputs: list[str]) -> dict[str, Any]:
    with Sampler() as sampler:
        _, seconds, _ = _pipeline_run(cfg, inputs)
    tamis, library = sampler.counts["tamis"], sampler.counts["library"]
    return {"seconds": round(seconds, 3), "samples": dict(sampler.counts),
            "overhead": round(tamis / library, 3) if library else None}


def stream_rss(cfg: PipelineConfig, big: Path, interval: float = 0.2) -> dict[str, Any]:
    """Run the pipeline over `big` with one worker in a fresh process and sample its RSS until it ends."""
    process, receive = start(cfg, [str(big)])
    samples: list[float] = []
    while process.is_alive() and not receive.poll():
        rss = _rss_mb(process.pid)
        if rss:  # none while the process is still being created or already gone
            samples.append(rss)
        time.sleep(interval)
    stats, seconds, _ = finish(process, receive)
    # The first quarter is start-up (imports, models); steady streaming is compared from there on.
    quarter = max(1, len(samples) // 4)
    early, late = max(samples[quarter:2 * quarter] or samples), max(samples[-quarter:])
    return {"bytes": big.stat().st_size, "documents": stats["documents"], "seconds": round(seconds, 1),
            "samples": len(samples), "rss_mb_second_quarter_max": early, "rss_mb_last_quarter_max": late,
            "rss_mb_peak": max(samples), "growth": round(late / early, 3)}


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def help_seconds(repeat: int = 5) -> float:
    script = Path(sys.executable).with_name("tamis")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([*command, "--help"], stdout=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("seeds", type=Path, help="seed articles for bench/corpus.py (e.g. fixtures/articles)")
    parser.add_argument("-c", "--config", default="config.yaml", help="pipeline YAML (default: config.yaml)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="as for tamis run")
    parser.add_argument("--with-translate", action="store_true", help="keep the translate stage")
    parser.add_argument("--docs", type=int, default=2000, help="corpus size (default 2000)")
    parser.add_argument("--stream", type=corpus.parse_size, default=corpus.parse_size("200M"),
                        help="size of the JSONL streamed for the RSS check (default 200M; 0 skips it)")
    parser.add_argument("--workdir", type=Path, help="where the corpus goes (default: a temporary directory)")
    parser.add_argument("--json", type=Path, default=Path("out/bench/speed.json"), help="figures as JSON")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tamis-bench-"))
    try:
        results = measure(args, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report(results))
    print(f"\nwrote {args.json}")


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    sentences = corpus.seed_sentences(args.seeds)
    checksum = corpus.write_directory(corpus.articles(sentences, 0, 0.2), workdir / "corpus", args.docs)
    every, text = [str(workdir / "corpus")], [str(workdir / "corpus" / "text")]
    out = str(workdir / "out" / "clean.jsonl")

    def cfg(**run: Any) -> PipelineConfig:
        return load(args.config, args.set, args.with_translate, output=out, **run)

    results: dict[str, Any] = {"corpus": {"documents": args.docs, "sha256": checksum},
                               "stages": [s.instance for s in cfg().stages], "targets": TARGETS}
    print(f"corpus: {args.docs} documents ({checksum[:12]}); stages: {', '.join(results['stages'])}", flush=True)
    results["per_stage"] = per_stage(cfg(jobs=1), every)
    text_stats, text_seconds, _ = in_fresh_process(cfg(jobs=1), text)
    results["text_path"] = {"documents": text_stats["documents"], "seconds": round(text_seconds, 3),
                            "docs_per_second_per_core": round(text_stats["documents"] / text_seconds, 1),
                            "bytes_per_document": round(sum(p.stat().st_size for p in Path(text[0]).iterdir())
                                                        / text_stats["documents"])}
    results["overhead"] = overhead(cfg(jobs=1), every)
    one = in_fresh_process(cfg(jobs=1), every)[1]
    two = in_fresh_process(cfg(jobs=2), every)[1]
    results["jobs"] = {"jobs_1_seconds": round(one, 3), "jobs_2_seconds": round(two, 3), "speedup": round(one / two, 2)}
    if args.stream:
        big = workdir / "big.jsonl"
        big_sum = corpus.write_jsonl(corpus.articles(sentences, 1, 0.2), big, None, args.stream)
        stream_cfg = load(args.config, args.set, args.with_translate, output=os.devnull, jobs=1,
                          stats=str(workdir / "stream-stats.json"))
        results["stream"] = {**stream_rss(stream_cfg, big), "sha256": big_sum}
        big.unlink()
    results["help_seconds"] = help_seconds()
    return results


def report(r: dict[str, Any]) -> str:
    lines = [f"{'stage':<14}{'docs/s':>10}{'peak RSS MB':>14}"]
    for row in r["per_stage"]:
        rate = f"{row['docs_per_second']:.0f}" if row["docs_per_second"] else "-"
        lines.append(f"{row['stage']:<14}{rate:>10}{row['peak_rss_mb']:>14.1f}")
    t = r["targets"]

    def check(value: float | None, target: float, higher_is_better: bool) -> str:
        if value is None:
            return "n/a"
        ok = value >= target if higher_is_better else value <= target
        return f"{'ok' if ok else 'MISSED'} (target {'>=' if higher_is_better else '<='} {target:g})"

    text, over, jobs = r["text_path"], r["overhead"], r["jobs"]
    lines += [
        "",
        f"text path: {text['docs_per_second_per_core']} docs/s per core on {text['bytes_per_document']} B articles "
        f"{check(text['docs_per_second_per_core'], t['text_docs_per_second_per_core'], True)}",
        f"overhead over library calls: {over['overhead']} (samples {over['samples']}) "
        f"{check(over['overhead'], t['overhead'], False)}",
        f"jobs 2 vs 1: {jobs['speedup']}x ({jobs['jobs_1_seconds']} s vs {jobs['jobs_2_seconds']} s) "
        f"{check(jobs['speedup'], t['jobs_speedup'], True)}",
    ]
    if "stream" in r:
        s = r["stream"]
        lines.append(f"streaming {s['bytes'] / 2**20:.0f} MB ({s['documents']} documents, {s['seconds']} s): RSS "
                     f"{s['rss_mb_second_quarter_max']} → {s['rss_mb_last_quarter_max']} MB, growth {s['growth']} "
                     f"{check(s['growth'], t['stream_rss_growth'], False)}")
    lines.append(f"tamis --help: {r['help_seconds']} s {check(r['help_seconds'], t['help_seconds'], False)}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
