"""Packaging: what `pip install tamis` pulls (and what it must not), and the library internals tamis reads,
checked so that a new release of py3langid or of Python that changes them fails here, loudly."""

from __future__ import annotations

import sys
from importlib.metadata import metadata, requires
from typing import Any

import numpy as np
import pytest

from pipeline.cli import main


def _requirements() -> tuple[list[str], dict[str, list[str]]]:
    core: list[str] = []
    extras: dict[str, list[str]] = {}
    for line in requires("tamis") or []:
        spec, _, marker = line.partition(";")
        name = spec.split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip().lower().replace("_", "-")
        if "extra ==" in marker:
            extras.setdefault(marker.split("extra ==")[1].strip().strip("'\""), []).append(name)
        else:
            core.append(name)
    return core, extras


def test_a_plain_install_has_the_whole_default_pipeline_and_no_torch() -> None:
    """The translate stage's runtime is core; argostranslate (stanza, spaCy, torch) only in `tamis[argos]`."""
    core, extras = _requirements()
    assert {"ctranslate2", "sentencepiece", "lxml-html-clean", "numpy", "trafilatura", "py3langid"} <= set(core)
    assert "argostranslate" not in core and "torch" not in core
    assert [name for name, pulled in extras.items() if "argostranslate" in pulled] == ["argos"]
    assert not any("torch" in pulled for pulled in extras.values())


def test_bounds_where_tamis_reads_internals() -> None:
    meta = metadata("tamis")
    assert meta["Requires-Python"] == "<3.14,>=3.10"
    assert [r for r in requires("tamis") or [] if r.startswith("py3langid")] == ["py3langid<0.5,>=0.3"]


def test_version_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"tamis {metadata('tamis')['Version']}\n"


def test_py3langid_model_has_the_arrays_langid_batch_reads() -> None:
    """stages/langid_batch.py steps py3langid's automaton and multiplies its naive Bayes tables itself."""
    from stages import langid_batch

    model = langid_batch._py3langid_model()
    nextmove = np.frombuffer(model.tk_nextmove, dtype=np.uint32)
    rows = np.asarray(model.tk_row)
    output = np.asarray(model.tk_output)
    ptc, pc = np.asarray(model.nb_ptc), np.asarray(model.nb_pc)
    assert len(nextmove) % 256 == 0 and int(nextmove.max()) < len(rows) == len(output)
    assert int(rows.max()) < len(nextmove) // 256
    assert ptc.ndim == 2 and ptc.shape == (int(output.max()) + 1, len(model.nb_classes)) == (ptc.shape[0], len(pc))
    assert {"fr", "de", "en"} <= set(model.nb_classes)
    # The batch scorer gives py3langid's own ranking.
    detector = langid_batch.Py3langid(("fr", "de", "en"))
    text = "Der Bundestag hat am Donnerstag ein neues Gesetz beschlossen."
    assert detector.detect(text).lang == model.classify(text)[0] == "de"


def _normal(tree: Any) -> Any:
    if isinstance(tree, (list, tuple)) or type(tree).__name__ == "SubPattern":
        return [_normal(item) for item in tree]
    return str(tree) if type(tree).__name__ == "_NamedIntConstant" else tree


def test_stdlib_regex_parser_reads_patterns_as_rulebook_expects() -> None:
    """stages/rulebook.py reads the stdlib parser's tree (opcodes and argument layouts) to find literals."""
    if sys.version_info >= (3, 11):
        from re import _parser as parser  # type: ignore[attr-defined]
    else:
        import sre_parse as parser
    start = [["AT", "AT_BEGINNING"],
             ["BRANCH", [None, [[["LITERAL", 97], ["LITERAL", 98]], [["LITERAL", 99], ["IN", [["LITERAL", 100],
                                                                                               ["LITERAL", 101]]]]]]],
             ["SUBPATTERN", [1, 0, 0, [["LITERAL", 102]]]],
             ["MIN_REPEAT", [1, "MAXREPEAT", [["LITERAL", 120]]]]]
    assert _normal(list(parser.parse(r"^(?:ab|c[de])(f)x+?", 0))) == start
    if sys.version_info >= (3, 11):
        assert _normal(list(parser.parse(r"(?>y)z*+", 0))) == [
            ["ATOMIC_GROUP", [["LITERAL", 121]]], ["POSSESSIVE_REPEAT", [0, "MAXREPEAT", [["LITERAL", 122]]]]]
