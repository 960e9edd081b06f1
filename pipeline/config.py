"""Load, override and validate a pipeline configuration before any document is read.

The YAML has three sections: `pipeline` (stage instance names, in order), `stages` (each instance's
options; a `stage:` key lets one stage appear under two instance names) and `run` (I/O and error policy).
Each stage's `Config` dataclass is its schema: this module checks values against the type hints, rejects
unknown keys, and reports every problem with its YAML path. Precedence: dataclass default < YAML < `--set`.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml

from pipeline import registry
from pipeline.errors import ConfigError, RegistryError


@dataclass(frozen=True)
class Check:
    """Extra constraint on an option, used as `Annotated[str, Check("a language code", predicate)]`."""

    description: str
    predicate: Callable[[Any], bool]


LangCode = Annotated[str, Check("a language code", lambda v: bool(re.fullmatch(r"[a-z]{2,3}", v)))]
PositiveInt = Annotated[int, Check("a positive integer", lambda v: v > 0)]
NonNegativeInt = Annotated[int, Check("a non-negative integer", lambda v: v >= 0)]
PositiveFloat = Annotated[float, Check("a positive number", lambda v: v > 0)]
Fraction = Annotated[float, Check("a number from 0 to 1", lambda v: 0.0 <= v <= 1.0)]


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """How a run reads, writes and fails.

    `jobs`: worker processes, 0 = all cores. `batch_size`: documents handed to each stage at once.
    `max_bytes` / `timeout`: per-document limits; a document over either becomes an `error` record.
    """

    output: str = "-"
    format: Literal["jsonl", "txt", "md", "parquet"] = "jsonl"
    glob: str = "**/*"
    jobs: NonNegativeInt = 0
    batch_size: PositiveInt = 32
    fail_fast: bool = False
    stats: str | None = None
    max_bytes: PositiveInt = 20_000_000
    timeout: PositiveFloat = 120.0
    executor: Literal["local", "ray"] = "local"


@dataclass(frozen=True)
class StageSpec:
    instance: str
    stage: str
    cls: type[Any]
    config: Any


@dataclass(frozen=True)
class PipelineConfig:
    stages: tuple[StageSpec, ...]
    run: RunConfig
    source: str


SECTIONS = ("pipeline", "stages", "run")


def load(path: str | Path | None, overrides: Iterable[str] = ()) -> PipelineConfig:
    """Read `path` (YAML), apply `--set` overrides, validate everything, and raise one `ConfigError`
    listing every problem."""
    source = str(path) if path is not None else "<defaults>"
    raw: Any = {}
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError([f"cannot read: {exc.strerror}"], source) from exc
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError([f"not valid YAML: {exc}"], source) from exc
    if not isinstance(raw, dict):
        raise ConfigError([f"expected a mapping with sections {', '.join(SECTIONS)}, got {type(raw).__name__}"], source)
    problems: list[str] = []
    for item in overrides:
        apply_override(raw, item, problems)
    config = validate(raw, problems, source)
    if problems:
        raise ConfigError(problems, source)
    assert config is not None
    return config


def apply_override(raw: dict[str, Any], item: str, problems: list[str]) -> None:
    """`stage.option=value` (or `run.option=value`, `pipeline=[...]`); the value is read as YAML."""
    key, sep, value = item.partition("=")
    if not sep or not key:
        problems.append(f"--set {item}: expected KEY=VALUE, e.g. boilerplate.captions=drop")
        return
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        parsed = value
    parts = key.split(".")
    if parts[0] == "pipeline" and len(parts) == 1:
        raw["pipeline"] = parsed
        return
    if len(parts) != 2:
        problems.append(f"--set {item}: expected INSTANCE.OPTION=VALUE or run.OPTION=VALUE")
        return
    section, option = parts
    if section == "run":
        target = raw.setdefault("run", {})
    else:
        stages = raw.setdefault("stages", {})
        target = stages.setdefault(section, {}) if isinstance(stages, dict) else None
    if not isinstance(target, dict):
        problems.append(f"--set {item}: {section} is not a mapping in the config")
        return
    target[option] = parsed


def validate(raw: dict[str, Any], problems: list[str], source: str) -> PipelineConfig | None:
    for key in raw:
        if key not in SECTIONS:
            problems.append(f"{key}: unknown section; valid sections: {', '.join(SECTIONS)}")
    order = raw.get("pipeline")
    if not isinstance(order, list) or not order or not all(isinstance(x, str) for x in order):
        problems.append(f"pipeline: expected a non-empty list of stage names, got {order!r}")
        order = []
    stage_options = raw.get("stages") or {}
    if not isinstance(stage_options, dict):
        problems.append(f"stages: expected a mapping of stage instance → options, got {type(stage_options).__name__}")
        stage_options = {}
    known = registry.available()
    for instance, options in stage_options.items():
        # Options for a known stage may wait there unused (config.yaml documents every stage); any other
        # name outside the pipeline is a typo.
        named = isinstance(options, dict) and "stage" in options
        if instance not in order and (named or instance not in known):
            problems.append(f"stages.{instance}: not in pipeline (pipeline: {', '.join(order) or 'empty'})")
    seen: set[str] = set()
    specs: list[StageSpec] = []
    provided: set[str] = set()
    for position, instance in enumerate(order):
        if instance in seen:
            problems.append(f"pipeline[{position}]: {instance!r} appears twice; give the second one its own "
                            f"instance name with a `stage:` key")
            continue
        seen.add(instance)
        options = stage_options.get(instance) or {}
        if not isinstance(options, dict):
            problems.append(f"stages.{instance}: expected a mapping of options, got {type(options).__name__}")
            continue
        options = dict(options)
        stage_name = options.pop("stage", instance)
        try:
            cls = registry.get(stage_name)
        except RegistryError as exc:
            named = "stage" in (stage_options.get(instance) or {})
            where = f"stages.{instance}.stage" if named else f"pipeline[{position}]"
            problems.append(f"{where}: {exc}")
            continue
        except ImportError as exc:
            problems.append(f"pipeline[{position}]: stage {stage_name!r} cannot be imported: {exc}")
            continue
        for need in cls.requires:
            if need not in provided:
                problems.append(f"pipeline[{position}]: stage {stage_name!r} needs {need!r}, "
                                f"which no earlier stage provides")
        provided.update(cls.provides)
        config = build(cls.Config, options, f"stages.{instance}", problems)
        specs.append(StageSpec(instance=instance, stage=stage_name, cls=cls, config=config))
    run_raw = raw.get("run") or {}
    run = build(RunConfig, run_raw, "run", problems) if isinstance(run_raw, dict) else None
    if not isinstance(run_raw, dict):
        problems.append(f"run: expected a mapping of options, got {type(run_raw).__name__}")
    if problems or run is None:
        return None
    return PipelineConfig(stages=tuple(specs), run=run, source=source)


def build(cls: type[Any], data: dict[str, Any], path: str, problems: list[str]) -> Any:
    """An instance of the dataclass `cls` from `data`, or None with the problems appended."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    before = len(problems)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            valid = ", ".join(fields) or "none"
            problems.append(f"{path}.{key}: unknown option; valid options: {valid}")
            continue
        values[key] = convert(value, hints[key], f"{path}.{key}", problems)
    if len(problems) > before:
        return None
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        problems.append(f"{path}: {exc}")
        return None


def describe(hint: Any) -> str:
    """A type hint as a reader would say it: `int`, `one of 'a', 'b'`, `list of str`."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Annotated:
        return args[1].description if isinstance(args[1], Check) else describe(args[0])
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join("null" if a is type(None) else describe(a) for a in args)
    if origin in (list, tuple):
        return f"list of {describe(args[0])}"
    if origin is dict:
        return f"mapping of {describe(args[0])} to {describe(args[1])}"
    if dataclasses.is_dataclass(hint):
        return f"mapping ({getattr(hint, '__name__', hint)})"
    return getattr(hint, "__name__", str(hint))


def convert(value: Any, hint: Any, path: str, problems: list[str]) -> Any:
    """`value` checked against `hint` (YAML lists become tuples); on mismatch a problem is appended."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    wrong = f"{path}: expected {describe(hint)}, got {value!r}"
    if origin is Annotated:
        before = len(problems)
        inner = convert(value, args[0], path, problems)
        if len(problems) > before:
            problems[before:] = [wrong]
            return None
        for check in args[1:]:
            if isinstance(check, Check) and not check.predicate(inner):
                problems.append(wrong)
        return inner
    if origin is Literal:
        if value not in args:
            problems.append(wrong)
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in args:
            trial: list[str] = []
            out = convert(value, option, path, trial)
            if not trial:
                return out
        problems.append(wrong)
        return None
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            problems.append(wrong)
            return None
        return tuple(convert(v, args[0], f"{path}[{i}]", problems) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(wrong)
            return None
        return {convert(k, args[0], path, problems): convert(v, args[1], f"{path}.{k}", problems)
                for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            problems.append(wrong)
            return None
        return build(hint, value, path, problems)  # type: ignore[arg-type]
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        problems.append(wrong)
        return None
    if hint is int and isinstance(value, bool):
        problems.append(wrong)
        return None
    if hint is Any or isinstance(value, hint):
        return value
    problems.append(wrong)
    return None
