"""Speed and memory of a pipeline, measured in one run: figures, ratios against targets, and a JSON file.

Works over whatever stages the config names (`pipeline.config.load`, `pipeline.runner`), on a corpus it
generates with `bench/corpus.py` from the seed articles you give it:

- per stage: documents per second (from the runner's stage stats) and the peak RSS of a fresh process
  running the pipeline up to that stage;
- the text path (all stages on 3 KB text articles, one process): documents per second per core, once
  started (a run over one article measures start-up, which is taken out), and with start-up;
- overhead: the whole run (reading, every stage, writing) against the third-party calls it makes
  (trafilatura, charset_normalizer, ftfy; py3langid's `rank` for the texts the language detector scores),
  recorded during a run and replayed directly; both sides warm;
- `jobs = 2` against `jobs = 1`: wall-time speed-up;
- RSS of a run streaming a large JSONL file, sampled over time: flat means the last quarter's samples
  are no higher than the second quarter's (the first is start-up);
- `tamis --help` wall time.

Translation is left out unless `--with-translate` (its speed is `bench/translate.py`'s business).

    python bench/speed.py fixtures/articles --docs 8000 --stream 100M --json out/bench/speed.json

Worker start-up (about a second each) weighs on `--jobs 2` in short runs: use 8,000 documents or more.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import corpus

from pipeline import config as config_module
from pipeline import runner
from pipeline.config import PipelineConfig
from stages import langid_batch

PARTS = ("per_stage", "text_path", "overhead", "jobs", "stream", "help")
TARGETS = {"text_docs_per_second_per_core": 600.0, "overhead": 0.15, "jobs_speedup": 1.8, "help_seconds": 0.3,
           "stream_rss_growth": 1.10}


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


LIBRARY_CALLS = (("trafilatura", "bare_extraction"), ("charset_normalizer", "from_bytes"), ("ftfy", "fix_and_explain"))


Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def record_calls(cfg: PipelineConfig, inputs: list[str]) -> list[Call]:
    """Run the pipeline once and return the third-party calls it made, with their arguments. Language
    identification is recorded as the texts given to the detector, to replay with py3langid's own
    `rank` (the stage computes py3langid's model batched with numpy instead of calling it)."""
    calls: list[Call] = []
    patched: list[tuple[Any, str, Any]] = []

    def recording(function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append((function, args, kwargs))
            return function(*args, **kwargs)
        return wrapper

    for module_name, attribute in LIBRARY_CALLS:
        module = importlib.import_module(module_name)
        patched.append((module, attribute, getattr(module, attribute)))
        setattr(module, attribute, recording(getattr(module, attribute)))
    identifier = langid_batch._py3langid_model()  # noqa: SLF001 - the unrestricted py3langid model
    table = langid_batch.Py3langid.table

    def recording_detect(self: Any, texts: Any, other_share: float = 0.0) -> Any:
        calls.append((_rank_each, (identifier, list(texts)), {}))
        return table(self, texts, other_share)

    patched.append((langid_batch.Py3langid, "table", table))
    langid_batch.Py3langid.table = recording_detect  # type: ignore[method-assign]
    try:
        runner.run(cfg, inputs)
    finally:
        for owner, attribute, original in patched:
            setattr(owner, attribute, original)
    return calls


def _rank_each(identifier: Any, texts: list[str]) -> None:
    for text in texts:
        identifier.rank(text)


def overhead(cfg: PipelineConfig, inputs: list[str]) -> dict[str, Any]:
    """The whole run (reading, every stage, writing) against the same library calls made directly.

    Both sides are warm: the recording run has imported everything and loaded the models, so neither
    pays start-up. Each side runs twice; the faster run counts."""
    calls = record_calls(cfg, inputs)
    tamis = min(_pipeline_run(cfg, inputs)[1] for _ in range(2))
    library = min((_replay(calls) for _ in range(2)), key=lambda seconds: sum(seconds.values()))
    total = sum(library.values())
    counts: Counter[str] = Counter()
    for function, args, _ in calls:  # a detector call scores many texts: count the texts
        counts[_name(function)] += len(args[1]) if function is _rank_each else 1
    return {"seconds": round(tamis, 3), "library_seconds": round(total, 3),
            "library": {name: round(seconds, 3) for name, seconds in library.items()},
            "calls": dict(counts),
            "overhead": round(tamis / total - 1, 3)}


def _replay(calls: list[Call]) -> Counter[str]:
    """Seconds spent in each library, calling it directly with the recorded arguments."""
    seconds: Counter[str] = Counter()
    for function, args, kwargs in calls:
        started = time.perf_counter()
        function(*args, **kwargs)
        seconds[_name(function)] += time.perf_counter() - started
    return seconds


def _name(function: Callable[..., Any]) -> str:
    return "py3langid.rank" if function is _rank_each else f"{function.__module__.split('.')[0]}.{function.__name__}"


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
    parser.add_argument("--docs", type=int, default=8000, help="corpus size (default 8000)")
    parser.add_argument("--stream", type=corpus.parse_size, default=corpus.parse_size("200M"),
                        help="size of the JSONL streamed for the RSS check (default 200M; 0 skips it)")
    parser.add_argument("--workdir", type=Path, help="where the corpus goes (default: a temporary directory)")
    parser.add_argument("--json", type=Path, default=Path("out/bench/speed.json"), help="figures as JSON")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"what to measure, comma-separated (default all: {','.join(PARTS)}); on a shared "
                             "machine, text_path alone takes a minute where all take a quarter of an hour")
    args = parser.parse_args(argv)
    args.parts = set(args.parts.split(","))
    if args.parts - set(PARTS):
        parser.error(f"--parts: unknown {', '.join(sorted(args.parts - set(PARTS)))}; choose among {', '.join(PARTS)}")
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
    if "per_stage" in args.parts:
        results["per_stage"] = per_stage(cfg(jobs=1), every)
    if "text_path" in args.parts:
        results["text_path"] = text_path(cfg(jobs=1), Path(text[0]), workdir / "one")
    if "overhead" in args.parts:
        results["overhead"] = overhead(cfg(jobs=1), every)
    if "jobs" in args.parts:
        one = in_fresh_process(cfg(jobs=1), every)[1]
        two = in_fresh_process(cfg(jobs=2), every)[1]
        results["jobs"] = {"jobs_1_seconds": round(one, 3), "jobs_2_seconds": round(two, 3),
                           "speedup": round(one / two, 2)}
    if args.stream and "stream" in args.parts:
        big = workdir / "big.jsonl"
        big_sum = corpus.write_jsonl(corpus.articles(sentences, 1, 0.2), big, None, args.stream)
        stream_cfg = load(args.config, args.set, args.with_translate, output=os.devnull, jobs=1,
                          stats=str(workdir / "stream-stats.json"))
        results["stream"] = {**stream_rss(stream_cfg, big), "sha256": big_sum}
        big.unlink()
    if "help" in args.parts:
        results["help_seconds"] = help_seconds()
    return results


def text_path(cfg: PipelineConfig, articles: Path, scratch: Path) -> dict[str, Any]:
    """docs/s per core on the text articles, one process. Start-up (imports, models) is a fixed cost,
    measured as a run over one article and taken out: `steady` is the rate a long run approaches."""
    files = sorted(articles.iterdir())
    scratch.mkdir()
    shutil.copy(files[0], scratch)
    startup = in_fresh_process(cfg, [str(scratch)])[1]
    stats, seconds, _ = in_fresh_process(cfg, [str(articles)])
    documents = stats["documents"]
    return {"documents": documents, "seconds": round(seconds, 3), "startup_seconds": round(startup, 3),
            "docs_per_second_per_core": round((documents - 1) / (seconds - startup), 1),
            "docs_per_second_with_startup": round(documents / seconds, 1),
            "bytes_per_document": round(sum(p.stat().st_size for p in files) / documents)}


def report(r: dict[str, Any]) -> str:
    lines = []
    if "per_stage" in r:
        lines.append(f"{'stage':<14}{'docs/s':>10}{'peak RSS MB':>14}")
        for row in r["per_stage"]:
            rate = f"{row['docs_per_second']:.0f}" if row["docs_per_second"] else "-"
            lines.append(f"{row['stage']:<14}{rate:>10}{row['peak_rss_mb']:>14.1f}")
        lines.append("")
    t = r["targets"]

    def check(value: float | None, target: float, higher_is_better: bool) -> str:
        if value is None:
            return "n/a"
        ok = value >= target if higher_is_better else value <= target
        return f"{'ok' if ok else 'MISSED'} (target {'>=' if higher_is_better else '<='} {target:g})"

    if "text_path" in r:
        text = r["text_path"]
        lines.append(f"text path: {text['docs_per_second_per_core']} docs/s per core on {text['bytes_per_document']} "
                     f"B articles after {text['startup_seconds']} s of start-up "
                     f"({text['docs_per_second_with_startup']} docs/s over the {text['documents']} articles with it) "
                     f"{check(text['docs_per_second_per_core'], t['text_docs_per_second_per_core'], True)}")
    if "overhead" in r:
        over = r["overhead"]
        lines.append(f"overhead over the raw library calls: {over['overhead']:+.1%} ({over['seconds']} s vs "
                     f"{over['library_seconds']} s in {over['library']}) "
                     f"{check(over['overhead'], t['overhead'], False)}")
    if "jobs" in r:
        jobs = r["jobs"]
        lines.append(f"jobs 2 vs 1: {jobs['speedup']}x ({jobs['jobs_1_seconds']} s vs {jobs['jobs_2_seconds']} s) "
                     f"{check(jobs['speedup'], t['jobs_speedup'], True)}")
    if "stream" in r:
        s = r["stream"]
        lines.append(f"streaming {s['bytes'] / 2**20:.0f} MB ({s['documents']} documents, {s['seconds']} s): RSS "
                     f"{s['rss_mb_second_quarter_max']} → {s['rss_mb_last_quarter_max']} MB, growth {s['growth']} "
                     f"{check(s['growth'], t['stream_rss_growth'], False)}")
    if "help_seconds" in r:
        lines.append(f"tamis --help: {r['help_seconds']} s {check(r['help_seconds'], t['help_seconds'], False)}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
