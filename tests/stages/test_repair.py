from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import ftfy
import pytest
import yaml

from pipeline.config import build
from pipeline.document import Block, Document, Metadata
from stages.repair import FtfyOptions, Repair, RepairConfig

FIXTURES = Path(__file__).parents[2] / "fixtures"
CASES = yaml.safe_load((FIXTURES / "cases" / "repair.yaml").read_text(encoding="utf-8"))
FTFY_CASES = json.loads((FIXTURES / "ftfy_cases.json").read_text(encoding="utf-8"))["cases"]


def _stage(config: dict[str, Any]) -> Repair:
    problems: list[str] = []
    stage = Repair(build(RepairConfig, config, "repair", problems))
    assert problems == []
    stage.setup()
    return stage


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_repair_case(case: dict[str, Any]) -> None:
    doc = Document(id=case["id"], source="case", blocks=[Block(kind="paragraph", text=case["input"], index=0)])
    out = _stage(case.get("config", {})).process(doc)
    assert [b.text for b in out.blocks] == ([case["expected"]] if case["expected"] else [])
    assert [c.rule for c in out.changes] == case["rules"]
    assert all(c.block == 0 and c.stage == "repair" for c in out.changes)
    if not case["expected"]:
        assert [(r.rule, r.block, r.text) for r in out.removed] == [("empty", 0, case["input"])]


def test_explanation_names_ftfy_steps() -> None:
    doc = Document(id="m", source="case", blocks=[Block(kind="paragraph", text="CorÃ©e\nCorÃ©e", index=3)])
    out = _stage({}).process(doc)
    assert [(c.rule, c.detail, c.block) for c in out.changes] == [
        ("fix_encoding", "encode latin-1, decode utf-8 (2 lines)", 3)]


def test_metadata_is_repaired() -> None:
    doc = Document(id="m", source="case", metadata=Metadata(title="CorÃ©e du Nord", author="Ren&eacute;", site="ok"))
    out = _stage({}).process(doc)
    assert (out.metadata.title, out.metadata.author, out.metadata.site) == ("Corée du Nord", "René", "ok")
    assert [(c.rule, c.detail, c.block) for c in out.changes] == [
        ("fix_encoding", "metadata.title: encode latin-1, decode utf-8", None),
        ("unescape_html", "metadata.author: applied", None)]


def test_ftfy_defaults_differ_only_in_quotes_and_width() -> None:
    """tamis keeps curly quotes and full-width forms: both are the text's typography, not damage (full-width
    digits and punctuation are the norm in Chinese and Japanese), so folding them is `normalise`'s business
    (`form: NFKC`), not repair's."""
    ours = FtfyOptions().__dict__
    theirs = ftfy.TextFixerConfig()._asdict()
    assert {k for k in ours if ours[k] != theirs[k]} == {"uncurl_quotes", "fix_character_width"}


def test_ftfy_published_cases_pass_at_ftfys_rate() -> None:
    """With ftfy's own defaults and tamis's extra clean-ups off, tamis fixes exactly the cases ftfy fixes
    (its per-line application and cheap pre-check lose nothing)."""
    stage = _stage({"zero_width": False, "soft_hyphens": False, "control_chars": False,
                    "ftfy": {"uncurl_quotes": True, "fix_character_width": True}})
    ftfy_pass = {i for i, c in enumerate(FTFY_CASES) if ftfy.fix_text(c["original"]) == c["fixed"]}
    tamis_pass = {i for i, c in enumerate(FTFY_CASES) if stage.repair(c["original"])[0] == c["fixed"]}
    assert len(FTFY_CASES) == 161 and len(ftfy_pass) == 152
    assert tamis_pass == ftfy_pass


def test_ftfy_published_cases_with_tamis_defaults() -> None:
    """tamis's own clean-ups only ever remove stray control characters that ftfy keeps on purpose; with
    width folding off, the one published case whose mojibake was a full-width comma keeps it (ftfy's
    expected "Ningbo,China" is "Ningbo，China", the characters the page's author typed)."""
    stage = _stage({"ftfy": {"uncurl_quotes": True}})
    differ = {c["label"]: stage.repair(c["original"])[0] for c in FTFY_CASES
              if stage.repair(c["original"])[0] != ftfy.fix_text(c["original"])}
    assert differ == {"Synthetic, negative: don't leak our internal use of byte 0x1A":
                      "These control characters  are apparently intentional ",
                      "Wide comma in UTF-8 / Windows-1252": "Ningbo，China"}


def test_mojibake_clue_finds_a_lead_then_a_continuation_or_a_lost_byte() -> None:
    """The clue, one class first for speed, finds what its definition says on every pair of the characters
    involved (and with the "?" of a lost byte between them)."""
    from ftfy import chardata

    from stages import repair

    lead, short_lead, follow = repair._mojibake_chars(chardata.CHARMAP_ENCODINGS)
    definition = re.compile(f"{repair._char_class(lead)}\\??{repair._char_class(follow)}"
                            f"|{repair._char_class(short_lead)}[ ?]")
    clue = repair._mojibake_clue(chardata.CHARMAP_ENCODINGS)
    chars = [chr(c) for c in sorted(lead | follow)] + [" ", "?", "a", "é"]
    texts = [a + b for a in chars for b in chars] + [a + "?" + b for a in chars for b in chars]
    assert [t for t in texts if clue.search(t)] == [t for t in texts if definition.search(t)]
    assert clue.search("dÃ©jà") and clue.search("Ã ") and not clue.search("déjà vu, où ça ? « Château »")


def _mojibake(text: str) -> str:
    import ftfy.bad_codecs  # noqa: F401  registers sloppy-windows-1252

    return text.encode("utf-8").decode("sloppy-windows-1252")


def test_fixers_switched_off_change_nothing() -> None:
    """Repair's ftfy call with the table fixers that find nothing switched off gives ftfy's text and plan
    with the whole configuration, line by line, on the articles (clean and as mojibake, also double), the
    ftfy cases and mojibake around the characters of each fixer (a ligature, a C1 control, a CR, a control
    character and an entity that the encoding fix itself brings in or exposes)."""
    stage = _stage({})
    articles = [path.read_text(encoding="utf-8") for path in sorted((FIXTURES / "articles").glob("*.txt"))]
    texts = [*articles, *map(_mojibake, articles), *(_mojibake(_mojibake(text)) for text in articles),
             *(c["original"] for c in FTFY_CASES)]
    woken = ["eﬃcace", "l\x92été", "ligne\rsuivante", "nul\x00 café", "&eacute; café", "\u2028éte", "\x1b[0mé"]
    texts += [_mojibake(text) for text in woken] + [_mojibake(text) + " ﬁ" for text in woken]
    lines = [line for text in texts for line in text.split("\n") if stage._needs_ftfy(line)]
    assert len(lines) > 250
    assert [stage._fix_and_explain(line) for line in lines] == [ftfy.fix_and_explain(line, stage._fixer)
                                                                 for line in lines]


def test_text_steps_count_the_texts_of_a_plan() -> None:
    from stages.repair import _text_steps

    assert _text_steps([]) == 0
    assert _text_steps([("encode", "sloppy-windows-1252"), ("transcode", "restore_byte_a0"),
                        ("decode", "utf-8")]) == 1
    assert _text_steps([("transcode", "fix_c1_controls")]) == 1
    assert _text_steps([("encode", "latin-1"), ("decode", "utf-8"), ("apply", "fix_latin_ligatures"),
                        ("normalize", "NFC")]) == 3


@pytest.mark.parametrize("config", [{}, {"zero_width": False, "control_chars": False},
                                    {"ftfy": {"fix_encoding": False, "remove_control_chars": False}},
                                    {"soft_hyphens": False, "zero_width": False, "control_chars": False,
                                     "ftfy": {"fix_encoding": False, "unescape_html": False,
                                              "fix_c1_controls": False, "fix_latin_ligatures": False,
                                              "fix_line_breaks": False, "fix_surrogates": False,
                                              "remove_terminal_escapes": False, "remove_control_chars": False}}])
def test_one_scan_finds_every_character_the_suspect_and_junk_scans_find(config: dict[str, Any]) -> None:
    """`_dirty` finds exactly the characters that `_suspect` or `_junk` finds (checked on every code point), so
    a text in which it finds nothing is one in which neither of them finds anything."""
    stage = _stage(config)
    assert stage._suspect is not None and stage._dirty is not None
    every = "".join(map(chr, range(0x110000)))
    found = set(stage._suspect.findall(every)) | set(stage._junk.findall(every))
    assert found == set(stage._dirty.findall(every))
