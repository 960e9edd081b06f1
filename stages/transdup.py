"""Translation duplicates: does a foreign paragraph say what a main-language paragraph says?

Without a model (`languages`, before translation), two rules; either marks a duplicate:
- `translation_evidence`: an adjacent paragraph with the same numbers, about as many sentences, a length
  within 1:2, and enough shared cognates and names (four-letter folded stems);
- `stands_out`: a translation shares more character n-grams with its original than with the rest of the
  document, even across languages (names, numbers, cognates, punctuation survive translation), while a
  paragraph on the same story shares about as much with all of it. So the candidate within
  `distance` blocks must beat every other main-language paragraph of the document (the background) by a
  margin in `resemblances`: chrF on the accent-folded, lower-cased content words and numbers, against the
  run of the candidate's sentences that matches best, with a plausible length ratio and no contradicting number.

With a model (`translate`, after translation): `best_chrf`, the chrF of the translation against the
paragraph, or against the run of its sentences it matches best (a partial translation).

chrF is the cost of both: one foreign paragraph is compared with every run of sentences of many others.
So `chrf_many` compares one text with many at once: each text's n-grams are numbers (cached per text),
and the shared counts come from one numpy search over all of the others' n-grams. `stands_out` goes
further: it answers the questions of a whole batch of documents at once, and `resemblances` counts every
(foreign paragraph, paragraph) pair they need in one pass, matching n-grams by table lookups (`_chunk_scores`).
Nothing there is done per run in Python: the paragraphs' sentences are folded together (`_contents`), and a
run is two sentence numbers, its length and its score in arrays (`_Runs`), chosen from by array gates (`_best`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np

from stages.sentences import Sentences, Span, sentences_with_breaks, split_sentences

CHRF_ORDER = 6  # character n-grams of 1..6, and recall weighted twice precision: chrF's standard setting
CHRF_BETA = 2.0
LENGTH_RATIO = (0.6, 1.6)  # characters of a translation per character of its original, fr/de/en
_NUMBER = re.compile(r"\d+(?:[ .,\u00a0\u202f]\d+)*")
_LETTERS = re.compile(r"[^\W\d_]+")
_TOKENS = re.compile(r"[^\W_]+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_PUNCTUATION = re.compile(r"[,;:!?()\"«»“”„%]|[-–—](?=\s)")
_MARKS = {"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "–": "-", "—": "-"}  # one mark per kind across languages
_SPELLING = (("ph", "f"), ("th", "t"), ("k", "c"), ("z", "c"), ("qu", "c"), ("y", "i"), ("w", "v"), ("ß", "ss"))


def translation_evidence(foreign: str, main: str) -> float:
    """How much `foreign` looks like a translation of `main`, from 0 to 1, without a translation model.

    Gates (any failing gives 0): sentence counts within one of each other (or a quarter), a character
    length ratio within 1:2, and, when either side has numbers, at least half of them shared. The score
    is then the share of content words (4+ letters) of the shorter side that have a cognate on the other:
    the same first four letters after folding accents and spelling pairs that differ across French,
    German and English (k/c, z/c, ph/f, ...). Names count too, as they are written alike.
    The gates are tried cheapest first (any order gives the same answer): most pairs fail the length."""
    ratio = len(foreign) / max(1, len(main))
    if not 0.5 <= ratio <= 2.0:
        return 0.0
    numbers_f, numbers_m = _numbers(foreign), _numbers(main)
    if (numbers_f or numbers_m) and len(numbers_f & numbers_m) * 2 < len(numbers_f | numbers_m):
        return 0.0
    n_foreign, n_main = len(split_sentences(foreign)), len(split_sentences(main))
    if abs(n_foreign - n_main) > max(1, max(n_foreign, n_main) // 4):
        return 0.0
    stems_f, stems_m = _stems(foreign), _stems(main)
    small, large = sorted((stems_f, stems_m), key=len)
    if not small:
        return 0.0
    return len(small & large) / len(small)


@lru_cache(maxsize=4096)
def _numbers(text: str) -> frozenset[str]:
    """Numbers with group separators removed, so "10 000" and "10.000" compare equal."""
    return frozenset(re.sub(r"\D", "", m) for m in _NUMBER.findall(text))


def _stems(text: str) -> set[str]:
    """Four-letter stems of the content words, folded so that cognates meet. The words are folded
    together, one per line: lower-casing, NFKD (a line break has no decomposition and stops any reordering
    of marks) and the spelling pairs (none holds a line break) treat each line as they treat the word
    alone."""
    words = [word for word in _LETTERS.findall(text) if len(word) >= 4]
    if not words:
        return set()
    folded = unicodedata.normalize("NFKD", "\n".join(words).lower())
    folded = folded.translate({ord(c): None for c in set(folded) if unicodedata.combining(c)})
    for a, b in _SPELLING:
        folded = folded.replace(a, b)
    return {stem[:4] for stem in folded.split("\n")}


def chrf(hypothesis: str, reference: str) -> float:
    """chrF (Popović 2015) between two texts of one language, from 0 to 1; spaces are not counted."""
    return chrf_many(hypothesis, [reference])[0]


def chrf_many(hypothesis: str, references: Sequence[str]) -> list[float]:
    """`chrf(hypothesis, r)` for each of `references`, the shared n-grams of all of them counted at once
    with numpy (`_Grams`); texts with characters numpy cannot pack are counted with `Counter`s instead,
    to the same numbers."""
    if not references:
        return []
    hyp = _grams(hypothesis)
    packed = [_grams(r) for r in references] if hyp is not None else [None] * len(references)
    ready = [g for g in packed if g is not None]
    shared = np.zeros((len(references), CHRF_ORDER), dtype=np.int64)
    totals = np.zeros((len(references), CHRF_ORDER), dtype=np.int64)
    if hyp is not None and ready:
        rows = [i for i, g in enumerate(packed) if g is not None]
        shared[rows] = _shared(hyp, ready)
    hyp_profile = _profile(hypothesis) if len(ready) < len(references) else ()
    for i, reference in enumerate(references):
        grams = packed[i]
        if grams is not None:
            totals[i, : len(grams.totals)] = grams.totals
            continue
        ref_profile = _profile(reference)
        for n, ((h, _), (r, _)) in enumerate(zip(hyp_profile, ref_profile, strict=False)):
            shared[i, n] = _common(h, r)
        totals[i, : len(ref_profile)] = [t for _, t in ref_profile]
    hyp_totals = np.zeros(CHRF_ORDER, dtype=np.int64)
    counted = hyp.totals if hyp is not None else tuple(t for _, t in hyp_profile)
    hyp_totals[: len(counted)] = counted
    scores: list[float] = _f_scores(shared, hyp_totals, totals).tolist()
    return scores


_BASE = 1024  # a character below U+03FF is one digit (its code point + 1) of its n-gram's number: 6 fit an int64


@dataclass(frozen=True, slots=True)
class _Grams:
    """A text's character n-grams (n = 1..CHRF_ORDER, spaces removed) as numbers, each n-gram of n
    characters a number of n digits in base `_BASE` (no digit is 0, so n-grams of each order fill one range
    of numbers), sorted, with their counts."""

    ids: np.ndarray
    counts: np.ndarray
    bounds: np.ndarray  # ids[bounds[n - 1]:bounds[n]] are the n-grams
    totals: tuple[int, ...]  # n-grams of each order the text has


@lru_cache(maxsize=256)
def _grams(text: str) -> _Grams | None:
    """The text's `_Grams`, or None when a character does not fit a digit (then `_profile` counts).
    Cached: one paragraph is compared with many."""
    chars = "".join(text.split())
    points = _codes(chars).astype(np.int64, copy=False)  # six digits of _BASE need 60 bits
    if len(points) and int(points.max()) >= _BASE:
        return None
    orders = min(CHRF_ORDER, len(points))
    packed = [points]
    for n in range(2, orders + 1):
        packed.append(packed[-1][:-1] * _BASE + points[n - 1 :])
    ids, counts = np.unique(np.concatenate(packed), return_counts=True)
    bounds = np.searchsorted(ids, _BASE ** np.arange(CHRF_ORDER + 1, dtype=np.int64))
    return _Grams(ids, counts, bounds, tuple(len(points) - n + 1 for n in range(1, orders + 1)))


def _shared(hyp: _Grams, refs: list[_Grams]) -> np.ndarray:
    """Per reference (rows) and order (columns): the n-grams it shares with `hyp`, counted as often as
    both have them."""
    ids = np.concatenate([r.ids for r in refs])
    counts = np.concatenate([r.counts for r in refs])
    if len(hyp.ids):
        at = np.minimum(np.searchsorted(hyp.ids, ids), len(hyp.ids) - 1)
        both = np.where(hyp.ids[at] == ids, np.minimum(hyp.counts[at], counts), 0)
    else:
        both = np.zeros(len(ids), dtype=np.int64)
    running = np.concatenate([[0], np.cumsum(both)])
    starts = np.cumsum([0] + [len(r.ids) for r in refs[:-1]])
    edges = starts[:, None] + np.stack([r.bounds for r in refs])
    shared: np.ndarray = running[edges[:, 1:]] - running[edges[:, :-1]]
    return shared


@lru_cache(maxsize=256)
def _profile(text: str) -> tuple[tuple[Counter[str], int], ...]:
    """The text's character n-gram counts for n = 1..CHRF_ORDER, with their totals, spaces removed: for
    the texts `_grams` cannot pack."""
    chars = "".join(text.split())
    grams = (Counter(chars[i : i + n] for i in range(len(chars) - n + 1)) for n in range(1, CHRF_ORDER + 1))
    return tuple((g, g.total()) for g in grams if g)


def _common(hyp: Counter[str], ref: Counter[str]) -> int:
    return sum(min(count, ref[gram]) for gram, count in hyp.items() if gram in ref)


def _f_scores(shared: np.ndarray, hyp: np.ndarray, ref_totals: np.ndarray) -> np.ndarray:
    """chrF per row from the shared n-grams of each order (columns) and both texts' numbers of n-grams
    (`hyp` for all rows or per row, `ref_totals` per row, 0 past a text's longest order): the precisions and
    recalls of the orders both texts have, averaged. Summed in order of n (`cumsum` adds one after the
    other, as a Python `sum` does), so the figures are those of the definition to the last bit."""
    used = (ref_totals > 0) & (hyp > 0)  # a prefix of the orders: a text has n-grams of every order up to its longest
    orders = used.sum(axis=1)
    precision = np.cumsum(np.where(used, shared / np.maximum(hyp, 1), 0.0), axis=1)[:, -1]
    recall = np.cumsum(np.where(used, shared / np.maximum(ref_totals, 1), 0.0), axis=1)[:, -1]
    some = orders > 0
    precision = np.where(some, precision / np.maximum(orders, 1), 0.0)
    recall = np.where(some, recall / np.maximum(orders, 1), 0.0)
    beta2 = CHRF_BETA**2
    both = precision + recall
    scores: np.ndarray = np.where(both == 0, 0.0, (1 + beta2) * precision * recall
                                  / np.where(both == 0, 1.0, beta2 * precision + recall))
    return scores


def best_chrf(translation: str, paragraph: str) -> float:
    """chrF of `translation` against `paragraph`, or against the run of consecutive sentences of
    `paragraph` it matches best, so that a translation of part of a paragraph is found too."""
    spans = split_sentences(paragraph)
    runs = [paragraph[spans[i].start : spans[j].end] for i in range(len(spans)) for j in range(i, len(spans))]
    return max(chrf_many(translation, runs), default=chrf(translation, paragraph))


def fold(text: str) -> str:
    """Lower case without accents: "Öffentlichkeit" and "oeffentlichkeit" come closer, "été" meets "ete"."""
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))


@dataclass(frozen=True, slots=True)
class _Paragraph:
    """A paragraph as `resemblances` compares it: its sentences (the whole text as one when it has none)
    and their content characters (`_content`, spaces removed), one sentence after the other (None when one
    is no `_Grams` digit), with how many each sentence has: a run's content is its sentences' one after the
    other, as no word spans a sentence break."""

    text: str
    sentences: Sentences  # as `sentences_with_breaks` gives them: the splitter's own tuple, nothing made per paragraph
    contents: tuple[str, tuple[int, ...]] | None

    def run(self, first: int, last: int) -> str:
        return self.text[self.sentences[first][0].start : self.sentences[last][0].end]


def _paragraphs(texts: Sequence[str], split: Mapping[str, Sentences]) -> list[_Paragraph]:
    """Each text's `_Paragraph`, the contents of all their sentences found together (`_contents`). A text
    in `split` has its sentences there already, as `sentences_with_breaks` gives them."""
    spans = [split.get(text) or sentences_with_breaks(text) or ((Span(0, len(text)), ()),) for text in texts]
    return [_Paragraph(text, pieces, contents)
            for text, pieces, contents in zip(texts, spans, _contents(texts, spans), strict=True)]


def _contents(texts: Sequence[str], sentences: Sequence[Sentences]) -> list[tuple[str, tuple[int, ...]] | None]:
    """Per text, `_content` of each of its sentences with spaces removed, one after the other, and how many
    characters each gives (None when a character is no `_Grams` digit), all sentences of all texts at once
    with numpy, as characters each followed by a NUL. A token (`_TOKENS`: `str.isalnum` characters) is kept
    with 4 characters or more, or with a digit (`str.isdigit`, which no letter is); each kept character is
    folded on its own: `fold` works character by character, save NFKD's reordering of marks across
    characters, which only the two characters whose folding starts with a mark (U+FF9E, U+FF9F) could
    start, and which makes nothing packable that is not. A character that folds to more or fewer than one
    stands in the array as a private-use character until the text is decoded."""
    if not texts:
        return []
    whole = np.frombuffer(("\x00".join(texts) + "\x00").encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
    base = _starts(np.array([len(text) + 1 for text in texts], dtype=np.intp)).tolist()
    begins = np.array([at + span.start for at, pieces in zip(base[:-1], sentences, strict=True) for span, _ in pieces],
                      dtype=np.intp)
    sizes = np.array([span.end - span.start + 1 for pieces in sentences for span, _ in pieces], dtype=np.intp)
    piece_starts = _starts(sizes)
    codes = whole[np.repeat(begins - piece_starts[:-1], sizes) + np.arange(int(piece_starts[-1]))]
    codes[piece_starts[1:] - 1] = 0  # a NUL after each sentence ends its last token
    present = np.flatnonzero(np.bincount(codes)).tolist()
    size = present[-1] + 1
    word, digit, wide = (np.zeros(size, dtype=bool) for _ in range(3))
    into = np.zeros(size, dtype=np.uint32)
    chars = [chr(c) for c in present]
    folded = ["".join(fold(c).split()) if c.isalnum() else "" for c in chars]
    word[present] = [c.isalnum() for c in chars]
    digit[present] = [c.isdigit() for c in chars]
    wide[present] = [bool(_UNPACKABLE.search(f)) for f in folded]
    spare = (c for c in range(0xE000, 0xF900) if c >= size or not word[c])  # private use, no token's
    odd = {c: (next(spare), f) for c, f in zip(present, folded, strict=True) if len(f) != 1 and word[c]}
    into[present] = [odd[c][0] if c in odd else ord(f) if len(f) == 1 else 0
                     for c, f in zip(present, folded, strict=True)]
    edge = np.diff(word[codes].view(np.int8), prepend=np.int8(0))
    starts, ends = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    numeric = np.zeros(len(starts), dtype=bool)
    numeric[np.searchsorted(starts, np.flatnonzero(digit[codes]), side="right") - 1] = True
    kept = (ends - starts >= 4) | numeric
    starts, ends = starts[kept], ends[kept]
    lengths = ends - starts
    at = codes[np.repeat(starts - _starts(lengths)[:-1], lengths) + np.arange(int(lengths.sum()))]
    piece = np.searchsorted(piece_starts, starts, side="right") - 1
    bounds = _starts(np.bincount(piece, weights=lengths, minlength=len(sizes)).astype(np.intp))
    firsts = _starts(np.array([len(pieces) for pieces in sentences], dtype=np.intp))  # each text's first sentence
    unpackable = np.zeros(len(sizes) + 1, dtype=bool)
    unpackable[np.searchsorted(bounds, np.flatnonzero(wide[at]), side="right") - 1] = True
    unpackable = np.logical_or.reduceat(unpackable[:-1], firsts[:-1])
    folds = into[at]
    text = folds.tobytes().decode("utf-32-le", errors="surrogatepass")
    ranges, each, marks = bounds[firsts].tolist(), np.diff(bounds).tolist(), firsts.tolist()
    table = {stand: f for stand, f in odd.values()}
    if odd:  # a sentence's size counts what its stand-ins become
        widths = np.ones(len(folds), dtype=np.intp)
        for stand, f in table.items():
            widths[folds == stand] = len(f)
        each = np.bincount(np.repeat(piece, lengths), weights=widths, minlength=len(sizes)).astype(np.intp).tolist()
    out: list[tuple[str, tuple[int, ...]] | None] = []
    for k, (a, b, u) in enumerate(zip(ranges, ranges[1:], unpackable.tolist(), strict=False)):
        if u:
            out.append(None)
            continue
        content = text[a:b]
        out.append((content.translate(table) if odd and not content.isascii() else content,
                    tuple(each[marks[k] : marks[k + 1]])))
    return out


def _sentence_numbers(paragraph: _Paragraph) -> list[frozenset[str]] | None:
    """`_numbers` of each sentence, from one search of the text; None when a number runs from one sentence
    into the next (the whitespace between sentences never lets one). A run's numbers are then its
    sentences': a search of its own text finds the numbers of the whole text that lie in it."""
    spans = [span for span, _ in paragraph.sentences]
    found: list[set[str]] = [set() for _ in spans]
    at = 0
    for m in _NUMBER.finditer(paragraph.text):
        while at < len(found) and spans[at].end < m.end():
            at += 1
        if at == len(found) or m.start() < spans[at].start:
            return None
        found[at].add(re.sub(r"\D", "", m.group()))
    return [frozenset(n) for n in found]


@dataclass(frozen=True, slots=True)
class _Runs:
    """`resemblances` of (foreign text, paragraph) pairs: every run of 1 to `longest` consecutive sentences
    of each pair's paragraph (`longest`: one more than the foreign text has), pair after pair, with its
    first and last sentence, its length in characters of the paragraph's text, and its chrF."""

    paragraphs: list[_Paragraph]  # of each pair
    offsets: np.ndarray  # pair i's runs are offsets[i]:offsets[i + 1]
    pair: np.ndarray
    first: np.ndarray
    last: np.ndarray
    length: np.ndarray
    scores: np.ndarray

    def text(self, run: int) -> str:
        return self.paragraphs[int(self.pair[run])].run(int(self.first[run]), int(self.last[run]))


def resemblances(foreigns: Sequence[str], texts: Sequence[str], prepared: dict[str, _Paragraph] | None = None,
                 split: Mapping[str, Sentences] | None = None) -> _Runs:
    """Per (foreign text, paragraph) pair, `foreigns[i]` and `texts[i]`: each run of the paragraph's
    sentences up to one sentence longer than the foreign text, and the chrF of the foreign text's content
    words against the run's (`_content`). The pairs are counted together (`_run_scores`), however many
    foreign texts and paragraphs they hold; a text with characters numpy cannot pack (or a foreign text too
    long for one `_TABLE`) is counted with `chrf_many`, to the same numbers. `prepared` keeps the
    paragraphs of one computation for the next; `split` holds the sentences of paragraphs split already
    (`_paragraphs`)."""
    prepared = {} if prepared is None else prepared
    new = list(dict.fromkeys(p for p in texts if p not in prepared))
    prepared.update(zip(new, _paragraphs(new, {} if split is None else split), strict=True))
    words: dict[str, tuple[str, str | None, int]] = {}  # per foreign text: content, packed characters, longest run
    for foreign in foreigns:
        if foreign not in words:
            content = _content(foreign)
            packed = "".join(content.split())
            fits = not _UNPACKABLE.search(packed) and (len(packed) + 2) * (len(set(packed)) + 2) <= _TABLE
            words[foreign] = content, packed if fits else None, max(1, len(split_sentences(foreign))) + 1
    paragraphs = [prepared[p] for p in texts]
    longest = [words[f][2] for f in foreigns]
    bounds = [_run_bounds(len(p.sentences), n) for p, n in zip(paragraphs, longest, strict=True)]
    counts = np.array([len(a) for a, _ in bounds], dtype=np.intp)
    offsets = _starts(counts)
    pair = np.repeat(np.arange(len(texts)), counts)
    first = np.concatenate([a for a, _ in bounds]) if bounds else np.zeros(0, dtype=np.intp)
    last = np.concatenate([b for _, b in bounds]) if bounds else np.zeros(0, dtype=np.intp)
    spans = [span for p in paragraphs for span, _ in p.sentences]
    begins = np.array([span.start for span in spans], dtype=np.intp)
    finals = np.array([span.end for span in spans], dtype=np.intp)
    sentence_base = _starts(np.array([len(p.sentences) for p in paragraphs], dtype=np.intp))[pair]
    length = finals[sentence_base + last] - begins[sentence_base + first]
    fast: tuple[list[str], list[int], list[int]] = ([], [], [])  # the `_run_scores` pairs, side by side
    numbered: dict[str, int] = {}  # each paragraph's place in `contents`
    contents: list[tuple[str, tuple[int, ...]]] = []
    is_fast = np.zeros(len(texts), dtype=bool)
    for i, (foreign, text, paragraph, n) in enumerate(zip(foreigns, texts, paragraphs, longest, strict=True)):
        chars = words[foreign][1]
        if chars is not None and paragraph.contents is not None:
            number = numbered.get(text)
            if number is None:
                number = numbered[text] = len(contents)
                contents.append(paragraph.contents)
            fast[0].append(chars)
            fast[1].append(number)
            fast[2].append(n)
            is_fast[i] = True
    scores = np.zeros(len(pair), dtype=np.float64)
    scores[is_fast[pair]] = _run_scores(*fast, contents)
    for i in np.flatnonzero(~is_fast).tolist():
        p, (a, b) = paragraphs[i], bounds[i]
        runs = [_content(p.run(x, y)) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
        scores[offsets[i] : offsets[i + 1]] = chrf_many(words[foreigns[i]][0], runs)
    return _Runs(paragraphs, offsets, pair, first, last, length, scores)


_UNPACKABLE = re.compile("[^\x00-\u03fe]")  # a character that is no digit of a `_Grams` number (_BASE)


_TABLE = 1 << 22  # cells of one `_chunk_scores` lookup table at most: more pairs are counted in chunks
_POSITIONS = 1 << 19  # and characters of the pairs' paragraphs (the arrays of one chunk are a few per character)


def _run_scores(foreigns: list[str], numbers: list[int], longest: list[int],
                paragraphs: list[tuple[str, tuple[int, ...]]]) -> np.ndarray:
    """Per pair of foreign content characters and paragraph (`numbers`: its place in `paragraphs`, which
    holds each one's `_Paragraph.contents`), the chrF against each run of 1 to `longest` of the sentences
    (`_run_bounds` order), pair after pair, counted by `_chunk_scores` in chunks of pairs whose foreign
    characters times alphabet fit `_TABLE` and whose paragraphs' characters fit `_POSITIONS`."""
    out: list[np.ndarray] = [np.zeros(0)]
    lengths = [len(content) for content, _ in paragraphs]
    start = 0
    while start < len(foreigns):
        seen: set[str] = set()
        alphabet: set[str] = set()
        end, size, positions = start, 0, 0
        while end < len(foreigns):
            chars = foreigns[end]
            grown = alphabet if chars in seen else alphabet | set(chars)
            more = size if chars in seen else size + len(chars) + 1
            wider = positions + lengths[numbers[end]] + 1
            if end > start and ((more + 1) * (len(grown) + 1) > _TABLE or wider > _POSITIONS):
                break
            seen.add(chars)
            alphabet, size, positions, end = grown, more, wider, end + 1
        out.append(_chunk_scores(foreigns[start:end], numbers[start:end], longest[start:end], paragraphs))
        start = end
    return np.concatenate(out)


def _chunk_scores(chars: list[str], numbers: list[int], reaches: list[int],
                  contents: list[tuple[str, tuple[int, ...]]]) -> np.ndarray:
    """`_run_scores` of one chunk, in one pass over all of its pairs' characters.

    Characters (n = 1): a run holds each character as often as its sentences do together, so per
    paragraph a running count of each character over its sentences gives every run's, and the shared count
    is the sum over characters of the smaller of the run's and the foreign text's.

    Longer n-grams, matching: the foreign texts' n-grams are numbered order by order as a trie, in a table
    indexed by (the number of an n-gram's first n - 1 characters, its last character); an n-gram's number
    is the position (+ 1) of one of its occurrences in the foreign texts, a character's digit its rank in
    the chunk's alphabet, and the first level is indexed by the foreign text. So a paragraph's n-gram at a
    position gets the number of the same n-gram in the pair's foreign text, or 0 when that text lacks it,
    in one lookup per order for the positions whose shorter n-gram matched (for bigrams, every position: most
    characters match): no search over all n-grams.

    Longer n-grams, counting: a run's content is its sentences' contents one after the other, so it holds
    an occurrence of an n-gram when it starts at or before the occurrence's first sentence and ends at or
    after its last one. It shares that occurrence with a foreign text that has the n-gram `h` times unless
    it holds it `h` times before already: unless it starts at or before the sentence of the `h`-th
    occurrence before. So each occurrence is shared by the runs whose first sentence lies in a range and
    that end at or after its last sentence: per pair, order and last sentence of the occurrences, a row over
    the `longest` first sentences a run that ends there can have gets +1 where the range starts and -1 past
    its end; summed along the row, it counts the shared occurrences of the runs that start at each; a run's
    count is the sum of the rows of the sentences it ends with or before, from its own first one. The
    occurrences before are only looked for (sorted by n-gram) where a pair's paragraph holds the n-gram more
    often than its foreign text: elsewhere every run that holds an occurrence shares it."""
    foreigns = {f: i for i, f in enumerate(dict.fromkeys(chars))}
    places = {p: i for i, p in enumerate(dict.fromkeys(numbers))}  # of the chunk's paragraphs
    paragraphs = [contents[p] for p in places]
    pair_f = np.array([foreigns[f] for f in chars], dtype=np.intp)
    pair_p = np.array([places[p] for p in numbers], dtype=np.intp)
    longest = np.array(reaches, dtype=np.intp)
    f_len = np.array([len(f) for f in foreigns], dtype=np.intp)
    s_len = np.array([n for _, sizes in paragraphs for n in sizes], dtype=np.intp)
    s_start = _starts(s_len)  # each sentence's first character in `p_codes`, then the end
    p_first = _starts(np.array([len(sizes) for _, sizes in paragraphs], dtype=np.intp))
    p_codes = _codes("".join(content for content, _ in paragraphs))
    p_sentence = np.repeat(np.arange(len(s_len)), s_len)
    sentences = np.diff(p_first)[pair_p]  # of each pair's paragraph

    # Each foreign text followed by a stop, a character no text has: digit 0, as the ones no foreign text has.
    f_codes = _codes("\x00".join(foreigns) + "\x00")
    present = np.zeros(_BASE, dtype=bool)
    present[f_codes] = True
    present[_codes("\x00")] = False
    digit = (np.cumsum(present) * present).astype(np.int32)
    width = int(digit.max()) + 1
    f_of = np.repeat(np.arange(len(foreigns)), f_len + 1)
    f_start = _starts(f_len + 1)
    f_digit, p_digit = digit[f_codes], digit[p_codes]

    # Runs, pair after pair: their first and last sentences (numbered in `p_first` order) and lengths.
    bounds = [_run_bounds(int(k), int(n)) for k, n in zip(sentences, longest, strict=True)]
    run_pair = np.repeat(np.arange(len(chars)), [len(a) for a, _ in bounds])
    a, b = np.concatenate([a for a, _ in bounds]), np.concatenate([b for _, b in bounds])
    offset = p_first[pair_p[run_pair]]
    length = s_start[offset + b + 1] - s_start[offset + a]
    shared = np.zeros((len(a), CHRF_ORDER), dtype=np.intp)
    held = np.bincount(f_of * width + f_digit, minlength=len(foreigns) * width).reshape(-1, width)
    held[:, 0] = 0
    running = np.zeros((len(s_len) + 1, width), dtype=np.intp)
    running[1:] = np.cumsum(np.bincount(p_sentence * width + p_digit, minlength=len(s_len) * width)
                            .reshape(-1, width), axis=0)
    shared[:, 0] = np.minimum(held[pair_f[run_pair]], running[offset + b + 1] - running[offset + a]).sum(axis=1)

    # The characters of every pair's paragraph, each paragraph followed by a stop, pair after pair, and one
    # more stop: the bigrams are read at every position, the last stop's too.
    p_begin = s_start[p_first[:-1]]
    p_end = s_start[p_first[1:]]
    stopped = np.insert(p_digit, p_end, 0)
    size = (p_end - p_begin)[pair_p] + 1
    at_start = _starts(size)
    copies = np.repeat(p_begin[pair_p] + pair_p - at_start[:-1], size) + np.arange(int(at_start[-1]))
    p_digits = np.append(stopped[copies], 0)
    pair_of = np.repeat(np.arange(len(chars), dtype=np.int32), size)
    local = (p_sentence - np.repeat(p_first[:-1], np.diff(p_first))[p_sentence]).astype(np.int32)  # in its paragraph

    key_base = _starts(f_len[pair_f] + 1)  # an n-gram of a pair's foreign text: one key of the pair's range
    small = int(key_base[-1]) <= 1 << 16  # keys fit 16 bits: a radix sort
    cell_base = _starts((CHRF_ORDER - 1) * sentences * (longest + 1))
    plus, minus = [], []
    table = np.zeros(len(f_codes) * width, dtype=np.int32)  # one level at a time, cleared after it
    # Before the first character, an n-gram's number is its foreign text's (a paragraph's: its pair's).
    f_at, f_ids = np.arange(len(f_codes), dtype=np.int32), f_of.astype(np.int32)
    ids = np.repeat(pair_f, size).astype(np.int32)
    positions = int(at_start[-1])  # the first two levels read every position,
    at = np.zeros(0, dtype=np.intp)  # the next ones the live positions of the level before
    for n in range(1, CHRF_ORDER + 1):
        f_next = f_digit[f_at + n - 1]
        live = f_next > 0
        f_at, f_keys = f_at[live], f_ids[live] * width + f_next[live]
        p_keys = ids * width + (p_digits[n - 1 : positions + n - 1] if n <= 2 else p_digits[at + n - 1])
        table[f_keys] = f_at + 1
        f_ids = table[f_keys]
        found = table[p_keys]
        table[f_keys] = 0
        if n == 1:  # most characters match: all positions go on, a miss (0) reads no bigram's number
            ids = found
            continue
        live = np.flatnonzero(found)
        at, ids = live if n == 2 else at[live], found[live]
        pair = pair_of[at]
        key = key_base[pair] + ids - 1 - f_start[pair_f[pair]]
        occurrence = p_begin[pair_p[pair]] + at - at_start[pair]
        wanted = np.bincount(f_ids, minlength=len(f_codes) + 1)[ids]
        first, last = local[occurrence], local[occurrence + n - 1]
        # A run shares the occurrence when it starts after the sentence of the wanted-th occurrence
        # before (any run does when there are fewer), and at or before the occurrence's own. Only an
        # n-gram that a pair's paragraph holds more often than its foreign text has such occurrences: its
        # occurrences side by side, by position (a stable sort), tell.
        earliest = np.zeros(len(key), dtype=first.dtype)
        crowded = np.flatnonzero(np.bincount(key, minlength=int(key_base[-1]))[key] > wanted)
        if len(crowded):
            sort = crowded[np.argsort(key[crowded].astype(np.uint16) if small else key[crowded], kind="stable")]
            grouped, before = key[sort], wanted[sort]
            index = np.arange(len(sort))
            new = np.ones(len(sort), dtype=bool)
            new[1:] = grouped[1:] != grouped[:-1]
            rank = index - np.maximum.accumulate(np.where(new, index, 0))  # occurrences of it before
            earliest[sort] = np.where(rank >= before, first[sort][np.maximum(index - before, 0)] + 1, 0)
        reach = longest[pair]
        low = last - reach + 1  # the first sentence of the longest run that ends at `last`
        begin = np.maximum(earliest, low)
        counted = begin <= first
        row = cell_base[pair] + ((n - 2) * sentences[pair] + last) * (reach + 1) - low
        plus.append((row + begin)[counted])
        minus.append((row + first + 1)[counted])
    total = int(cell_base[-1])
    cells = np.cumsum(np.bincount(np.concatenate(plus), minlength=total)
                      - np.bincount(np.concatenate(minus), minlength=total))
    k, reach = sentences[run_pair], longest[run_pair]
    at_row = (cell_base[run_pair] + b * (reach + 1) + a - b + reach - 1)[:, None]
    counts = cells[at_row + np.arange(CHRF_ORDER - 1)[None, :] * (k * (reach + 1))[:, None]]
    # The rows of the run's last sentences: summed over the runs of one first sentence, shortest first.
    summed = np.concatenate([np.zeros((1, CHRF_ORDER - 1), dtype=counts.dtype), np.cumsum(counts, axis=0)])
    index = np.arange(len(a))
    shared[:, 1:] = summed[index + 1] - summed[index - (b - a)]
    orders = np.arange(CHRF_ORDER)[None, :]
    return _f_scores(shared, np.maximum(0, f_len[pair_f[run_pair]][:, None] - orders),
                     np.maximum(0, length[:, None] - orders))


def _starts(lengths: np.ndarray) -> np.ndarray:
    """Where each of consecutive pieces of these lengths starts, then where the last one ends."""
    return np.concatenate([np.zeros(1, dtype=np.intp), np.cumsum(lengths, dtype=np.intp)])


def _codes(chars: str) -> np.ndarray:
    """Each character's code point + 1 (a `_Grams` digit)."""
    return np.frombuffer(chars.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32).astype(np.intp) + 1


@lru_cache(maxsize=1024)
def _run_bounds(sentences: int, longest: int) -> tuple[np.ndarray, np.ndarray]:
    """The first and last sentence of every run of 1 to `longest` of `sentences` sentences, by first
    sentence, then by length."""
    pairs = [(i, j) for i in range(sentences) for j in range(i, min(sentences, i + longest))]
    first, last = np.array(pairs, dtype=np.intp).reshape(-1, 2).T
    return first, last


def _best(foreigns: Sequence[str], runs: _Runs) -> tuple[list[float], list[int]]:
    """Per pair: the best score among the runs a translation could be, and that run (the first on ties;
    -1 and 0 when none scores): length ratio within `LENGTH_RATIO`, and when both hold numbers, one at
    least in common (translations drop or reword a number now and then; they do not replace them all).
    A run's numbers are its sentences' (`_sentence_numbers`, found only for the paragraphs of a foreign
    text with numbers): it holds some when one of them does, and shares one when one of them does."""
    counts = np.diff(runs.offsets)
    sizes = np.array([len(foreign) for foreign in foreigns], dtype=np.intp)
    ratio = sizes[runs.pair] / np.maximum(1, runs.length)
    fits = (LENGTH_RATIO[0] <= ratio) & (ratio <= LENGTH_RATIO[1])
    held: list[bool] = []  # per sentence of each pair's paragraph, pair after pair
    shared: list[bool] = []
    found: dict[str, list[frozenset[str]] | None] = {}
    for i, (foreign, paragraph) in enumerate(zip(foreigns, runs.paragraphs, strict=True)):
        numbers = _numbers(foreign)
        if numbers and paragraph.text not in found:
            found[paragraph.text] = _sentence_numbers(paragraph)
        theirs = found.get(paragraph.text) if numbers else None
        if theirs is not None:
            held += [bool(n) for n in theirs]
            shared += [not numbers.isdisjoint(n) for n in theirs]
            continue
        if numbers:  # a number across sentences: each run's own
            mine = [_numbers(runs.text(r)) for r in range(int(runs.offsets[i]), int(runs.offsets[i + 1]))]
            fits[runs.offsets[i] : runs.offsets[i + 1]] &= [not (n and numbers.isdisjoint(n)) for n in mine]
        held += [False] * len(paragraph.sentences)
        shared += [False] * len(paragraph.sentences)
    base = _starts(np.array([len(paragraph.sentences) for paragraph in runs.paragraphs], dtype=np.intp))[runs.pair]
    holds = _starts(np.array(held, dtype=np.intp))
    shares = _starts(np.array(shared, dtype=np.intp))
    some = holds[base + runs.last + 1] > holds[base + runs.first]
    common = shares[base + runs.last + 1] > shares[base + runs.first]
    eligible = np.where(fits & ~(some & ~common), runs.scores, -1.0)
    top = np.maximum.reduceat(eligible, runs.offsets[:-1]) if len(counts) else np.zeros(0)
    scoring = top > 0
    at = np.flatnonzero(scoring[runs.pair] & (eligible == top[runs.pair]))
    pairs, index = np.unique(runs.pair[at], return_index=True)
    best = np.full(len(counts), -1, dtype=np.intp)
    best[pairs] = at[index]
    return np.where(scoring, top, 0.0).tolist(), best.tolist()


def _tops(runs: _Runs) -> list[float]:
    """Per pair, the best score of any of its runs (0 when none scores): how much a rival resembles the
    foreign text."""
    if len(runs.offsets) < 2:
        return []
    top: list[float] = np.maximum(np.maximum.reduceat(runs.scores, runs.offsets[:-1]), 0.0).tolist()
    return top


def corroborated(foreign: str, run: str) -> bool:
    """Evidence that survives translation, beyond shared n-grams: a number or a capitalised word (a name)
    in both, or the same sequence of punctuation marks (at least three, 3/4 alike)."""
    if _numbers(foreign) & _numbers(run):
        return True
    if _names(foreign) & _names(run):
        return True
    marks_f, marks_r = _PUNCTUATION.findall(foreign), _PUNCTUATION.findall(run)
    if min(len(marks_f), len(marks_r)) < 3:
        return False
    alike = SequenceMatcher(None, [_MARKS.get(m, m) for m in marks_f], [_MARKS.get(m, m) for m in marks_r])
    return alike.ratio() >= 0.75


def stands_out(questions: Sequence[tuple[str, list[str], list[str]]], margins: tuple[float, float],
               split: Mapping[str, Sentences] | None = None) -> list[tuple[int, float] | None]:
    """Per question (foreign text, candidates, background): the candidate the foreign text translates, by
    `resemblances` among the runs a translation could be (`_best`), if it beats every background
    paragraph and every other candidate (any of their runs) by the first of `margins`, or by the second
    when `corroborated`: its position in the candidates and its lead; None without a rival at least half as
    long as the foreign text to compare with.

    The questions are answered together, in two rounds of `resemblances`: every foreign text against its
    candidates, then against its background when the candidates did not settle it (one rival close enough
    does: most foreign paragraphs stop there). `split` may hold the sentences of candidate and background
    paragraphs that were split already, as `sentences_with_breaks` gives them."""
    strong, close = margins
    # Only paragraphs of a comparable size measure the background: a name line shares little with anything.
    # A shorter one has no run a translation could be either (LENGTH_RATIO), so it is not scored at all.
    near = [[i for i, c in enumerate(candidates) if len(c) * 2 >= len(foreign)]
            for foreign, candidates, _ in questions]
    far = [[b for b in background if len(b) * 2 >= len(foreign)] for foreign, _, background in questions]
    prepared: dict[str, _Paragraph] = {}
    asked = [foreign for (foreign, _, _), comparable in zip(questions, near, strict=True) for _ in comparable]
    found = resemblances(asked, [candidates[i] for (_, candidates, _), comparable in zip(questions, near, strict=True)
                                 for i in comparable], prepared, split)
    scores, best_runs = _best(asked, found)
    tops = _tops(found)
    answers: list[tuple[int, float] | None] = [None] * len(questions)
    leaders: list[tuple[int, int, float, int, float]] = []  # question, best, its score and run, top rival so far
    start = 0
    for q, ((_, candidates, _), comparable) in enumerate(zip(questions, near, strict=True)):
        mine = range(start, start + len(comparable))
        start += len(comparable)
        if not candidates:
            continue
        scored = [0.0] * len(candidates)
        for i, pair in zip(comparable, mine, strict=True):
            scored[i] = scores[pair]
        best = max(range(len(candidates)), key=scored.__getitem__)
        score = scored[best]
        rivals = [pair for i, pair in zip(comparable, mine, strict=True) if i != best]
        if not (rivals or far[q]) or score < close:
            continue
        top = max([0.0] + [tops[pair] for pair in rivals])
        if score - top >= close:
            run = next((best_runs[pair] for i, pair in zip(comparable, mine, strict=True) if i == best), -1)
            leaders.append((q, best, score, run, top))
    waiting = [leader for leader in leaders if far[leader[0]]]
    background = iter(_tops(resemblances([questions[q][0] for q, *_ in waiting for _ in far[q]],
                                         [b for q, *_ in waiting for b in far[q]], prepared, split)))
    rounds = {q: max([top] + [next(background) for _ in far[q]]) for q, _, _, _, top in waiting}
    for q, best, score, run, top in leaders:
        lead = score - rounds.get(q, top)
        if lead >= close and (lead >= strong or corroborated(questions[q][0], found.text(run) if run >= 0 else "")):
            answers[q] = (best, lead)
    return answers


@lru_cache(maxsize=4096)
def _content(text: str) -> str:
    """The folded content words (4+ letters, as `_stems` counts them) and numbers: what a translation keeps
    of its original's spelling, without the function words every text of a language shares."""
    return fold(" ".join(w for w in _TOKENS.findall(text)
                         if len(w) >= 4 or (not w.isalpha() and any(c.isdigit() for c in w))))


def _names(text: str) -> set[str]:
    """Folded capitalised words of 3+ letters: names, and words that start a sentence or are German nouns,
    which are rarely spelt alike in another language."""
    return {fold(w) for w in _LETTERS.findall(text) if len(w) >= 3 and w[0].isupper()}
