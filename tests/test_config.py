"""Configuration: layers over the built-in defaults, YAML 1.2 scalars, and every kind of error, reported
with its YAML path, before any document is read."""

from __future__ import annotations

import resource
import subprocess
import sys
import typing
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import config, registry
from pipeline.errors import ConfigError
from tests.conftest import FIXTURES, ROOT, tamis


def problems_of(raw: dict, overrides: tuple[str, ...] = ()) -> list[str]:
    found: list[str] = []
    for item in overrides:
        config.apply_override(raw, item, found)
    config.validate(raw, found, "test.yaml")
    return found


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"pipeline": ["decode", "nope"]},
         f"pipeline[1]: unknown stage 'nope'; available: {', '.join(sorted(registry.available()))}"),
        ({"pipeline": ["decode"], "stages": {"decode": {"colour": "blue"}}},
         "stages.decode.colour: unknown option; valid options: fallback_encoding, detect"),
        ({"pipeline": ["decode"], "stages": {"decode": {"detect": "yes"}}},
         "stages.decode.detect: expected bool, got 'yes'"),
        ({"pipeline": ["decode"], "stages": {"decode": {"fallback_encoding": 12}}},
         "stages.decode.fallback_encoding: expected str, got 12"),
        ({"pipeline": ["decode"], "stages": {"decode": {"fallback_encoding": "klingon"}}},
         "stages.decode: fallback_encoding: unknown encoding 'klingon'"),
        ({"pipeline": ["decode"], "run": {"format": "xml"}},
         "run.format: expected one of 'jsonl', 'txt', 'md', 'parquet', got 'xml'"),
        ({"pipeline": ["decode"], "run": {"jobs": -1}}, "run.jobs: expected an integer from 0 to 1024, got -1"),
        ({"pipeline": ["decode"], "run": {"jobs": 5000}}, "run.jobs: expected an integer from 0 to 1024, got 5000"),
        ({"pipeline": ["decode"], "run": {"batch_size": 10**9}},
         "run.batch_size: expected an integer from 1 to 100000, got 1000000000"),
        ({"pipeline": ["decode"], "run": {"timeout": float("inf")}},
         "run.timeout: expected a positive number, got inf"),
        ({"pipeline": ["decode"], "run": {"glob": ""}}, "run.glob: expected a non-empty glob relative to the input "
                                                        "directory (no absolute path, no ..), got ''"),
        ({"pipeline": ["decode"], "run": {"timeout": True}}, "run.timeout: expected a positive number, got True"),
        ({"pipeline": ["decode"], "stages": {"extractt": {}}}, "stages.extractt: not in pipeline (pipeline: decode)"),
        ({"pipeline": ["extract"]}, "pipeline[0]: stage 'extract' needs 'decoded', which no earlier stage provides"),
        ({"pipeline": ["decode", "decode"]},
         "pipeline[1]: 'decode' appears twice; give the second one its own instance name with a `stage:` key"),
        ({"pipeline": []}, "pipeline: expected a non-empty list of stage names, got []"),
        ({"pipeline": ["decode"], "stagse": {}}, "stagse: unknown section; valid sections: pipeline, stages, run"),
        ({"pipeline": ["decode", "x"], "stages": {"x": {"stage": "nope"}}},
         f"stages.x.stage: unknown stage 'nope'; available: {', '.join(sorted(registry.available()))}"),
    ],
)
def test_each_kind_of_error_has_its_exact_message(raw: dict, expected: str) -> None:
    assert problems_of(raw) == [expected]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        config.load(FIXTURES / "configs" / "bad.yaml")
    source = str(FIXTURES / "configs" / "bad.yaml")
    assert str(caught.value).splitlines() == [
        f"{source}: {line}" for line in [
            "stages.extractt: not in pipeline (pipeline: decode, extract, nope)",
            "stages.decode.fallback_encoding: expected str, got 12",
            "stages.decode.detect: expected bool, got 'yes'",
            "stages.decode.colour: unknown option; valid options: fallback_encoding, detect",
            f"pipeline[2]: unknown stage 'nope'; available: {', '.join(sorted(registry.available()))}",
            "run.format: expected one of 'jsonl', 'txt', 'md', 'parquet', got 'xml'",
            "run.jobs: expected an integer from 0 to 1024, got -1",
        ]
    ]


def test_one_stage_twice_under_two_instance_names() -> None:
    raw = {"pipeline": ["decode", "extract", "extract_again"], "stages": {"extract_again": {"stage": "extract"}}}
    found: list[str] = []
    loaded = config.validate(raw, found, "t")
    assert found == []
    assert [(s.instance, s.stage) for s in loaded.stages] == [
        ("decode", "decode"), ("extract", "extract"), ("extract_again", "extract")]


def test_describe_reads_like_prose() -> None:
    hints = typing.get_type_hints(config.RunConfig, include_extras=True)
    assert config.expected(hints["stats"]) == "str or null"
    assert config.expected(hints["format"]) == "one of 'jsonl', 'txt', 'md', 'parquet'"
    assert config.expected(tuple[str, ...]) == "list of str"


def write(tmp_path: Path, text: str | bytes, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_partial_config_layers_over_the_defaults(tmp_path: Path) -> None:
    """The README's snippet alone is a whole config: the default pipeline, every other option at its default."""
    loaded = config.load(write(tmp_path, "stages:\n  boilerplate:\n    disable: [en.navigation]\n"))
    assert [s.instance for s in loaded.stages] == list(config.default_pipeline())
    boilerplate = next(s for s in loaded.stages if s.instance == "boilerplate")
    assert boilerplate.config == boilerplate.cls.Config(disable=("en.navigation",))
    assert loaded.run == config.RunConfig()


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n", "{}\n"])
def test_an_empty_config_is_the_defaults(tmp_path: Path, text: str) -> None:
    loaded, defaults = config.load(write(tmp_path, text)), config.load(None)
    assert (loaded.stages, loaded.run) == (defaults.stages, defaults.run)
    assert [s.instance for s in config.load(None).stages] == list(config.default_pipeline())


def test_set_overrides_yaml_which_overrides_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "pipeline: [decode]\nstages:\n  decode: {fallback_encoding: latin-1}\nrun: {jobs: 3}\n")
    loaded = config.load(path, ["decode.detect=false", "run.jobs=1"])
    assert loaded.stages[0].config == loaded.stages[0].cls.Config(fallback_encoding="latin-1", detect=False)
    assert loaded.run.jobs == 1
    assert loaded.run.batch_size == config.RunConfig().batch_size


def test_set_reaches_nested_keys(tmp_path: Path) -> None:
    loaded = config.load(write(tmp_path, "stages:\n  repair:\n"),
                         ["languages.policy.de=drop", "repair.ftfy.uncurl_quotes=true"])
    by_name = {s.instance: s.config for s in loaded.stages}
    assert by_name["languages"].policy == {"de": "drop"}
    assert by_name["repair"].ftfy.uncurl_quotes is True
    assert by_name["repair"].ftfy.fix_encoding is True


def test_bad_override_is_a_located_error() -> None:
    assert problems_of({"pipeline": ["decode"]}, ("decode.detect",)) == [
        "--set decode.detect: expected KEY=VALUE, e.g. boilerplate.captions=drop"]
    assert problems_of({"pipeline": ["decode"]}, ("decode.detect=maybe",)) == [
        "stages.decode.detect: expected bool, got 'maybe'"]
    assert problems_of({"pipeline": ["decode"], "stages": {"decode": {"detect": True}}}, ("decode.detect.deeper=1",)) \
        == ["--set decode.detect.deeper=1: stages.decode.detect is not a mapping in the config"]
    assert problems_of({"pipeline": ["decode"]}, ("decode.detect.deeper=1",)) == [
        "stages.decode.detect: expected bool, got {'deeper': 1}"]


def test_invalid_yaml_in_set_is_an_error_not_a_string() -> None:
    [problem] = problems_of({"pipeline": ["decode"]}, ("run.output=!!python/name:os.system",))
    assert problem.startswith("--set run.output: value is not valid YAML (could not determine a constructor")
    assert problem.endswith("quote a string that YAML would read otherwise")


@pytest.mark.parametrize("how", ["file", "set"])
def test_yaml_1_1_booleans_stay_words(tmp_path: Path, how: str) -> None:
    """`on`, `off`, `yes`, `no` are strings (YAML 1.2): `structure: on` means the option value "on"."""
    path = write(tmp_path, "stages:\n  boilerplate: {structure: on}\n" if how == "file" else "")
    loaded = config.load(path, ["boilerplate.structure=on"] if how == "set" else [])
    assert next(s for s in loaded.stages if s.instance == "boilerplate").config.structure == "on"
    assert problems_of({"pipeline": ["decode"]}, ("decode.detect=yes",)) == [
        "stages.decode.detect: expected bool, got 'yes'"]


@pytest.mark.parametrize(("text", "value"), [("1e-3", 0.001), ("5E+1", 50.0), ("2.5e2", 250.0), ("-1e1", -10.0),
                                              ("010", 10), ("0x1F", 31), ("0o17", 15), (".inf", float("inf"))])
def test_numbers_read_as_yaml_1_2_numbers(text: str, value: float) -> None:
    assert config.parse_yaml(f"x: {text}") == {"x": value}


def test_exponent_numbers_are_accepted_as_options(tmp_path: Path) -> None:
    loaded = config.load(write(tmp_path, "run: {timeout: 1e-3}\nstages:\n  boilerplate: {rule_timeout: 5e-2}\n"))
    assert loaded.run.timeout == 0.001
    assert next(s for s in loaded.stages if s.instance == "boilerplate").config.rule_timeout == 0.05


@pytest.mark.parametrize("glob", ["", "/etc/*", "../*", "a/../../b/*", "C:/x/*", "*/../*"])
def test_globs_outside_the_input_directory_are_refused(glob: str) -> None:
    assert problems_of({"pipeline": ["decode"], "run": {"glob": glob}}) == [
        f"run.glob: expected a non-empty glob relative to the input directory (no absolute path, no ..), got {glob!r}"]


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "0", "-1"])
def test_timeout_must_be_finite_and_positive(value: str) -> None:
    [problem] = problems_of({"pipeline": ["decode"]}, (f"run.timeout={value}",))
    assert problem.startswith("run.timeout: expected a positive number, got ")


def test_one_mistake_gives_one_error() -> None:
    """An unknown stage does not make every later stage 'need blocks'."""
    known = ", ".join(sorted(registry.available()))
    assert problems_of({"pipeline": ["decode", "extractt", "repair", "boilerplate", "languages"]}) == [
        f"pipeline[1]: unknown stage 'extractt'; available: {known}"]


@dataclass(frozen=True, kw_only=True)
class _Required:
    marker: str
    count: int


def test_a_missing_required_option_is_named_without_python_internals() -> None:
    found: list[str] = []
    assert config.build(_Required, {"count": 1}, "stages.guard", found) is None
    assert found == ["stages.guard.marker: required option missing (str)"]


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = write(tmp_path, "pipeline: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        config.load(path)


def test_a_config_that_is_not_utf8_is_a_message(tmp_path: Path) -> None:
    path = write(tmp_path, b"run: {output: caf\xe9.jsonl}\n")
    done = tamis("validate", "-c", str(path))
    assert (done.returncode, done.stdout) == (2, b"")
    assert done.stderr.decode() == f"tamis: {path}: not UTF-8 text (byte 17: b'\\xe9')\n"


def test_an_unreadable_config_is_a_message(tmp_path: Path) -> None:
    done = tamis("validate", "-c", str(tmp_path))
    assert (done.returncode, done.stderr.decode()) == (2, f"tamis: {tmp_path}: cannot read: Is a directory\n")


_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
) + "run: {output: *i}\npipeline: *i\n"


def test_an_alias_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """A 500-byte file that expands to 10^9 values: one short message, and validate stays under 1 GB."""
    path = write(tmp_path, _BOMB)
    assert len(_BOMB) < 600
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
            "from pipeline.cli import main; sys.exit(main(['validate', '-c', sys.argv[1]]))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, cwd=ROOT, timeout=60,
                          check=False)
    assert done.returncode == 2, done.stderr[-500:]
    assert done.stderr.decode() == (f"tamis: {path}: not valid YAML: too large: over 100,000 values once aliases "
                                    f"are expanded\n")
    assert resource.getrlimit(resource.RLIMIT_AS)  # the limit applied to the child only


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(ValueError, match="contains itself"):
        config.parse_yaml("a: &a [*a]\n")
