"""The built-in defaults: shipped in the package, documented once on each option's field, and written out as
the repository's config.yaml by `tamis stages --yaml`."""

from __future__ import annotations

import dataclasses
import inspect

from pipeline import config, describe, registry
from tests.conftest import ROOT, tamis


def _schemas() -> list[tuple[str, type]]:
    found = [("run", config.RunConfig)]
    for name in config.default_pipeline():
        pending = [(name, registry.get(name).Config)]
        while pending:
            path, schema = pending.pop()
            found.append((path, schema))
            pending += [(f"{path}.{f.name}", f.default_factory) for f in dataclasses.fields(schema)
                        if dataclasses.is_dataclass(f.default_factory)]
    return found


def test_config_yaml_is_the_generated_reference() -> None:
    """Regenerate with `tamis stages --yaml > config.yaml` after changing an option."""
    assert (ROOT / "config.yaml").read_text(encoding="utf-8") == describe.reference_config()


def test_the_reference_reads_back_as_the_defaults() -> None:
    loaded, defaults = config.load(ROOT / "config.yaml"), config.load(None)
    assert (loaded.stages, loaded.run) == (defaults.stages, defaults.run)


def test_every_option_has_its_help_on_its_field() -> None:
    missing = [f"{path}.{f.name}" for path, schema in _schemas() for f in dataclasses.fields(schema)
               if not f.metadata.get("help")]
    assert missing == []


def test_no_stage_docstring_repeats_its_options() -> None:
    """Option help lives on the fields only: no module docstring keeps a `YAML:` block."""
    stale = [name for name in config.default_pipeline()
             if "YAML:" in (inspect.getmodule(registry.get(name)).__doc__ or "")]
    assert stale == []


def test_stages_command_shows_each_option_with_its_help() -> None:
    done = tamis("stages", "decode")
    lines = done.stdout.decode().splitlines()
    assert done.returncode == 0
    assert lines[0] == "decode  (stages.decode:Decode)"
    at = lines.index("    - fallback_encoding: str = 'cp1252'")
    assert lines[at + 1] == "        used when neither BOM, charset, UTF-8 nor detection decides"


def test_stages_yaml_prints_config_yaml() -> None:
    done = tamis("stages", "--yaml")
    assert (done.returncode, done.stdout.decode()) == (0, (ROOT / "config.yaml").read_text(encoding="utf-8"))
