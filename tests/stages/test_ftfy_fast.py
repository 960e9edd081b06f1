from __future__ import annotations

import json
import re
from pathlib import Path

import ftfy
import pytest
from ftfy import badness, chardata, fixes
from hypothesis import given, settings
from hypothesis import strategies as st

from stages.ftfy_fast import TRANSLATING, FastFtfy, skipping_translate, windowed
from stages.repair import Repair, RepairConfig

FIXTURES = Path(__file__).parents[2] / "fixtures"
FTFY_CASES = json.loads((FIXTURES / "ftfy_cases.json").read_text(encoding="utf-8"))["cases"]
IS_BAD = windowed(badness.BADNESS_RE)
# The characters ftfy's pattern names (its ranges' ends among them), the blocks they come from, and the
# ASCII around them.
ALPHABET = sorted(set(badness.BADNESS_RE.pattern) - set("[]|-^\\ \n") | set(map(chr, range(0x80, 0x250)))
                  | set(map(chr, range(0x370, 0x460))) | set("aAzZeEoO .,?!'\t") | {"\xa0"})


def test_ftfys_pattern_gets_the_window_test() -> None:
    assert IS_BAD is not None


def test_the_faster_functions_are_in_place_during_the_call_only() -> None:
    fast = FastFtfy()
    assert [key for _, key, _ in fast.swaps] == ["is_bad", *TRANSLATING]
    seen = []
    real = fast._fix_and_explain

    def spy(text: str, config: object) -> object:
        own = [ftfy.FIXERS[name] is getattr(fixes, name) for name in TRANSLATING]
        seen.append((ftfy.is_bad is badness.is_bad, own))
        return real(text, config)  # type: ignore[arg-type]

    fast._fix_and_explain = spy  # type: ignore[method-assign]
    Repair(RepairConfig()).setup()
    config = ftfy.TextFixerConfig(fix_character_width=True, uncurl_quotes=False)
    assert fast.fix_and_explain("ﬁn\x00 de ｌ’été", config)[0] == "fin de l’été"
    assert seen == [(False, [False, False, False])]
    assert ftfy.is_bad is badness.is_bad  # ftfy's own again
    assert [ftfy.FIXERS[name] is getattr(fixes, name) for name in TRANSLATING] == [True, True, True]


def test_the_same_fixes_and_explanations_as_ftfy_on_its_published_cases() -> None:
    fast, config = FastFtfy(), ftfy.TextFixerConfig(explain=True)
    texts = [case["original"] for case in FTFY_CASES]
    assert [fast.fix_and_explain(text, config) for text in texts] == [ftfy.fix_and_explain(text, config)
                                                                       for text in texts]


@pytest.mark.parametrize("name", TRANSLATING)
def test_a_skipping_fixer_gives_the_fixers_text(name: str) -> None:
    fixer = getattr(fixes, name)
    skipping = skipping_translate(fixer)
    assert skipping is not None
    samples = ["Séoul, à côté", "", "ﬁn ﬂeur", "a\x00b\x7f\ufeffc", "ｆｕｌｌ　ｗｉｄｔｈ", "tab\tand\nline"]
    samples += [case[field] for case in FTFY_CASES for field in ("original", "fixed")]
    assert [skipping(text) for text in samples] == [fixer(text) for text in samples]


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from(sorted(set(map(chr, chardata.LIGATURES)) | set(map(chr, chardata.CONTROL_CHARS))
                                              | set("aé ｌ\n"))), max_size=20))
def test_skipping_fixers_on_any_text(text: str) -> None:
    for name in TRANSLATING:
        fixer = getattr(fixes, name)
        assert skipping_translate(fixer)(text) == fixer(text)  # type: ignore[misc]


def _translate_twice(text: str) -> str:
    return text.translate(chardata.LIGATURES) + "!"


@pytest.mark.parametrize("function", [fixes.fix_c1_controls, fixes.fix_line_breaks, _translate_twice, str.upper])
def test_functions_that_do_more_than_translate_are_not_skipped(function: object) -> None:
    assert skipping_translate(function) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["original", "fixed"])
def test_same_answer_as_ftfy_on_its_published_cases(field: str) -> None:
    assert IS_BAD is not None
    texts = [case[field] for case in FTFY_CASES if field in case]
    assert len(texts) > 50
    assert [IS_BAD(text) for text in texts] == [bool(badness.BADNESS_RE.search(text)) for text in texts]


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(ALPHABET), max_size=40))
def test_same_answer_as_ftfy_on_any_text(text: str) -> None:
    assert IS_BAD is not None
    assert IS_BAD(text) == bool(badness.BADNESS_RE.search(text))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Séoul a déjà répondu, ", "« non » ", "SÃ©oul ", "Ã ", "aÃ ", "Ã", " ", "x",
                                 "\x92", "œuvre ", "cœur.", "ГўВЂВa", "ā€"]), max_size=30))
def test_same_answer_on_long_texts_with_windows_that_meet(parts: list[str]) -> None:
    assert IS_BAD is not None
    text = "".join(parts)
    assert IS_BAD(text) == bool(badness.BADNESS_RE.search(text))


@pytest.mark.parametrize("pattern", [
    re.compile("Ã(?= )"),  # a lookahead sees past a window's end
    re.compile("(?<=a)Ã"),
    re.compile("Ã$"),  # the end of a window is no end of the text
    re.compile(r"Ã\b"),
    re.compile("ã", re.IGNORECASE),  # the class the analysis reads is not what matches
    re.compile("Ã+"),  # no bound on a match's width
    re.compile(r"Ã|\w\w"),  # an alternative with no class to look for
    re.compile(r"(Ã)\1"),
])
def test_patterns_a_window_could_answer_otherwise_get_none(pattern: re.Pattern[str]) -> None:
    assert windowed(pattern) is None


def test_a_window_at_the_start_keeps_the_start_anchor() -> None:
    is_bad = windowed(re.compile("^Ã |xÃ"))
    assert is_bad is not None
    assert [is_bad(text) for text in ["Ã a", "a Ã a", "aaaaaaaaxÃ", "Ã", ""]] == [True, False, True, False, False]
