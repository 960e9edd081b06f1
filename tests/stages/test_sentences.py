from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from stages.sentences import Span, sentences_with_breaks, soft_breaks, split_sentences

CASES = yaml.safe_load((Path(__file__).parents[2] / "fixtures/cases/sentences.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_split_sentences(case: dict) -> None:
    text = case["input"]
    assert [text[s.start : s.end] for s in split_sentences(text)] == case["expected"]


def test_soft_break_only_before_lowercase_after_a_real_stop() -> None:
    text = "Ceci est vrai. this is english. Voir z. b. ici"
    span = Span(0, len(text))
    assert soft_breaks(text, span) == [len("Ceci est vrai.")]


@given(st.text(alphabet="ab .!?\n«»ÉéZz.19", max_size=60))
def test_spans_are_ordered_stripped_and_cover_every_visible_character(text: str) -> None:
    spans = split_sentences(text)
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.end <= b.start
    for s in spans:
        piece = text[s.start : s.end]
        assert piece and piece == piece.strip()
    covered = {i for s in spans for i in range(s.start, s.end)}
    assert all(i in covered for i, c in enumerate(text) if not c.isspace())


@given(st.text(alphabet="ab .!?\n«»ÉéZzM1.9\u00a0'\")…", max_size=80))
def test_the_one_pass_finds_each_sentences_soft_breaks(text: str) -> None:
    """`sentences_with_breaks` reads each line once; it finds what `soft_breaks` finds in each sentence."""
    found = sentences_with_breaks(text)
    assert [span for span, _ in found] == split_sentences(text)
    assert [list(breaks) for _, breaks in found] == [soft_breaks(text, span) for span in split_sentences(text)]


def test_a_full_stop_opening_a_line_reads_the_token_before_the_line_break() -> None:
    """As the splitter always has: "M" before the line break is an abbreviation, so ". Dupont" stays whole."""
    text = "M\n. Dupont"
    assert [text[s.start : s.end] for s in split_sentences(text)] == ["M", ". Dupont"]
    text = "x\n. Dupont"
    assert [text[s.start : s.end] for s in split_sentences(text)] == ["x", ". Dupont"]
    text = "Mot\n. Dupont"
    assert [text[s.start : s.end] for s in split_sentences(text)] == ["Mot", ".", "Dupont"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Er ist Ingenieur. Er kam.", ["Er ist Ingenieur.", "Er kam."]),  # a long word ends the sentence
    ("Cela coûte approx. Dix euros.", ["Cela coûte approx. Dix euros."]),  # the longest listed, still one
    ("Voir Hrsg. Müller.", ["Voir Hrsg. Müller."]),
    ("Voir x.Abcdefg. Puis la suite.", ["Voir x.Abcdefg.", "Puis la suite."]),  # dotted, not single letters
    ("Siehe z.B. Berlin.", ["Siehe z.B. Berlin."]),
    ("Le 1234567. Suite.", ["Le 1234567.", "Suite."]),
])
def test_a_full_stop_after_a_long_word_ends_a_sentence_and_abbreviations_still_do_not(
        text: str, expected: list[str]) -> None:
    """Seven letters before a full stop settle it without reading the token: no listed abbreviation is that
    long, and an initial or a dotted abbreviation has single letters between its dots."""
    assert [text[s.start : s.end] for s in split_sentences(text)] == expected
