"""The `tamis` command: a thin layer over `pipeline.*`.

Exit codes: 0 all documents ok or filtered, 1 some documents failed (or the first one, with --fail-fast),
2 usage or configuration error (nothing processed, the output left as it was), 3 the output could not be
written (it holds whole records; --resume completes it), 130 interrupted, 141 standard output closed (as
`tamis run ... | head`: a quiet exit). Only the standard library is imported at start-up, so `tamis --help`
is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pipeline.errors import DocumentFailed, TamisError, WriteError

# Packages add subcommands here: a `register(subparsers)` that adds its parser (translate adds `models`).
COMMANDS_GROUP = "tamis.commands"
EXIT_OK, EXIT_DOCUMENTS_FAILED, EXIT_USAGE, EXIT_WRITE_FAILED, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 3, 130, 141


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.command(args))
    except TamisError as exc:
        print(f"tamis: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DocumentFailed as exc:
        print(f"tamis: stopped at the first failure (--fail-fast): {exc}", file=sys.stderr)
        return EXIT_DOCUMENTS_FAILED
    except WriteError as exc:
        print(f"tamis: {exc}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    except BrokenPipeError:
        # The reader went away (`| head`): leave quietly, and let nothing flush to the closed pipe at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("tamis: interrupted; the output holds whole records only (`tamis run --resume` completes it)",
              file=sys.stderr)
        return EXIT_INTERRUPTED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tamis", description="Clean scraped multilingual news articles.")
    parser.add_argument("--version", action="version", version=f"tamis {_version()}")
    sub = parser.add_subparsers(metavar="COMMAND")

    def add_config(p: argparse.ArgumentParser) -> None:
        p.add_argument("-c", "--config", metavar="FILE",
                       help="pipeline YAML over the built-in defaults; it may be partial (default: none is read, "
                            "not even ./config.yaml; `tamis stages --yaml` prints the defaults)")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override an option, over the config: INSTANCE.OPTION=VALUE, "
                            "INSTANCE.OPTION.KEY=VALUE or run.OPTION=VALUE; VALUE is YAML (repeatable)")

    p = sub.add_parser("run", help="clean documents: files, directories, JSONL, or - for stdin")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="a file (HTML, text or JSONL), a directory (read recursively), or - for stdin")
    add_config(p)
    p.add_argument("-o", "--output", help="JSONL file; for --format txt/md a directory, or a .md/.txt file for one "
                                          "document (default: stdout)")
    p.add_argument("--format", choices=["jsonl", "txt", "md", "parquet"])
    p.add_argument("--stats", metavar="PATH", help="write the run's stats there (default: beside the output, "
                                                   "OUT.stats.json or DIR/stats.json; none for stdout)")
    p.add_argument("-j", "--jobs", type=int, help="worker processes (default: all cores)")
    p.add_argument("--executor", choices=["local", "ray"])
    p.add_argument("--ordered", action="store_true",
                   help="with --executor ray and -o DIR/: the local runner's output in input order, written by the "
                        "driver, the slower path (default there: shards in no order; a file output is always ordered)")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first document that fails")
    p.add_argument("--resume", action="store_true",
                   help="complete an interrupted run's output (refused if the inputs or the config changed)")
    p.set_defaults(command=cmd_run)

    p = sub.add_parser("validate", help="check a config as run would, stages set up, without reading any document")
    add_config(p)
    p.set_defaults(command=cmd_validate)

    p = sub.add_parser("stages", help="list stages with their options, defaults and docs")
    p.add_argument("name", nargs="?", help="show one stage (default: every registered stage)")
    p.add_argument("--yaml", action="store_true",
                   help="print the built-in defaults as a commented config instead (the repository's config.yaml)")
    p.set_defaults(command=cmd_stages)

    p = sub.add_parser("explain", help="show what each stage did to documents")
    p.add_argument("input", help="an input file, or a JSONL written by tamis run")
    add_config(p)
    p.add_argument("--html", metavar="REPORT", help="write a self-contained HTML audit report")
    p.set_defaults(command=cmd_explain)

    for command in sorted(entry_points(group=COMMANDS_GROUP), key=lambda ep: ep.name):
        command.load()(sub)
    return parser


def load_config(args: argparse.Namespace, **run_overrides: Any) -> Any:
    """The built-in defaults, under `-c FILE` if given (no file is read otherwise), under `--set` and the
    command's own options."""
    from pipeline import config

    overrides = list(args.set) + [f"run.{k}={json.dumps(v)}" for k, v in run_overrides.items() if v is not None]
    return config.load(args.config, overrides)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tamis")
    except PackageNotFoundError:
        return "unknown (not installed)"


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline import runner

    # SIGTERM ends the run like Ctrl-C: the batch being written is finished, so the output holds whole records.
    signal.signal(signal.SIGTERM, _interrupt)
    cfg = load_config(args, output=args.output, format=args.format, jobs=args.jobs, executor=args.executor,
                stats=args.stats, fail_fast=True if args.fail_fast else None,
                ordered=True if args.ordered else None)
    progress = _Progress() if sys.stderr.isatty() else None
    run: Callable[..., Any] = runner.run
    if cfg.run.executor == "ray":
        from pipeline import ray_executor

        run = ray_executor.run
    stats = run(cfg, args.inputs, resume=args.resume, on_batch=progress.update if progress else None)
    if progress is not None:
        progress.done()
        print(stats.summary(), file=sys.stderr)
    return EXIT_DOCUMENTS_FAILED if stats.errors else EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from pipeline import config

    cfg = load_config(args)
    config.check(cfg)
    names = " → ".join(s.instance if s.instance == s.stage else f"{s.instance} ({s.stage})" for s in cfg.stages)
    print(f"{cfg.source}: ok: {names}")
    return EXIT_OK


def cmd_stages(args: argparse.Namespace) -> int:
    from pipeline import describe

    if args.yaml:
        sys.stdout.write(describe.reference_config())
    else:
        print(describe.stages(args.name))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from pipeline import describe

    docs = describe.explain_input(args.input, load_config(args))
    if args.html:
        from pipeline import report

        Path(args.html).write_text(report.render(docs), encoding="utf-8")
        print(f"wrote {args.html}: {len(docs)} documents", file=sys.stderr)
    else:
        print(describe.explain(docs))
    return EXIT_DOCUMENTS_FAILED if any(d.status == "error" for d in docs) else EXIT_OK


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class _Progress:
    """A one-line counter on stderr, shown only on a terminal."""

    def update(self, stats: Any) -> None:
        rate = stats.documents / stats.seconds if stats.seconds else 0.0
        sys.stderr.write(f"\r{stats.documents} documents ({stats.errors} errors) {rate:.0f}/s")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\r\033[K")
