"""Stage names → stage classes, resolved lazily, from the `tamis.stages` entry-point group.

The built-in stages are entry points of tamis's own distribution, third-party stages of theirs: one
mechanism for both. Nothing is imported until a name is resolved, so listing names or printing help costs
no heavy import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import _lru_cache_wrapper, cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pipeline.errors import RegistryError

ENTRY_POINT_GROUP = "tamis.stages"
_LISTS: list[_lru_cache_wrapper[dict[str, str]]] = []


def cached(lister: Callable[[], dict[str, str]]) -> _lru_cache_wrapper[dict[str, str]]:
    """`functools.cache` for a function that lists what an entry-point group registers, kept where
    `forget()` finds it."""
    wrapper = cache(lister)
    _LISTS.append(wrapper)
    return wrapper


def forget() -> None:
    """Clear every cached list of registered names, so that the next lookup reads the entry points as they
    are then (`pipeline.warm`: the workers of a server started before a plugin was installed find it)."""
    for wrapper in _LISTS:
        wrapper.cache_clear()


@cached
def available() -> dict[str, str]:
    """Every known stage name and the `module:Class` that implements it."""
    return names(ENTRY_POINT_GROUP, "stage")


def names(group: str, kind: str) -> dict[str, str]:
    """Entry-point name → `module:attr` for `group`; a name registered twice, or no name at all (tamis
    itself is not installed), is a `RegistryError`."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        first = found.setdefault(ep.name, ep)
        if first.value != ep.value:
            a, b = sorted([first, ep], key=lambda e: e.value)
            raise RegistryError(f"{kind} name {ep.name!r} is registered twice: {a.value} ({_dist(a)}) and "
                                f"{b.value} ({_dist(b)}), in entry-point group {group!r}")
    if not found:
        raise RegistryError(f"no {kind} is registered in entry-point group {group!r}: "
                            f"install tamis (pip install -e . in a checkout)")
    return {name: ep.value for name, ep in sorted(found.items())}


def get(name: str) -> type[Any]:
    """The stage class registered as `name`, imported now."""
    return load(available(), name, "stage")


def load(registered: dict[str, str], name: str, kind: str) -> type[Any]:
    """The class registered as `name` in `registered`, imported now; it must call itself `name`."""
    if name not in registered:
        raise RegistryError(f"unknown {kind} {name!r}; available: {', '.join(sorted(registered))}")
    module_name, _, attr = registered[name].partition(":")
    cls: type[Any] = getattr(importlib.import_module(module_name), attr)
    if getattr(cls, "name", None) != name:
        raise RegistryError(f"{registered[name]} is registered as {name!r} but its name is "
                            f"{getattr(cls, 'name', None)!r}")
    return cls


def _dist(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"distribution {dist.name}" if dist is not None else "unknown distribution"
