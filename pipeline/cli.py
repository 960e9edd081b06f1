"""The `tamis` command: a thin layer over `pipeline.*`.

Exit codes: 0 all documents ok or filtered, 1 some documents failed, 2 usage or configuration error.
Only the standard library is imported at start-up, so `tamis --help` is instant.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.errors import TamisError

EXIT_OK, EXIT_DOCUMENTS_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_CONFIG = "config.yaml"


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
    except KeyboardInterrupt:
        print("tamis: interrupted; the output holds whole records only (`tamis run --resume` completes it)",
              file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tamis", description="Clean scraped multilingual news articles.")
    sub = parser.add_subparsers(metavar="COMMAND")

    def add_config(p: argparse.ArgumentParser) -> None:
        p.add_argument("-c", "--config",
                       help=f"pipeline YAML (default: ./{DEFAULT_CONFIG} if present, else built-in defaults)")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override an option: INSTANCE.OPTION=VALUE or run.OPTION=VALUE (repeatable)")

    p = sub.add_parser("run", help="clean documents: files, directories, JSONL, or - for stdin")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    add_config(p)
    p.add_argument("-o", "--output", help="JSONL file, or directory for --format txt/md (default: stdout)")
    p.add_argument("--format", choices=["jsonl", "txt", "md"])
    p.add_argument("-j", "--jobs", type=int, help="worker processes (default: all cores)")
    p.add_argument("--executor", choices=["local", "ray"])
    p.add_argument("--fail-fast", action="store_true", help="stop at the first document that fails")
    p.add_argument("--resume", action="store_true", help="complete an interrupted run's output")
    p.set_defaults(command=cmd_run)

    p = sub.add_parser("validate", help="check a config without reading any document")
    add_config(p)
    p.set_defaults(command=cmd_validate)

    p = sub.add_parser("stages", help="list stages with their options, defaults and docs")
    p.add_argument("name", nargs="?", help="show one stage")
    p.set_defaults(command=cmd_stages)

    p = sub.add_parser("explain", help="show what each stage did to documents")
    p.add_argument("input", help="an input file, or a JSONL written by tamis run")
    add_config(p)
    p.add_argument("--html", metavar="REPORT", help="write a self-contained HTML audit report")
    p.set_defaults(command=cmd_explain)

    def where() -> argparse.ArgumentParser:
        """`-c` and `--models-dir`, accepted before and after the ACTION (a new parser each time: parents
        share their actions, and `set_defaults` on one would change the others)."""
        common = argparse.ArgumentParser(add_help=False)
        common.add_argument("-c", "--config", default=argparse.SUPPRESS,
                            help="pipeline YAML: its translate stage's models_dir is the models directory")
        common.add_argument("--models-dir", default=argparse.SUPPRESS,
                            help="the models directory (default: the config's translate.models_dir, else "
                                 "ARGOS_PACKAGES_DIR, else Argos's own)")
        return common

    p = sub.add_parser("models", parents=[where()],
                       help="manage offline translation models (Argos Translate packages)")
    p.set_defaults(config=None, models_dir=None, set=[])
    models = p.add_subparsers(metavar="ACTION", required=True)
    m = models.add_parser("install", parents=[where()], help="install a .argosmodel file")
    m.add_argument("path", help="an Argos package file (.argosmodel)")
    m.set_defaults(command=cmd_models, action="install")
    m = models.add_parser("list", parents=[where()], help="print the models directory and the installed models")
    m.set_defaults(command=cmd_models, action="list")
    m = models.add_parser("remove", parents=[where()], help="remove an installed model, by code (e.g. de_en)")
    m.add_argument("code", help="a package code (de_en) or directory name")
    m.set_defaults(command=cmd_models, action="remove")
    m = models.add_parser("download", parents=[where()],
                          help="download and install a model from the Argos index (needs internet)")
    m.add_argument("source", help="source language code")
    m.add_argument("target", help="target language code")
    m.add_argument("--index", help="the package index URL (default: ARGOS_PACKAGE_INDEX + index.json, as Argos)")
    m.set_defaults(command=cmd_models, action="download")
    return parser


def _load(args: argparse.Namespace, **run_overrides: Any) -> Any:
    from pipeline import config

    path = args.config or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)
    overrides = list(args.set) + [f"run.{k}={json.dumps(v)}" for k, v in run_overrides.items() if v is not None]
    if path is None:
        from stages import BUILTIN

        overrides.insert(0, f"pipeline={json.dumps(list(BUILTIN))}")
    return config.load(path, overrides)


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline import runner

    # SIGTERM ends the run like Ctrl-C: the batch being written is finished, so the output holds whole records.
    signal.signal(signal.SIGTERM, _interrupt)
    cfg = _load(args, output=args.output, format=args.format, jobs=args.jobs, executor=args.executor,
                fail_fast=True if args.fail_fast else None)
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
    cfg = _load(args)
    names = " → ".join(s.instance if s.instance == s.stage else f"{s.instance} ({s.stage})" for s in cfg.stages)
    print(f"{cfg.source}: ok: {names}")
    return EXIT_OK


def cmd_stages(args: argparse.Namespace) -> int:
    from pipeline import describe

    print(describe.stages(args.name))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from pipeline import describe

    docs = describe.explain_input(args.input, _load(args))
    if args.html:
        from pipeline import report

        Path(args.html).write_text(report.render(docs), encoding="utf-8")
        print(f"wrote {args.html}: {len(docs)} documents", file=sys.stderr)
    else:
        print(describe.explain(docs))
    return EXIT_DOCUMENTS_FAILED if any(d.status == "error" for d in docs) else EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from stages.translate import models

    directory = args.models_dir or _translate_models_dir(args)
    if args.action == "install":
        print(models.install(args.path, directory=directory))
    elif args.action == "list":
        for line in models.list_models(directory):
            print(line)
    elif args.action == "remove":
        print(models.remove(args.code, directory=directory))
    else:
        print(models.download(args.source, args.target, directory=directory, index=args.index))
    return EXIT_OK


def _translate_models_dir(args: argparse.Namespace) -> str | None:
    """The `models_dir` of the config's translate stage, resolved as `tamis run` resolves the config."""
    dirs = {spec.config.models_dir for spec in _load(args).stages if spec.stage == "translate"}
    if len(dirs) > 1:
        raise TamisError(f"the config's translate stages use different models directories "
                         f"({', '.join(sorted(str(d) for d in dirs))}); choose one with --models-dir")
    return dirs.pop() if dirs else None


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
