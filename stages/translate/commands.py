"""`tamis models`: install, list, remove and download the Argos packages the translate stage runs.

Registered in the `tamis.commands` entry-point group, so the CLI (`pipeline.cli`) adds it without knowing
the stage. The models directory is the one a run uses: `--models-dir`, else the config's
`translate.models_dir`, else `ARGOS_PACKAGES_DIR`, else Argos's default (`stages.translate.models`).
"""

from __future__ import annotations

import argparse
from typing import Any

from pipeline.errors import TamisError

EXIT_OK = 0


def register(sub: Any) -> None:
    """Add `models` and its actions to the CLI's subparsers."""
    p = sub.add_parser("models", parents=[_where()],
                       help="manage offline translation models (Argos Translate packages)")
    p.set_defaults(config=None, models_dir=None, set=[])
    actions = p.add_subparsers(metavar="ACTION", required=True)
    m = actions.add_parser("install", parents=[_where()], help="install a .argosmodel file")
    m.add_argument("path", help="an Argos package file (.argosmodel)")
    m.set_defaults(command=run, action="install")
    m = actions.add_parser("list", parents=[_where()], help="print the models directory and the installed models")
    m.set_defaults(command=run, action="list")
    m = actions.add_parser("remove", parents=[_where()], help="remove an installed model, by code (e.g. de_en)")
    m.add_argument("code", help="a package code (de_en) or directory name")
    m.set_defaults(command=run, action="remove")
    m = actions.add_parser("download", parents=[_where()],
                           help="download and install a model from the Argos index (needs internet)")
    m.add_argument("source", help="source language code")
    m.add_argument("target", help="target language code")
    m.add_argument("--index", help="the package index URL (default: ARGOS_PACKAGE_INDEX + index.json, as Argos)")
    m.set_defaults(command=run, action="download")


def _where() -> argparse.ArgumentParser:
    """`-c` and `--models-dir`, accepted before and after the ACTION (a new parser each time: parents share
    their actions, and `set_defaults` on one would change the others)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-c", "--config", default=argparse.SUPPRESS,
                        help="pipeline YAML: its translate stage's models_dir is the models directory")
    common.add_argument("--models-dir", default=argparse.SUPPRESS,
                        help="the models directory (default: the config's translate.models_dir, else "
                             "ARGOS_PACKAGES_DIR, else Argos's own)")
    return common


def run(args: argparse.Namespace) -> int:
    from stages.translate import models

    directory = args.models_dir or _configured_dir(args)
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


def _configured_dir(args: argparse.Namespace) -> str | None:
    """The `models_dir` of the config's translate stage, resolved as `tamis run` resolves the config."""
    from pipeline.cli import load_config

    dirs = {spec.config.models_dir for spec in load_config(args).stages if spec.stage == "translate"}
    if len(dirs) > 1:
        raise TamisError(f"the config's translate stages use different models directories "
                         f"({', '.join(sorted(str(d) for d in dirs))}); choose one with --models-dir")
    return dirs.pop() if dirs else None
