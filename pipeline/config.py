"""Load, layer and validate a pipeline configuration before any document is read.

The YAML has three sections: `pipeline` (stage instance names, in order), `stages` (each instance's
options; a `stage:` key lets one stage appear under two instance names) and `run` (I/O and error policy).
Layers, lowest first: the built-in defaults (the default pipeline in the packaged `defaults.yaml`, every
option's default on its `Config` dataclass), the user's YAML (partial or empty), then `--set`. Each stage's
`Config` dataclass is its schema: this module checks values against the type hints, rejects unknown keys,
and reports every problem with its YAML path.

YAML is read with the YAML 1.2 core schema (`on`, `yes`, `no` stay strings; `1e-3` is a number), and a
document whose aliases expand beyond `MAX_NODES` values is refused before anything walks it.
"""

from __future__ import annotations

import dataclasses
import re
import reprlib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml

from pipeline import registry
from pipeline.errors import ConfigError, RegistryError, SetupError
from pipeline.types import BatchSize, Check, Jobs, PositiveFloat, PositiveInt, RelativeGlob


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """How a run reads, writes and fails."""

    output: str = field(default="-", metadata={
        "help": 'JSONL or Parquet file, a directory for txt/md (a .md/.txt file for one document); "-" is stdout'})
    format: Literal["jsonl", "txt", "md", "parquet"] = field(default="jsonl", metadata={
        "help": "output format; parquet needs pip install 'tamis[parquet]'"})
    glob: RelativeGlob = field(default="**/*", metadata={
        "help": "files taken from an input directory (known suffixes only), relative to it"})
    jobs: Jobs = field(default=0, metadata={"help": "worker processes; 0 = all cores"})
    batch_size: BatchSize = field(default=32, metadata={"help": "documents handed to each stage at once"})
    fail_fast: bool = field(default=False, metadata={
        "help": "stop at the first failing document instead of recording an error"})
    stats: str | None = field(default=None, metadata={
        "help": "stats path; default: beside the output (out.jsonl → out.stats.json, DIR/stats.json)"})
    max_bytes: PositiveInt = field(default=20_000_000, metadata={
        "help": "per-document size limit (error record above it)"})
    timeout: PositiveFloat = field(default=120.0, metadata={
        "help": "per-document, per-stage time limit in seconds (error record above it)"})
    executor: Literal["local", "ray"] = field(default="local", metadata={
        "help": "ray needs pip install 'tamis[ray]'; RAY_ADDRESS=… runs on a cluster"})
    ordered: bool = field(default=False, metadata={
        "help": "ray: the local runner's output in input order, written by the driver (slower than shards)"})


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
MAX_NODES = 100_000  # values in a config once its aliases are expanded; config.yaml has a few hundred


@cache
def default_pipeline() -> tuple[str, ...]:
    """The default pipeline: stage names in order, from the `defaults.yaml` shipped in the package."""
    text = resources.files("pipeline").joinpath("defaults.yaml").read_text(encoding="utf-8")
    order: list[str] = parse_yaml(text)["pipeline"]
    return tuple(order)


def load(path: str | Path | None, overrides: Iterable[str] = ()) -> PipelineConfig:
    """The built-in defaults, under the YAML at `path` (if any), under the `--set` overrides; validated
    completely, raising one `ConfigError` that lists every problem."""
    source = str(path) if path is not None else "<defaults>"
    user: Any = {}
    if path is not None:
        user = read(Path(path), source)
    raw: dict[str, Any] = {"pipeline": list(default_pipeline()), **user}
    problems: list[str] = []
    for item in overrides:
        apply_override(raw, item, problems)
    config = validate(raw, problems, source)
    if problems:
        raise ConfigError(problems, source)
    assert config is not None
    return config


def read(path: Path, source: str) -> dict[str, Any]:
    """The mapping in the YAML file `path` (empty for an empty file), or a `ConfigError` saying why not."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError([f"cannot read: {exc.strerror or exc}"], source) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r})"],
                          source) from None
    try:
        raw = parse_yaml(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError([f"not valid YAML: {_short_error(exc)}"], source) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError([f"expected a mapping with sections {', '.join(SECTIONS)}, got {type(raw).__name__}"],
                          source)
    return raw


def apply_override(raw: dict[str, Any], item: str, problems: list[str]) -> None:
    """`INSTANCE.OPTION[.KEY...]=VALUE`, `run.OPTION=VALUE` or `pipeline=[...]`; the value is read as YAML."""
    key, sep, value = item.partition("=")
    if not sep or not key:
        problems.append(f"--set {_name(item)}: expected KEY=VALUE, e.g. boilerplate.captions=drop")
        return
    try:
        parsed = parse_yaml(value)
    except (yaml.YAMLError, ValueError) as exc:
        problems.append(f"--set {_name(key)}: value is not valid YAML ({_short_error(exc)}); "
                        f"quote a string that YAML would read otherwise")
        return
    parts = key.split(".")
    if parts == ["pipeline"]:
        raw["pipeline"] = parsed
        return
    if len(parts) < 2 or not all(parts):
        problems.append(f"--set {_name(item)}: expected INSTANCE.OPTION=VALUE or run.OPTION=VALUE")
        return
    node: Any = raw
    walked: list[str] = []
    for part in (parts[:-1] if parts[0] == "run" else ["stages", *parts[:-1]]):
        if node.get(part) is None:  # absent, or an empty YAML block (`decode:`)
            node[part] = {}
        node = node[part]
        walked.append(part)
        if not isinstance(node, dict):
            problems.append(f"--set {_name(item)}: {'.'.join(walked)} is not a mapping in the config")
            return
    node[parts[-1]] = parsed


def validate(raw: dict[str, Any], problems: list[str], source: str) -> PipelineConfig | None:
    for key in raw:
        if key not in SECTIONS:
            problems.append(f"{_name(key)}: unknown section; valid sections: {', '.join(SECTIONS)}")
    order = raw.get("pipeline")
    if not isinstance(order, list) or not order or not all(isinstance(x, str) for x in order):
        problems.append(f"pipeline: expected a non-empty list of stage names, got {_show(order)}")
        order = []
    stage_options = raw.get("stages") or {}
    if not isinstance(stage_options, dict):
        problems.append(f"stages: expected a mapping of stage instance → options, got {type(stage_options).__name__}")
        stage_options = {}
    try:
        known = registry.available()
    except RegistryError as exc:
        problems.append(str(exc))
        return None
    for instance, options in stage_options.items():
        # Options for a known stage may wait there unused (config.yaml documents every stage); any other
        # name outside the pipeline is a typo.
        named = isinstance(options, dict) and "stage" in options
        if instance not in order and (named or instance not in known):
            problems.append(f"stages.{_name(instance)}: not in pipeline (pipeline: {', '.join(order) or 'empty'})")
    seen: set[str] = set()
    specs: list[StageSpec] = []
    # What earlier stages provide; None once a stage could not be resolved, since what it would have
    # provided is unknown and "needs ..." errors after it would only repeat that one mistake.
    provided: set[str] | None = set()
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
        named = "stage" in (stage_options.get(instance) or {})
        where = f"stages.{instance}.stage" if named else f"pipeline[{position}]"
        try:
            if not isinstance(stage_name, str):
                raise RegistryError(f"expected a stage name, got {_show(stage_name)}")
            cls = registry.get(stage_name)
        except RegistryError as exc:
            problems.append(f"{where}: {exc}")
            provided = None
            continue
        except ImportError as exc:
            problems.append(f"{where}: stage {stage_name!r} cannot be imported: {exc}")
            provided = None
            continue
        if provided is not None:
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


def check(config: PipelineConfig) -> None:
    """Set every stage up and close it again, so that what `run` would stop on before the first document
    (a detector or extra that is not installed, a language no detector knows, missing models under
    `on_missing: error`) is reported now, as one `ConfigError`."""
    problems: list[str] = []
    for spec in config.stages:
        stage = spec.cls(spec.config)
        try:
            stage.setup()
        except SetupError as exc:
            problems.append(f"stages.{spec.instance}: {exc}")
        finally:
            stage.close()
    if problems:
        raise ConfigError(problems, config.source)


def build(cls: type[Any], data: dict[str, Any], path: str, problems: list[str]) -> Any:
    """An instance of the dataclass `cls` from `data`, or None with the problems appended."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    before = len(problems)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            valid = ", ".join(fields) or "none"
            problems.append(f"{path}.{_name(key)}: unknown option; valid options: {valid}")
            continue
        values[key] = convert(value, hints[key], f"{path}.{key}", problems)
    for name, f in fields.items():
        if name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            problems.append(f"{path}.{name}: required option missing ({expected(hints[name])})")
    if len(problems) > before:
        return None
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        problems.append(f"{path}: {exc}")
        return None


def expected(hint: Any) -> str:
    """A type hint as a reader would say it: `int`, `one of 'a', 'b'`, `list of str`."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Annotated:
        return args[1].description if isinstance(args[1], Check) else expected(args[0])
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join("null" if a is type(None) else expected(a) for a in args)
    if origin in (list, tuple):
        return f"list of {expected(args[0])}"
    if origin is dict:
        return f"mapping of {expected(args[0])} to {expected(args[1])}"
    if dataclasses.is_dataclass(hint):
        return f"mapping ({getattr(hint, '__name__', hint)})"
    return getattr(hint, "__name__", str(hint))


def convert(value: Any, hint: Any, path: str, problems: list[str]) -> Any:
    """`value` checked against `hint` (YAML lists become tuples); on mismatch a problem is appended."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)

    def wrong() -> str:  # built only when needed: a value may be huge
        return f"{path}: expected {expected(hint)}, got {_show(value)}"

    if origin is Annotated:
        before = len(problems)
        inner = convert(value, args[0], path, problems)
        if len(problems) > before:
            problems[before:] = [wrong()]
            return None
        for check in args[1:]:
            if isinstance(check, Check) and not check.predicate(inner):
                problems.append(wrong())
        return inner
    if origin is Literal:
        if not any(value == a and type(value) is type(a) for a in args):
            problems.append(wrong())
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in args:
            trial: list[str] = []
            out = convert(value, option, path, trial)
            if not trial:
                return out
        problems.append(wrong())
        return None
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            problems.append(wrong())
            return None
        return tuple(convert(v, args[0], f"{path}[{i}]", problems) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(wrong())
            return None
        return {convert(k, args[0], path, problems): convert(v, args[1], f"{path}.{_name(k)}", problems)
                for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            problems.append(wrong())
            return None
        return build(hint, value, path, problems)  # type: ignore[arg-type]
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        problems.append(wrong())
        return None
    if hint is int and isinstance(value, bool):
        problems.append(wrong())
        return None
    if hint is Any or isinstance(value, hint):
        return value
    problems.append(wrong())
    return None


# YAML: the 1.2 core schema's scalars. PyYAML implements YAML 1.1, where `on`/`off`/`yes`/`no` are booleans
# (so `structure: on` could never mean the option value "on") and `1e-3` is a string.
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_CORE_TAGS = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
              "tag:yaml.org,2002:timestamp")


class _Loader(yaml.SafeLoader):
    """`yaml.SafeLoader` with the YAML 1.2 core schema's booleans and numbers, and no timestamps."""

    def construct_yaml_int(self, node: Any) -> int:
        text = self.construct_scalar(node)
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        base = 8 if digits.startswith("0o") else 16 if digits.startswith("0x") else 10
        return sign * int(digits[2:] if base != 10 else digits, base)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _CORE_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(f"(?:{_INT.pattern})$"), list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(f"(?:{_FLOAT.pattern})$"), list("-+.0123456789"))
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def parse_yaml(text: str) -> Any:
    """`text` read as YAML (safe types, 1.2 core scalars); a value that expands beyond `MAX_NODES` nodes
    through aliases, or contains itself, raises ValueError before it is built."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _count(node)
        return loader.construct_document(node)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    finally:
        loader.dispose()


def _count(root: yaml.Node) -> int:
    """Nodes under `root` with every alias expanded, counted once per distinct node (so linear in the
    document's size): the work anything walking the loaded value would do."""
    sizes: dict[int, int] = {}
    pending: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in pending:
            raise ValueError("a value contains itself (a recursive alias)")
        pending.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        pending.discard(key)
        if total > MAX_NODES:
            raise ValueError(f"too large: over {MAX_NODES:,} values once aliases are expanded")
        sizes[key] = total
        return total

    return size(root)


_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 80
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 6
_repr.maxlevel = 3


def _show(value: Any) -> str:
    """A value as an error message quotes it: its repr, cut short (a config value may be huge)."""
    return _repr.repr(value)


def _name(key: Any) -> str:
    """A key as a path shows it: a string as it is, cut short; anything else as its short repr."""
    if not isinstance(key, str):
        return _show(key)
    return key if len(key) <= 80 else key[:79] + "…"


def _short_error(exc: Exception) -> str:
    """A YAML error in one line: PyYAML's messages quote the source over several lines."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        text = " ".join(f"{exc.context + ': ' if exc.context else ''}{exc.problem}{where}".split())
    else:
        text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"
