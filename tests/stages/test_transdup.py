"""Translation duplicates without a model (`languages`), on real PUD translation pairs, and the chrF measure."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.document import Block, Document
from stages import languages, transdup
from stages.languages import Languages, LanguagesConfig
from stages.sentences import Sentences, Span, sentences_with_breaks, split_sentences
from stages.transdup import _content, _Runs, best_chrf, chrf, chrf_many, stands_out
from tests.conftest import ROOT

PUD = [json.loads(line) for line in (ROOT / "fixtures" / "transdup" / "pud_pairs.jsonl").read_text(
    encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def marked() -> dict[str, list[tuple[int, int]]]:
    """Per fixture document, the (block, duplicate_of) pairs `languages` marks, blocks read from the text only."""
    stage = Languages(LanguagesConfig())
    stage.setup()
    docs = [Document(id=c["id"], source="pud", blocks=[Block(kind="paragraph", text=p["text"], index=i)
                                                       for i, p in enumerate(c["paragraphs"])]) for c in PUD]
    return {doc.id: [(b.index, b.duplicate_of) for b in doc.blocks if b.duplicate_of is not None]
            for doc in stage.process_batch(docs)}


def test_only_foreign_paragraphs_that_translate_are_marked_and_each_with_its_original(
        marked: dict[str, list[tuple[int, int]]]) -> None:
    for case in PUD:
        [foreign] = [i for i, p in enumerate(case["paragraphs"]) if p["role"] == "foreign"]
        allowed = [] if case["original"] is None else [(foreign, case["original"])]
        assert set(marked[case["id"]]) <= set(allowed), case["id"]


def test_the_documents_found_on_the_fixture(marked: dict[str, list[tuple[int, int]]]) -> None:
    """A regression pin: which of the 12 positives of the fixture the rules find (adjacent, partial and far)."""
    found = sorted((c["id"], c["kind"]) for c in PUD if marked[c["id"]])
    assert found == FOUND


FOUND = [("td-0004", "pos_partial"), ("td-0019", "pos_en"), ("td-0024", "pos_de"), ("td-0030", "pos_far"),
         ("td-0040", "pos_far")]


def test_chrf() -> None:
    assert chrf("le chat dort", "le chat dort") == 1.0
    assert chrf("abc", "xyz") == 0.0
    assert 0.0 < chrf("le chat dort", "le chien dort") < 1.0
    partial = "Le chat dort."
    assert best_chrf(partial, "Il pleut depuis lundi. Le chat dort. Rien ne bouge.") == 1.0


def _chrf_by_the_book(hypothesis: str, reference: str) -> float:
    """chrF as Popović defines it: character n-grams of 1..6 without spaces, recall weighted twice."""
    hyp, ref = "".join(hypothesis.split()), "".join(reference.split())
    precisions, recalls = [], []
    for n in range(1, 7):
        h = Counter(hyp[i : i + n] for i in range(len(hyp) - n + 1))
        r = Counter(ref[i : i + n] for i in range(len(ref) - n + 1))
        if h and r:
            common = sum((h & r).values())
            precisions.append(common / h.total())
            recalls.append(common / r.total())
    if not precisions:
        return 0.0
    p, r = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    return 0.0 if p + r == 0 else 5 * p * r / (4 * p + r)


def test_chrf_many_counts_every_script_as_the_definition_does() -> None:
    """Counted with numpy for text of Latin, Greek and the like, with Counters for other scripts; the same
    numbers either way, text without characters included."""
    hypothesis = "Die Regierung kündigte 2024 neue Maßnahmen an"
    references = ["La regierung annonce de nouvelles mesures en 2024", "", "  ", "ab", "Die Regierung",
                  "Правительство объявило новые меры", "政府宣布了新措施 2024", "Ελληνικά regierung",
                  hypothesis, "die die die die die die"]
    expected = [_chrf_by_the_book(hypothesis, r) for r in references]
    assert chrf_many(hypothesis, references) == pytest.approx(expected, abs=1e-12)
    assert chrf_many(hypothesis, references)[8] == 1.0
    assert chrf_many("政府宣布 regierung", references) == pytest.approx(
        [_chrf_by_the_book("政府宣布 regierung", r) for r in references], abs=1e-12)
    assert chrf_many("", references) == [0.0] * len(references)
    assert chrf_many(hypothesis, []) == []


def _sentence_runs(text: str, longest: int) -> list[str]:
    """Every run of 1 to `longest` consecutive sentences of `text` (the whole text if it has none)."""
    spans = split_sentences(text)
    runs = [text[spans[i].start : spans[j].end]
            for i in range(len(spans)) for j in range(i, min(len(spans), i + longest))]
    return runs or [text]


def _resemblance_by_the_book(foreign: str, paragraph: str) -> list[tuple[str, float]]:
    """`resemblance` as its docstring defines it: chrF of the content words against each run's, one by one."""
    runs = _sentence_runs(paragraph, len(_sentence_runs(foreign, 1)) + 1)
    return [(run, chrf_many(_content(foreign), [_content(run)])[0]) for run in runs]


def resemblances(pairs: list[tuple[str, str]]) -> list[list[tuple[str, float]]]:
    """`transdup.resemblances`, each pair's runs as (text, score)."""
    found: _Runs = transdup.resemblances([f for f, _ in pairs], [p for _, p in pairs])
    edges = found.offsets.tolist()
    return [[(found.text(r), float(found.scores[r])) for r in range(a, b)]
            for a, b in zip(edges, edges[1:], strict=False)]


PARAGRAPHS = [
    "Die Regierung kündigte am Montag neue Maßnahmen an. Die Opposition kritisierte den Plan. Die Regierung "
    "bleibt dabei, die Regierung!",
    "Le gouvernement a annoncé lundi de nouvelles mesures. Oui. Non. L'opposition a critiqué le plan, le plan.",
    "Ah. Oh. Eh.",  # sentences without content words: runs with nothing to share
    "", "   ",
    "Правительство объявило новые меры. Die Regierung auch.",  # a character numpy cannot pack
    "1 000 personnes, 2024. Plus de 1 000 personnes en 2024 et 2025.\nUne ligne seule\nsuite en minuscules.",
]


FOREIGNS = ["Die Regierung kündigte neue Maßnahmen an.",
            "The government announced new measures. The plan was criticised.",
            "regierung regierung regierung plan plan", "Ah.", "", "政府宣布了新措施 2024"]


@pytest.mark.parametrize("foreign", FOREIGNS)
def test_resemblance_scores_every_run_as_chrf_does_one_by_one(foreign: str) -> None:
    """All runs of all paragraphs are counted at once (`_run_scores`); the figures are those of `chrf_many`
    run by run, to the last bit, repeated n-grams, empty runs and unpackable characters included."""
    expected = [_resemblance_by_the_book(foreign, p) for p in PARAGRAPHS]
    assert resemblances([(foreign, p) for p in PARAGRAPHS]) == expected


def test_resemblances_of_many_foreign_texts_at_once_are_those_of_each_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pairs of several foreign texts and paragraphs share one count (and its alphabet), in one chunk or in
    many: no pair's figures depend on the others'."""
    pairs = [(f, p) for f in FOREIGNS for p in PARAGRAPHS] + [(c["paragraphs"][0]["text"], p["text"])
                                                           for c in PUD[:6] for p in c["paragraphs"]]
    expected = [_resemblance_by_the_book(f, p) for f, p in pairs]
    assert resemblances(pairs) == expected
    chars = ["".join(_content(f).split()) for f, _ in pairs]
    monkeypatch.setattr(transdup, "_TABLE", max((len(c) + 2) * (len(set(c)) + 2) for c in chars))
    assert resemblances(pairs) == expected  # the longest foreign text fills a table: chunks of one or two
    monkeypatch.setattr(transdup, "_TABLE", 64)
    assert resemblances(pairs) == expected  # no foreign text fits a table: all counted by `chrf_many`
    monkeypatch.undo()
    monkeypatch.setattr(transdup, "_POSITIONS", 200)  # a chunk per few paragraphs
    assert resemblances(pairs) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="abcdeé .!?A\n", max_size=60), min_size=1, max_size=3),
       st.lists(st.text(alphabet="abcdeé .!?AB\n", max_size=120), max_size=4))
def test_resemblance_is_chrf_run_by_run_on_any_text(foreigns: list[str], paragraphs: list[str]) -> None:
    """Few letters, so n-grams repeat within and across sentences: the occurrence counting must hold."""
    pairs = [(f, p) for f in foreigns for p in paragraphs]
    assert resemblances(pairs) == [_resemblance_by_the_book(f, p) for f, p in pairs]


def test_stands_out_answers_each_question_as_if_asked_alone() -> None:
    """The questions of a batch are answered in two rounds of shared counts; each answer is the one the
    question gets alone, found or not (the fixture has both)."""
    questions = _pud_questions()
    answers = stands_out(questions, (0.08, 0.02))
    assert answers == [stands_out([q], (0.08, 0.02))[0] for q in questions]
    assert {a is None for a in answers} == {True, False}


def test_stands_out_with_the_plans_sentences_answers_as_it_splits_alone() -> None:
    """Sentences handed over as `sentences_with_breaks` gives them are the ones `_paragraphs` finds itself."""
    questions = _pud_questions()
    texts = {text for _, candidates, background in questions for text in candidates + background}
    split = {text: sentences_with_breaks(text) for text in texts}
    assert stands_out(questions, (0.08, 0.02), split) == stands_out(questions, (0.08, 0.02))


def test_languages_hands_over_the_plans_sentences_only_for_a_text_they_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """A main-language block with a dropped sentence reads otherwise than its text: its plan's sentences
    are not those of its clean text, which is split again."""
    asked: list[tuple[list[str], dict[str, Sentences]]] = []

    def spy(questions: list[tuple[str, list[str], list[str]]], margins: tuple[float, float],
            split: dict[str, Sentences]) -> list[tuple[int, float] | None]:
        asked.append(([text for _, candidates, background in questions for text in candidates + background], split))
        return stands_out(questions, margins, split)

    monkeypatch.setattr(languages, "stands_out", spy)
    stage = Languages(LanguagesConfig(policy={"de": "drop"}))
    stage.setup()
    texts = ["Le conseil municipal a voté mardi le budget de la ville pour l'année prochaine. Die Abgeordneten "
             "haben am Dienstag nach einer langen Debatte über die Finanzen abgestimmt. Les élus de l'opposition "
             "ont quitté la salle avant la fin de la séance.",
             "The city council approved next year's budget on Tuesday after a long debate about the town's finances.",
             "Le maire a promis de nouvelles pistes cyclables et la rénovation des écoles du centre avant la fin "
             "de son mandat."]
    [doc] = stage.process_batch([Document(id="x", source="t", blocks=[Block(kind="paragraph", text=t, index=i)
                                                                      for i, t in enumerate(texts)])])
    [(compared, split)] = asked
    edited = doc.blocks[0].main_text()
    assert sorted(compared) == sorted([edited, texts[2]]) and edited != texts[0]
    assert split == {texts[2]: sentences_with_breaks(texts[2])}


def _pud_questions() -> list[tuple[str, list[str], list[str]]]:
    """Per fixture document, its foreign paragraph with the others within three paragraphs and beyond."""
    questions = []
    for case in PUD:
        texts = [p["text"] for p in case["paragraphs"]]
        [foreign] = [i for i, p in enumerate(case["paragraphs"]) if p["role"] == "foreign"]
        others = [i for i in range(len(texts)) if i != foreign]
        questions.append((texts[foreign], [texts[i] for i in others if abs(i - foreign) <= 3],
                          [texts[i] for i in others if abs(i - foreign) > 3]))
    return questions


def _stems_word_by_word(text: str) -> set[str]:
    out = set()
    for word in re.findall(r"[^\W\d_]+", text):
        if len(word) >= 4:
            folded = "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))
            for a, b in (("ph", "f"), ("th", "t"), ("k", "c"), ("z", "c"), ("qu", "c"), ("y", "i"), ("w", "v"),
                         ("ß", "ss")):
                folded = folded.replace(a, b)
            out.add(folded[:4])
    return out


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ΣΑΟσςabkphßéÉ\u0301\u0327ǅﬁＡ\ufdfaİIıᾼὩ\n -'’x", max_size=40))
def test_stems_folded_together_are_each_words_stems(text: str) -> None:
    """Greek final sigma, marks, ligatures and decompositions with spaces: folding all the words at once
    gives each word's stem as folding it alone does."""
    assert transdup._stems(text) == _stems_word_by_word(text)


def test_translation_evidence_on_the_fixture() -> None:
    """The gates in any order give one answer; pinned on the fixture's adjacent pairs."""
    scores = [round(transdup.translation_evidence(c["paragraphs"][i]["text"], c["paragraphs"][i + 1]["text"]), 6)
              for c in PUD for i in range(len(c["paragraphs"]) - 1)]
    assert sorted(s for s in scores if s > 0) == [0.038462, 0.05, 0.058824, 0.0625, 0.090909, 0.090909, 0.117647,
                                                  0.138889, 0.208333, 0.428571]
    assert len(scores) == 70


def _content_of(piece: str) -> str | None:
    chars = "".join(_content(piece).split())
    return None if re.search("[^\x00-\u03fe]", chars) else chars


def _contents_by_the_book(text: str, sentences: Sentences) -> tuple[str, tuple[int, ...]] | None:
    """Each sentence's `_content` alone, one after the other, with their sizes."""
    each = [_content_of(text[span.start : span.end]) for span, _ in sentences]
    packed = [c for c in each if c is not None]
    return ("".join(packed), tuple(map(len, packed))) if len(packed) == len(each) else None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="ab1²ß ÉéΣσςﬁǅ\u0301_.-'’\uff9e\uff9fｱ\u0430ῼİ\x00\n①Ⅻ½", max_size=14),
                         min_size=1, max_size=4), min_size=1, max_size=4))
def test_contents_of_many_sentences_are_each_ones_content(texts: list[list[str]]) -> None:
    """Tokens of 4+ characters or with a digit (superscripts too), folded character by character (ß and
    ligatures to two, marks dropped), NULs and underscores between tokens: `_content` of each sentence, a
    text's one after the other, the sizes those of each sentence's (two for a ß); nothing between sentences."""
    joined = ["|".join(pieces) for pieces in texts]
    sentences = [tuple((Span(start, start + len(piece)), ()) for piece, start
                       in zip(pieces, [sum(len(p) + 1 for p in pieces[:k]) for k in range(len(pieces))], strict=True))
                 for pieces in texts]
    assert transdup._contents(joined, sentences) == [_contents_by_the_book(text, mine)
                                                     for text, mine in zip(joined, sentences, strict=True)]


def test_contents_of_the_fixture_are_each_sentences_content() -> None:
    texts = [p["text"] for c in PUD for p in c["paragraphs"]]
    sentences = [sentences_with_breaks(text) for text in texts]
    found = transdup._contents(texts, sentences)
    assert found == [_contents_by_the_book(text, mine) for text, mine in zip(texts, sentences, strict=True)]
    assert any("ss" in f[0] for f in found if f is not None)  # a ß folded, and its sentence's size with it


def _best_by_the_book(foreign: str, scored: list[tuple[str, float]]) -> tuple[float, str]:
    """The best-scoring run with a plausible length and no contradicting numbers, run by run."""
    numbers, (low, high) = transdup._numbers(foreign), transdup.LENGTH_RATIO
    best = (0.0, "")
    for run, score in scored:
        if score <= best[0] or not low <= len(foreign) / max(1, len(run)) <= high:
            continue
        if numbers and (theirs := transdup._numbers(run)) and not numbers & theirs:
            continue
        best = (score, run)
    return best


NUMBERED = ["En 2024, 1 000 personnes sont venues. Elles étaient 300 en 2023. Le maire parle de 12,5 %.",
            "Les 1 000 personnes de 2024. Rien ici. Et 77 autres.", "Sans chiffre ici. Ni là."]


@pytest.mark.parametrize("by_sentence", [True, False])
def test_best_run_is_the_first_best_a_translation_could_be(by_sentence: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """`_best` over all pairs at once: the run a one-by-one reading picks, numbers shared or contradicted,
    from the sentences' numbers or (when they cannot be had) each run's own."""
    if not by_sentence:
        monkeypatch.setattr(transdup, "_sentence_numbers", lambda paragraph: None)
    foreigns = [*FOREIGNS, "Im Jahr 2024 kamen 1.000 Menschen.", "Es waren 300 im Jahr 2023, sagt er.", "Nur 55 hier."]
    pairs = [(f, p) for f in foreigns for p in PARAGRAPHS + NUMBERED]
    found = transdup.resemblances([f for f, _ in pairs], [p for _, p in pairs])
    scores, runs = transdup._best([f for f, _ in pairs], found)
    expected = [_best_by_the_book(f, scored) for (f, _), scored in zip(pairs, resemblances(pairs), strict=True)]
    assert [(s, found.text(r) if r >= 0 else "") for s, r in zip(scores, runs, strict=True)] == expected
    assert sum(s > 0 for s in scores) > 10


def test_numbers_of_a_run_are_its_sentences_or_its_own() -> None:
    """Sentences hold their numbers; a cut inside a number (no splitter makes one) gives None."""
    text = "Il y a 1 000 ans. Puis 12."
    [(whole, _)] = [(p, None) for p in transdup._paragraphs([text], {})]
    assert transdup._sentence_numbers(whole) == [frozenset({"1000"}), frozenset({"12"})]
    # "Il y a 1" | "000 ans. Puis 12."
    cut = transdup._Paragraph(text, ((Span(0, 8), ()), (Span(9, len(text)), ())), None)
    assert transdup._sentence_numbers(cut) is None
