"""The shared text helpers: one definition of a sentence end, a word, prose, a hard wrap and a comparison key."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stages import text


@pytest.mark.parametrize(("line", "words"), [
    ("Le gouvernement a annoncé mardi une hausse.", 7),
    ("気象庁は十三日、九州地方で強い地震があったと発表した。", 11),  # two characters a word, per run
    ("ニュース", 2),
    ("", 0),
])
def test_word_count(line: str, words: int) -> None:
    assert text.word_count(line) == words


@pytest.mark.parametrize(("line", "count"), [
    ("Le gouvernement a annoncé mardi une hausse.", 3),
    ("Ici c'est très professionnel.", 2),  # c' (ce) and est
    ("L’État l’a dit qu’il viendrait.", 5),  # l', l', a, qu' and il: an elided word is the one it stands for
    ("Die Regierung hat es gesagt.", 3),
])
def test_function_words_count_elided_articles_and_pronouns(line: str, count: int) -> None:
    assert text.function_words(line) == count


def test_unspaced_prefilter_covers_every_unspaced_character() -> None:
    unspaced = [chr(c) for c in range(0x10000) if text._UNSPACED.match(chr(c))]
    assert len(unspaced) > 20000
    assert all(text._MAYBE_UNSPACED.match(c) for c in unspaced)


def test_unspaced_utf8_check_covers_the_prefilter() -> None:
    """Every character the prefilter finds starts its UTF-8 with a byte of `_UNSPACED_LEADS`, or with 0xE2
    and a byte `_UNSPACED_AFTER_E2` finds, so a long text checked by its UTF-8 is ruled out only when the
    prefilter would rule it out; counts of long texts are those of the regexes alone."""
    every = "".join(map(chr, range(0x110000)))
    for char in text._MAYBE_UNSPACED.findall(every):
        data = char.encode("utf-8", "surrogatepass")
        assert data[0] in text._UNSPACED_LEADS or text._UNSPACED_AFTER_E2.match(data) is not None, hex(ord(char))
    filler = "Le président a dit l’été dernier – « oui » … " * 8
    for sample in ["日本語のテキストです", "ภาษาไทย", "x⁰ⁱ", "‿ and ⁀", "ࠀ Samaritan", "only Latin é"]:
        long = filler + sample
        assert len(long) >= text._UTF8_CHECK_CHARS
        expected = sum(max(0, len(run) // 2 - 1) for run in text._UNSPACED.findall(long))
        assert text.unspaced_words(long) == expected
        share = sum(map(len, text._UNSPACED.findall(long))) / (len(long) - long.count(" "))
        assert text.unspaced_share(long) == share


@pytest.mark.parametrize(("line", "ends"), [
    ("Il est parti.", True), ("« Non ! »", True), ("終わった。", True), ("Die Antwort:", False),
    ("Réactions internationales", False),
])
def test_ends_sentence(line: str, ends: bool) -> None:
    assert text.ends_sentence(line) is ends
    assert text.ends_clause(line) is (ends or line.endswith(":"))


# The definition the fast version must keep: final punctuation, then only closers and spaces to the end.
_ENDS_SENTENCE = re.compile(f"[{text.SENTENCE_PUNCT}][{text.CLOSERS}\\s]*$")
_ENDS_CLAUSE = re.compile(f"[{text.SENTENCE_PUNCT}:;][{text.CLOSERS}\\s]*$")


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=".!?…。！？:;\"'»”’)]」』\\ \t\n\xa0\u202f\u3000xé,", max_size=8))
def test_sentence_end_is_the_regex_definition(line: str) -> None:
    assert text.ends_sentence(line) is (_ENDS_SENTENCE.search(line) is not None)
    assert text.ends_clause(line) is (_ENDS_CLAUSE.search(line) is not None)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(["le", "la", "der", "the", "and", " ", "’", "'", "l", "qu", "x", "É", "3", "-", "_",
                                 ".", "İ", "Le", "DIE", "été", "für"]), max_size=20),
       st.integers(min_value=-1, max_value=5))
def test_has_function_words_is_the_count_at_least(pieces: list[str], at_least: int) -> None:
    """It stops at the function word that makes the count: the answer is the whole count's."""
    line = "".join(pieces)
    assert text.has_function_words(line, at_least) is (text.function_words(line) >= at_least)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet=".!?…。！？:;\"'»”’)]」』\\ \t\n\xa0\u202f\u3000xé,", max_size=6), max_size=6))
def test_ends_clauses_is_ends_clause_of_each_line(lines: list[str]) -> None:
    """The one call for a document's lines looks at the last character first: the result is each line's."""
    assert text.ends_clauses(lines) == [text.ends_clause(line) for line in lines]


@pytest.mark.parametrize(("line", "prose"), [
    ("Le gouvernement a annoncé mardi une hausse des pensions.", True),
    ("Die Männer sollen mehrere Geschäfte aufgebrochen haben.", True),
    ("Accueil Politique Économie Sport Culture International.", False),  # no function word
    ("Le gouvernement relève les pensions", False),  # no final punctuation
])
def test_reads_as_sentence(line: str, prose: bool) -> None:
    assert text.reads_as_sentence(line) is prose


@pytest.mark.parametrize(("line", "prose"), [
    ("pip install --upgrade requests", False),
    ("tamis run --input articles/ --output out.jsonl", False),
    ("https://example.org/docs/install", False),
    ("Dupont, J. (2020). Les filtres de texte. Revue de linguistique, 12(3), 45–67.", False),
    ("def main(argv):\n    return run(argv)", False),
    ("Voir https://example.org pour les détails de la mise à jour de ce logiciel libre.", True),
    ("Le prix (hors taxes) est de 12 € [environ].", True),
    ("Le match Paris - Lyon a eu lieu", True),
])
def test_is_prose(line: str, prose: bool) -> None:
    assert text.is_prose(line) is prose


def test_continues_and_key() -> None:
    assert text.continues("Le gouvernement a annoncé", "mardi une hausse.")
    assert not text.continues("Le gouvernement a annoncé une hausse.", "mardi, il a précisé")
    assert text.key("Le chef, a-t-il dit") == text.key("le chef a t il dit") == "le chef a t il dit"


_NOT_WORD = re.compile(r"[\s!-/:-@\[-`{-~«»“”„‘’‚‹›–—…·•¡¿。、「」『』・"
                       r"\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]+")


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="aZéİß ,.-'’«»\t\n\xa0\u2009!?:;()[]{}~`@/。、日・！｜Ｍ６（）｠ｦ", max_size=12))
def test_key_is_punctuation_runs_replaced(line: str) -> None:
    assert text.key(line) == _NOT_WORD.sub(" ", line.casefold()).strip()


def test_key_ignores_full_width_punctuation() -> None:
    """Chinese and Japanese pages write ASCII punctuation in its full-width forms (kept by `repair`): the
    key ignores them as it ignores their ASCII forms, so a page title "headline｜site" holds its headline."""
    assert text.key("大激震！協賛企業＂総スカン＂で崩壊へ｜日刊ゲンダイDIGITAL") == text.key(
        '大激震!協賛企業"総スカン"で崩壊へ|日刊ゲンダイDIGITAL') == (
        "大激震 協賛企業 総スカン で崩壊へ 日刊ゲンダイdigital")
    assert text.key("（Ｍ６・６）［速報］") == "ｍ６ ６ 速報"


@pytest.mark.parametrize("sample", ["", "  ,; ", "Le Président, a dit", "«LE président» a-t-il dit… Kiev",
                                    "一 二 三 四", "ΣΑΣ " * 30, "a" * 71 + " b", "ab " * 23 + "İstanbul",
                                    "x " * 35 + "ﬁn", "Ab" * 40, "Le Président, a dit " * 10, ", " * 40 + "Fin"])
def test_key_start_is_the_start_of_the_key(sample: str) -> None:
    """Also where a word crosses, ends at or starts past the end of the prefix folded first (72 characters
    for three words), and with letters whose fold is longer (İ, ﬁ) or that `lower` reads in context (Σ)."""
    for words in (1, 3):
        assert text.key_start(sample, words) == " ".join(text.key(sample).split(" ")[:words])


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="aZéİßΣﬁ ,.-'’«»\n\xa0!?日・", min_size=20, max_size=120), st.sampled_from([1, 2, 3]))
def test_key_start_of_long_texts_is_the_start_of_the_key(sample: str, words: int) -> None:
    """Texts longer than the prefix `key_start` folds first, with words across its end."""
    assert text.key_start(sample, words) == " ".join(text.key(sample).split(" ")[:words])
