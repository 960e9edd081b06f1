"""Configuration: every kind of error, reported with its YAML path, before any document is read."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest
import yaml

from pipeline import config, registry
from pipeline.errors import ConfigError
from stages import BUILTIN
from tests.conftest import FIXTURES, ROOT


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
        ({"pipeline": ["decode"], "run": {"jobs": -1}}, "run.jobs: expected a non-negative integer, got -1"),
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
            "run.jobs: expected a non-negative integer, got -1",
        ]
    ]


def test_set_overrides_yaml_which_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("pipeline: [decode]\nstages:\n  decode: {fallback_encoding: latin-1}\nrun: {jobs: 3}\n")
    loaded = config.load(path, ["decode.detect=false", "run.jobs=1"])
    assert loaded.stages[0].config == loaded.stages[0].cls.Config(fallback_encoding="latin-1", detect=False)
    assert loaded.run.jobs == 1
    assert loaded.run.batch_size == config.RunConfig().batch_size


def test_bad_override_is_a_located_error() -> None:
    assert problems_of({"pipeline": ["decode"]}, ("decode.detect",)) == [
        "--set decode.detect: expected KEY=VALUE, e.g. boilerplate.captions=drop"]
    assert problems_of({"pipeline": ["decode"]}, ("decode.detect=maybe",)) == [
        "stages.decode.detect: expected bool, got 'maybe'"]


def test_one_stage_twice_under_two_instance_names() -> None:
    raw = {"pipeline": ["decode", "extract", "extract_again"], "stages": {"extract_again": {"stage": "extract"}}}
    found: list[str] = []
    loaded = config.validate(raw, found, "t")
    assert found == []
    assert [(s.instance, s.stage) for s in loaded.stages] == [
        ("decode", "decode"), ("extract", "extract"), ("extract_again", "extract")]


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("pipeline: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        config.load(path)


def test_config_yaml_is_the_default_pipeline_with_every_option_at_its_default() -> None:
    """config.yaml is the reference: every built-in stage in order, every option present, value = default."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    assert raw["pipeline"] == list(BUILTIN)
    for name in BUILTIN:
        cls = registry.get(name)
        defaults = {f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
                    for f in dataclasses.fields(cls.Config)}
        written = raw["stages"].get(name) or {}
        assert set(written) == set(defaults), name
        built = config.build(cls.Config, written, f"stages.{name}", problems := [])
        assert problems == [] and built == cls.Config(), name
    assert config.build(config.RunConfig, raw["run"], "run", []) == config.RunConfig()
    assert set(raw["run"]) == {f.name for f in dataclasses.fields(config.RunConfig)}


def test_describe_reads_like_prose() -> None:
    hints = typing.get_type_hints(config.RunConfig, include_extras=True)
    assert config.describe(hints["stats"]) == "str or null"
    assert config.describe(hints["format"]) == "one of 'jsonl', 'txt', 'md', 'parquet'"
    assert config.describe(tuple[str, ...]) == "list of str"
