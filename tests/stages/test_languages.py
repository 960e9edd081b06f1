import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import build
from pipeline.document import Block, Document
from stages.detectors import DETECTORS, Guess, rows_beat_all
from stages.languages import Languages, LanguagesConfig, _shapes, translation_evidence
from stages.text import unspaced_share

CASES = yaml.safe_load((Path(__file__).parents[2] / "fixtures/cases/languages.yaml").read_text(encoding="utf-8"))


_DEFAULT = Languages(LanguagesConfig())


def run(texts: list[str], **options: Any) -> Document:
    stage = Languages(LanguagesConfig(**options)) if options else _DEFAULT
    stage.setup()
    doc = Document(id="t", source="t", blocks=[Block(kind="paragraph", text=t, index=i) for i, t in enumerate(texts)])
    return stage.process(doc)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    doc = run(case["blocks"], **case.get("config", {}))
    assert doc.lang == case["lang"]
    got = [{"segments": [[b.text[s.start : s.end], s.lang, s.action] for s in b.segments],
            "duplicate_of": b.duplicate_of, "index": b.index} for b in doc.blocks]
    want = [{"segments": e["segments"], "duplicate_of": e.get("duplicate_of"), "index": e.get("index", i)}
            for i, e in enumerate(case["expected"])]
    assert got == want


def test_duplicate_is_left_out_of_the_text_and_recorded() -> None:
    case = next(c for c in CASES if c["id"] == "german-translation-of-standfirst-is-duplicate")
    doc = run(case["blocks"])
    assert doc.text == case["blocks"][0] + "\n\n" + case["blocks"][2]
    assert [c.rule for c in doc.changes] == ["translation-duplicate"]


def test_duplicates_off_keeps_the_block() -> None:
    case = next(c for c in CASES if c["id"] == "german-translation-of-standfirst-is-duplicate")
    assert all(b.duplicate_of is None for b in run(case["blocks"], duplicates=False).blocks)


def test_block_language_and_confidence() -> None:
    doc = run(["Le maire a inauguré la bibliothèque. Die Stadt ist sehr stolz auf dieses neue Gebäude in der Mitte."])
    block = doc.blocks[0]
    assert block.lang == "de"  # the German sentence has more characters
    assert block.confidence is not None and 0.9 < block.confidence <= 1.0


def test_same_input_same_output() -> None:
    texts = [c for case in CASES for c in case["blocks"]]
    assert run(texts).to_json() == run(texts).to_json()


def test_translation_evidence_needs_shared_numbers() -> None:
    fr = "Les douaniers ont saisi 2 400 kilos de marchandises en mars à la frontière italienne."
    de = "Die Zöllner haben im März 2 400 Kilo Waren an der italienischen Grenze beschlagnahmt."
    assert translation_evidence(de, fr) >= LanguagesConfig().duplicate_threshold
    assert translation_evidence(de.replace("2 400", "9 100"), fr) == 0.0


@pytest.mark.parametrize("options, message", [
    ({"policy": {"es": "drop"}}, "policy: es not in languages"),
    ({"languages": ["fr", "fr"]}, "repeated code"),
    ({"languages": []}, "at least one language"),
    ({"detector": "cld3"}, "expected one of"),
])
def test_config_errors(options: dict[str, Any], message: str) -> None:
    problems: list[str] = []
    build(LanguagesConfig, options, "stages.languages", problems)
    assert len(problems) == 1 and message in problems[0]


@pytest.mark.parametrize("name", ["py3langid", "langdetect"])
def test_detectors_restrict_to_the_set(name: str) -> None:
    detector = DETECTORS[name](("fr", "de"))
    guess = detector.detect("Die Regierung hat am Montag ein neues Gesetz vorgestellt.")
    assert guess.lang == "de" and set(guess.probs) == {"fr", "de"}
    assert abs(sum(guess.probs.values()) - 1.0) < 1e-6
    assert detector.detect("12 345 — 678").probs == {"fr": 0.5, "de": 0.5}


_TEXTS = [
    "Die Regierung hat am Montag ein neues Gesetz vorgestellt.",
    "Le maire a inauguré la nouvelle bibliothèque samedi matin.",
    "El gobierno anunció ayer nuevas medidas para la economía del país y los trabajadores.",
    "THE PRESIDENT SPEAKS TO REPORTERS",
    "Kim",
    "",
]


def test_py3langid_batch_gives_py3langids_numbers() -> None:
    from stages.langid_batch import _py3langid_model

    model = _py3langid_model()
    columns = [list(model.nb_classes).index(lang) for lang in ("fr", "de", "en")]
    detector = DETECTORS["py3langid"](("fr", "de", "en"))
    for text, guess in zip(_TEXTS[:-1], detector.detect_many(_TEXTS[:-1]), strict=True):
        scores = model._decide(text)[columns]
        total = float(scores.sum())
        assert list(guess.probs.values()) == pytest.approx([float(p) / total for p in scores], abs=1e-5)
        assert guess.outside == pytest.approx(1.0 - total, abs=1e-5)


def test_py3langid_batch_leaves_outside_out_only_below_other_share() -> None:
    detector = DETECTORS["py3langid"](("fr", "de", "en"))
    exact = detector.detect_many(_TEXTS)
    bounded = detector.detect_many(_TEXTS, other_share=0.99)
    assert [g.probs for g in bounded] == [g.probs for g in exact]
    assert exact[2].outside >= 0.99 and bounded[2].outside == exact[2].outside  # Spanish
    assert all(b.outside in (0.0, e.outside) and e.outside < 0.99 for b, e in zip(bounded, exact, strict=True)
               if b is not bounded[2])
    assert bounded[5] == detector.flat()


def test_batch_and_one_by_one_agree() -> None:
    texts = [c["blocks"] for c in CASES]
    docs = [Document(id="t", source="t", blocks=[Block(kind="paragraph", text=t, index=j)
                                                 for j, t in enumerate(blocks)])
            for blocks in texts]
    one_by_one = [run(blocks).to_json() for blocks in texts]
    assert [d.to_json() for d in _DEFAULT.process_batch(docs)] == one_by_one


def _seed(prefix: str) -> Document:
    from pipeline.stage import NoConfig
    from stages.decode import Decode, DecodeConfig
    from stages.extract import Extract

    path = next((Path(__file__).parents[2] / "fixtures/articles").glob(f"{prefix}_*.txt"))
    doc = Document(id=path.stem, source=str(path), raw=path.read_bytes())
    return _DEFAULT.process(Extract(NoConfig()).process(Decode(DecodeConfig()).process(doc)))


def test_seed_003_german_standfirst_is_a_translation_duplicate() -> None:
    doc = _seed("003")
    german = [b for b in doc.blocks if b.text.startswith("Nordkorea unterstützt")]
    assert len(german) == 1 and [s.lang for s in german[0].segments] == ["de"]
    standfirst = next(b for b in doc.blocks if b.text.startswith("La Corée du Nord soutient"))
    assert german[0].duplicate_of == standfirst.index
    assert doc.lang == "fr" and "Nordkorea" not in doc.text


def test_seed_004_caption_is_english_and_the_rest_french() -> None:
    doc = _seed("004")
    assert [s.lang for s in doc.blocks[0].segments] == ["en"]
    assert {s.lang for b in doc.blocks[1:] for s in b.segments} == {"fr"}


def _shape(text: str) -> tuple[int, int, int, bool]:
    """What `_shapes` counts in one text, as the patterns find them: words (word starts), capitalised
    words, letters, and whether it has characters of a script written without spaces."""
    initials = re.findall(r"(?<!\w)\w", text)  # one per word
    return (len(initials), sum(map(str.isupper, initials)), sum(map(len, re.findall(r"[^\W\d_]+", text))),
            unspaced_share(text) > 0)


def _shape_rows(texts: list[str]) -> list[tuple[int, int, int, bool]]:
    return list(zip(*(column.tolist() for column in _shapes(texts)), strict=True))


_SHAPE_TEXTS = ["Die Regierung kündigte am Montag an.", "Jean-Pierre Dupont, Le Monde", "", "x", "  2024  ",
                "政府宣布了新措施 2024 Über", "ÉCOLE éçole_x ½ ²3 l'été", "ภาษาไทย ok", "a\x00b", "\ud800abc"]


def test_the_batch_counts_words_capitals_and_letters_as_the_patterns_do() -> None:
    """`_shapes` counts every text of a batch at once by code point; the figures are those the
    patterns find in each text alone (`_shape`), scripts without spaces, digits, underscores included."""
    assert _shape_rows(_SHAPE_TEXTS) == [_shape(t) for t in _SHAPE_TEXTS]
    assert _shape("Jean-Pierre Dupont, Le Monde") == (5, 5, 23, False)
    assert _shape("政府宣布了新措施 2024")[3]  # unspaced


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="aB é_1²政 -'\n.\x00", max_size=30), max_size=8))
def test_the_batch_counts_any_text_as_the_patterns_do(texts: list[str]) -> None:
    assert _shape_rows(texts) == [_shape(t) for t in texts]


_NEIGHBOURS = _TEXTS + [
    "Lo govèrn a anonciat de mesuras novèlas per l'economia del país e los trabalhadors.",  # Occitan
    "El govern ha anunciat noves mesures per a l'economia del país i els treballadors.",  # Catalan
    "Il governo ha annunciato nuove misure per l'economia del paese e i lavoratori.",
    "De regering heeft gisteren nieuwe maatregelen aangekondigd voor de economie.",
    "D'Regierung huet gëschter nei Moossname fir d'Wirtschaft ugekënnegt.",  # Luxembourgish
    "Regeringen meddelte i går nye foranstaltninger for økonomien.",
    "Le gouvernement a annoncé hier de nouvelles mesures pour l'économie del país.",
    "政府宣布了新措施", "Москва объявила о новых мерах", "ok", "Ça va ?",
]


def test_the_automaton_finds_the_features_py3langid_walks() -> None:
    from py3langid.langid import visit_counts

    from stages.langid_batch import _automaton, _encode, _py3langid_model

    model = _py3langid_model()
    encoded = [_encode(t) for t in _NEIGHBOURS]
    text, feature, counts = _automaton().found(encoded)
    found = [{int(f): int(c) for t, f, c in zip(text, feature, counts, strict=True) if t == i}
             for i in range(len(encoded))]
    assert found == [dict(visit_counts(model.tk_nextmove, model._rowbase, model.tk_output, e) or {})
                     for e in encoded]
    assert list(text) == sorted(text) and all(list(feature[text == i]) == sorted(feature[text == i])
                                              for i in range(len(encoded)))


@pytest.mark.parametrize("other_share", [0.99, 0.9, 0.5, 0.05])
def test_the_coarse_bound_spares_only_texts_the_groups_bound_rules_out(other_share: float) -> None:
    """The first, coarser bound settles most texts; the texts it leaves to the groups' bound, and those
    given the unrestricted model, are exactly those that the groups' bound alone would give it."""
    import math

    import numpy as np

    from stages.langid_batch import _MARGIN, _automaton, _encode, _logsumexp, _scorer, _sums

    scorer = _scorer(("fr", "de", "en"))
    encoded = [_encode(t) for t in _NEIGHBOURS * 3]
    text, feature, counts = _automaton().found(encoded)
    n, temperature = len(encoded), np.sqrt(np.maximum([len(e) for e in encoded], 1))
    weights = np.log1p(counts.astype(np.float32))
    scaled = _sums(scorer.table, scorer.priors, text, feature, weights, n) / temperature[:, None]
    log_inside = _logsumexp(scaled[:, :3])
    threshold = math.log(other_share / (1 - other_share)) - _MARGIN
    groups = _sums(scorer.groups, scorer.group_priors, text, feature, weights, n) / temperature[:, None]
    alone = _logsumexp(groups + scorer.log_sizes) - log_inside >= threshold
    need = scorer._may_reach(scaled[:, 3:], text, feature, weights, n, temperature, log_inside, threshold)
    assert list(need) == list(alone) and 0 < need.sum() < n


def test_sums_from_the_products_of_single_ngrams_are_the_same_floats() -> None:
    """`_sums` with `table_once` (values of n-grams seen once, multiplied in advance) gives the very floats
    of multiplying every value by its weight, repeated n-grams included (counts of 2 and far more)."""
    from stages.langid_batch import _automaton, _encode, _scorer, _sums, _weights

    scorer = _scorer(("fr", "de", "en"))
    texts = [*_NEIGHBOURS, "la la la la la la la", "de " * 300]
    encoded = [_encode(t) for t in texts]
    text, feature, counts = _automaton().found(encoded)
    assert counts.max() > 255 and (counts == 1).any()
    for kept in (counts, np.minimum(counts, 9)):  # the weights as computed, and from the table of small counts
        weights = _weights(kept)
        plain = _sums(scorer.table, scorer.priors, text, feature, weights, len(texts))
        once = _sums(scorer.table, scorer.priors, text, feature, weights, len(texts), scorer.table_once)
        assert plain.tobytes() == once.tobytes()


def test_each_texts_sums_are_those_of_each_column_summed_apart() -> None:
    """`_sums` gives each text and column the float32 sum of that column's values stored apart, whether
    it sums the gathered rows along the n-gram axis (`table_once`) or a transposed copy, for short texts
    and for texts of hundreds of n-grams (numpy's pairwise sum works in blocks of 128)."""
    from stages.langid_batch import _automaton, _encode, _runs, _scorer, _sums, _weights

    scorer = _scorer(("fr", "de", "en"))
    texts = [*_NEIGHBOURS, " ".join(_NEIGHBOURS * 4), "Kim", "de " * 300]
    text, feature, counts = _automaton().found([_encode(t) for t in texts])
    weights, starts = _weights(counts), _runs(text)
    assert np.diff(np.append(starts, len(text))).max() > 3 * 128
    for table, priors, once in ((scorer.table, scorer.priors, scorer.table_once),
                                (scorer.table, scorer.priors, None), (scorer.full_table, scorer.full_priors, None)):
        found = _sums(table, priors, text, feature, weights, len(texts), once)
        for column in range(table.shape[1]):
            alone = np.ascontiguousarray(table[:, column], dtype=np.float32)[feature] * weights
            expected = np.zeros(len(texts))
            expected[text[starts]] = np.add.reduceat(alone, starts) + priors[column]
            assert found[:, column].tobytes() == expected.tobytes()


def _reference_main_language(blocks: list[Block], flags: list[list[bool]]) -> str | None:
    """`_main_language` by its definition: most characters of prose (of all text when none is prose)."""
    from collections import Counter

    sizes: Counter[str] = Counter()
    anything = not any(map(any, flags))
    for block, readable in zip(blocks, flags, strict=True):
        for seg, prose in zip(block.segments, readable, strict=True):
            if seg.lang != "uncertain" and (prose or anything):
                sizes[seg.lang] += seg.end - seg.start
    if sizes["other"] * 2 > sum(sizes.values()):
        return "other"
    inside = {lang: n for lang, n in sizes.items() if lang != "other"} or dict(sizes)
    return max(inside, key=lambda lang: (inside[lang], lang)) if inside else None


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(["fr", "de", "en", "other", "uncertain"]),
                                   st.integers(1, 40), st.booleans()), min_size=1, max_size=4), max_size=5))
def test_the_main_language_reads_only_the_prose_it_needs(layout: list[list[tuple[str, int, bool]]]) -> None:
    from pipeline.document import Segment
    from stages.languages import _main_language, _Prose

    blocks, flags = [], []
    for i, segs in enumerate(layout):
        starts = [sum(n for _, n, _ in segs[:k]) for k in range(len(segs))]
        blocks.append(Block(kind="paragraph", text="x" * sum(n for _, n, _ in segs), index=i,
                            segments=[Segment(start=a, end=a + n, lang=lang, confidence=1.0)
                                      for a, (lang, n, _) in zip(starts, segs, strict=True)]))
        flags.append([prose for _, _, prose in segs])
    asked: list[tuple[int, int]] = []

    class Known(_Prose):
        def __call__(self, position: int, k: int) -> bool:
            asked.append((position, k))
            return flags[position][k]

    assert _main_language(blocks, Known(blocks)) == _reference_main_language(blocks, flags)
    # The largest prose segment of the language with most text outweighs all the rest: nothing else is read.
    leader = max(((n, i, k) for i, segs in enumerate(layout) for k, (lang, n, prose) in enumerate(segs)
                  if lang not in ("uncertain",) and prose), default=None)
    total = sum(n for segs in layout for lang, n, _ in segs if lang != "uncertain")
    if leader is not None and leader[0] * 2 > total:
        assert asked == [leader[1:]]


def test_an_ngrams_weight_is_log1p_of_its_count_in_float32() -> None:
    import numpy as np

    from stages.langid_batch import _weights

    for counts in ([1, 2, 3, 255], [1, 256, 70000], []):
        array = np.array(counts, dtype=np.int64)
        assert _weights(array).tolist() == np.log1p(array.astype(np.float32)).tolist()
        assert _weights(array).dtype == np.float32


@pytest.mark.parametrize("name", ["py3langid", "langdetect"])
def test_the_table_holds_the_guesses_of_detect(name: str) -> None:
    """`table` is the batch's guesses as arrays: each row is what `detect` says of that text alone, the
    flat guess of a text without letters included."""
    detector = DETECTORS[name](("fr", "de", "en"))
    table = detector.table(_TEXTS)
    expected = [detector.detect(text) for text in _TEXTS]
    assert list(table) == [table[i] for i in range(len(table))] == expected
    assert table.probs.shape == (len(_TEXTS), 3)
    assert detector.detect_many(_TEXTS, other_share=0.99) == list(detector.table(_TEXTS, other_share=0.99))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.integers(-2, 2)), max_size=20),
       st.sampled_from([2.0, 0.5, math.log(2.0), math.log(7.0)]))
def test_rows_beat_all_as_each_guess_does(rows: list[tuple[float, float, float, int]], nats: float) -> None:
    """The array test gives what `Guess.log_odds` says row by row, at quotients whose logarithm is `nats` too
    (a probability twice or seven times another's), and False for a negative label (no language)."""
    rows += [(0.5, 0.25, 0.25, 0), (0.7, 0.1, 0.2, 0), (0.0, 0.0, 0.0, 1)]
    probs = np.array([r[:3] for r in rows]).reshape(len(rows), 3)
    label = np.array([r[3] for r in rows], dtype=np.int64)
    guesses = [Guess(dict(zip("abc", r[:3], strict=True))) for r in rows]
    expected = [r[3] >= 0 and all(g.log_odds("abc"[r[3]], rival) >= nats for rival in "abc" if rival != "abc"[r[3]])
                for g, r in zip(guesses, rows, strict=True)]
    assert rows_beat_all(probs, label, nats).tolist() == expected


def test_an_uncertain_sentence_between_disagreeing_blocks_takes_the_language_with_most_text() -> None:
    """The document's main language among decided sentences is the one with most characters of them all,
    not the one whose last sentence is longest: here French has 350 characters in two sentences, German
    120 in one, and the uncertain line between a German and a French block takes French."""
    from stages.languages import _UNCERTAIN, _Detected, _Units

    probs = np.array([[0.99, 0.005, 0.005], [0.005, 0.99, 0.005], [0.4, 0.3, 0.3], [0.99, 0.005, 0.005]])
    found = _Detected(probs, np.zeros(4), np.array([0, 1, _UNCERTAIN, 0]), np.zeros(4, dtype=bool))
    doc = Document(id="t", source="t", blocks=[Block(kind="paragraph", text="x" * 300, index=i) for i in range(4)])
    units = _Units(doc=np.zeros(4, dtype=np.int64), position=np.arange(4), block=np.arange(4),
                   start=np.zeros(4, dtype=np.int64), end=np.array([300, 120, 10, 50]), found=found)
    labels = _DEFAULT._smooth([doc], units)
    assert [_DEFAULT._labels[code] for code in labels] == ["fr", "de", "fr", "fr"]


def test_a_sentence_is_cut_at_soft_breaks_where_the_language_changes_among_plain_sentences() -> None:
    """A point before a lower-case word splits a sentence when the language changes there on strong
    evidence both ways; pieces of one language merge first (the first two French pieces of the second
    block, detected together); the units of the blocks around keep their places (the third block's two
    sentences, after the merge, are its own)."""
    texts = ["Le maire a inauguré la nouvelle bibliothèque samedi matin devant les habitants du quartier. die "
             "Regierung hat am Montag ein neues Gesetz für die Wirtschaft vorgestellt. le conseil municipal a voté "
             "le budget de la ville pour l'année prochaine.",
             "Le maire a inauguré la nouvelle bibliothèque samedi matin. les habitants du quartier étaient très "
             "nombreux ce jour-là. die Regierung hat am Montag ein neues Gesetz für die Wirtschaft vorgestellt.",
             "Le maire a inauguré la nouvelle bibliothèque samedi matin. Les habitants du quartier étaient là.",
             "Le maire a inauguré la nouvelle bibliothèque samedi matin devant les habitants. the mayor opened the "
             "new library on Saturday morning in front of the residents."]
    stage = Languages(LanguagesConfig())
    stage.setup()
    doc = stage.process(Document(id="t", source="t",
                                 blocks=[Block(kind="paragraph", text=t, index=i) for i, t in enumerate(texts)]))
    assert [[(s.start, s.end, s.lang, s.action) for s in b.segments] for b in doc.blocks] == [
        [(0, 91, "fr", "keep"), (92, 168, "de", "translate"), (169, 242, "fr", "keep")],
        [(0, 118, "fr", "keep"), (119, 195, "de", "translate")],
        [(0, 96, "fr", "keep")],
        [(0, 79, "fr", "keep"), (80, 159, "en", "translate")]]
    assert stage.counters["soft-split"] == 4
