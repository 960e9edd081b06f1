from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import build
from pipeline.document import Block, Document
from stages.normalise import Normalise, NormaliseConfig

CASE_FILE = Path(__file__).parents[2] / "fixtures" / "cases" / "normalise.yaml"
CASES = yaml.safe_load(CASE_FILE.read_text(encoding="utf-8"))


def _stage(config: dict[str, Any]) -> Normalise:
    problems: list[str] = []
    stage = Normalise(build(NormaliseConfig, config, "normalise", problems))
    assert problems == []
    return stage


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_normalise_case(case: dict[str, Any]) -> None:
    texts = case.get("blocks", [case.get("input")])
    blocks = [Block(kind="paragraph", text=t, index=i) for i, t in enumerate(texts)]
    doc = Document(id=case["id"], source="case", blocks=blocks)
    out = _stage(case.get("config", {})).process(doc)
    assert [[b.kind, b.text] for b in out.blocks] == case["expected"]
    assert [c.rule for c in out.changes] == case["rules"]
    assert all("\n" not in b.text for b in out.blocks)


def test_pieces_keep_the_source_index_and_kind() -> None:
    doc = Document(id="k", source="case", blocks=[
        Block(kind="paragraph", text="Seul.", index=0),
        Block(kind="quote", text="Première phrase.\nSeconde phrase.\n• un point", index=7)])
    out = _stage({}).process(doc)
    assert [(b.kind, b.index) for b in out.blocks] == [("paragraph", 0), ("quote", 7), ("quote", 7), ("list_item", 7)]
    assert [(c.rule, c.detail, c.block) for c in out.changes] == [("lines", "3 lines → 2 blocks, 1 list item", 7)]


def test_hyphenation_change_names_the_word() -> None:
    block = Block(kind="paragraph", text="Les informations.\nLes infor-\nmations.", index=0)
    doc = Document(id="h", source="case", blocks=[block])
    out = _stage({}).process(doc)
    assert [(c.rule, c.detail) for c in out.changes][0] == ("hyphenation", "infor-mations → informations")


def test_every_space_but_the_plain_one_is_unprintable() -> None:
    """`clean` looks for no-break and odd spaces only in a text that is not printable: in a printable one the
    only space is " ", and only a double space can be a run to rewrite."""
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert [c for c in spaces if c.isprintable()] == [" "]
    assert _stage({}).clean("«\u202fOui\u202f»  dit-il,\u2003puis\tpartit.") == (
        "«\u202fOui\u202f» dit-il, puis partit.", [("whitespace", "collapsed runs of spaces")])
