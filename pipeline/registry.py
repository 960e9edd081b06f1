"""Stage names → stage classes, resolved lazily.

Built-in stages are listed as `"module:Class"` strings in `stages.BUILTIN`; third-party stages come from
the `tamis.stages` entry-point group. Nothing is imported until a name is resolved, so listing names or
printing help costs no heavy import.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pipeline.errors import RegistryError

ENTRY_POINT_GROUP = "tamis.stages"


@cache
def available() -> dict[str, str]:
    """Every known stage name and the `module:Class` that implements it."""
    from stages import BUILTIN

    names = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in names and names[ep.name] != ep.value:
            raise RegistryError(
                f"stage name {ep.name!r} is registered twice: {names[ep.name]} and {ep.value} "
                f"(entry point group {ENTRY_POINT_GROUP!r}, distribution {ep.dist.name if ep.dist else '?'})"
            )
        names[ep.name] = ep.value
    return names


def get(name: str) -> type[Any]:
    """The stage class registered as `name`, imported now."""
    names = available()
    if name not in names:
        raise RegistryError(f"unknown stage {name!r}; available: {', '.join(sorted(names))}")
    module_name, _, attr = names[name].partition(":")
    cls: type[Any] = getattr(importlib.import_module(module_name), attr)
    if getattr(cls, "name", None) != name:
        raise RegistryError(f"{names[name]} is registered as {name!r} but its name is {getattr(cls, 'name', None)!r}")
    return cls
