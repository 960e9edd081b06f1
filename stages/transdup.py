"""Translation duplicates: does a foreign paragraph say what a main-language paragraph says?

Without a model (`languages`, before translation), two rules; either marks a duplicate:
- `translation_evidence`: an adjacent paragraph with the same numbers, about as many sentences, a length
  within 1:2, and enough shared cognates and names (four-letter folded stems);
- `stands_out`: a translation shares more character n-grams with its original than with the rest of the
  document, even across languages (names, numbers, cognates, punctuation survive translation), while a
  paragraph on the same story shares about as much with all of it. So the candidate within
  `distance` blocks must beat every other main-language paragraph of the document (the background) by a
  margin in `resemblance`: chrF on the accent-folded, lower-cased content words and numbers, against the
  run of the candidate's sentences that matches best, with a plausible length ratio and no contradicting number.

With a model (`translate`, after translation): `best_chrf`, the chrF of the translation against the
paragraph, or against the run of its sentences it matches best (a partial translation).

chrF is the cost of both: one foreign paragraph is compared with every run of sentences of many others.
So `chrf_many` compares one text with many at once: each text's n-grams are numbers (cached per text),
and the shared counts come from one numpy search over all of the others' n-grams.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np

from stages.sentences import split_sentences

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
    German and English (k/c, z/c, ph/f, ...). Names count too, as they are written alike."""
    n_foreign, n_main = len(split_sentences(foreign)), len(split_sentences(main))
    if abs(n_foreign - n_main) > max(1, max(n_foreign, n_main) // 4):
        return 0.0
    ratio = len(foreign) / max(1, len(main))
    if not 0.5 <= ratio <= 2.0:
        return 0.0
    numbers_f, numbers_m = _numbers(foreign), _numbers(main)
    if (numbers_f or numbers_m) and len(numbers_f & numbers_m) * 2 < len(numbers_f | numbers_m):
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
    """Four-letter stems of the content words, folded so that cognates meet."""
    out: set[str] = set()
    for word in _LETTERS.findall(text):
        if len(word) < 4:
            continue
        folded = "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))
        for a, b in _SPELLING:
            folded = folded.replace(a, b)
        out.add(folded[:4])
    return out


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
    hyp_totals = hyp.totals if hyp is not None else tuple(t for _, t in hyp_profile)
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
    points = np.frombuffer(chars.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32).astype(np.int64) + 1
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


def _f_scores(shared: np.ndarray, hyp_totals: tuple[int, ...], ref_totals: np.ndarray) -> np.ndarray:
    """chrF per row from the shared n-grams of each order (columns) and both texts' numbers of n-grams
    (`ref_totals` per row, 0 past a text's longest order): the precisions and recalls of the orders both
    texts have, averaged. Summed in order of n (`cumsum` adds one after the other, as a Python `sum` does),
    so the figures are those of the definition to the last bit."""
    hyp = np.zeros(CHRF_ORDER, dtype=np.int64)
    hyp[: len(hyp_totals)] = hyp_totals
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


@lru_cache(maxsize=1024)
def sentence_runs(text: str, longest: int) -> tuple[str, ...]:
    """Every run of 1 to `longest` consecutive sentences of `text` (the whole text if it has none).
    Cached: a paragraph is compared with each foreign paragraph near it."""
    spans = split_sentences(text)
    runs = tuple(text[spans[i].start : spans[j].end]
                 for i in range(len(spans)) for j in range(i, min(len(spans), i + longest)))
    return runs or (text,)


def resemblance(foreign: str, paragraphs: Sequence[str]) -> list[list[tuple[str, float]]]:
    """Per paragraph, for each run of its sentences up to one sentence longer than `foreign`: the run and
    the chrF of `foreign`'s content words against the run's (`_content`). A paragraph's n-grams are
    counted once (`_Sentences`), whichever foreign text it is compared with; all runs of all paragraphs are
    scored together (`_run_scores`)."""
    longest = len(sentence_runs(foreign, 1)) + 1
    content = _content(foreign)
    hyp = _grams(content)
    runs = [sentence_runs(paragraph, longest) for paragraph in paragraphs]
    prepared = [_sentences(p) for p in paragraphs] if hyp is not None else [None] * len(paragraphs)
    ready = [(text, p) for text, p in zip(paragraphs, prepared, strict=True) if p is not None]
    fast = iter(_run_scores(hyp, longest, ready) if hyp is not None and ready else [])
    out = []
    for each, sentences in zip(runs, prepared, strict=True):
        scores = next(fast) if sentences is not None else chrf_many(content, [_content(run) for run in each])
        out.append(list(zip(each, scores, strict=True)))
    return out


@dataclass(frozen=True, slots=True)
class _Sentences:
    """A paragraph's content characters (`_content`, spaces removed), sentence after sentence, with their
    n-grams of every order numbered as `_Grams` numbers them: what `_run_scores` needs to count, for every
    run of sentences at once, the n-grams it shares with a foreign text.

    A run's content is its sentences' contents one after the other (no word spans a sentence break), so
    it holds an occurrence of an n-gram when it starts at or before the occurrence's first sentence and
    ends at or after its last one. It shares that occurrence with a foreign text that has the n-gram `h`
    times unless it holds it `h` times before already: unless it starts at or before the sentence of the
    `h`-th occurrence before. So each occurrence is shared by the runs whose first sentence lies in a
    range and whose last sentence is at least another: counted in a small table per order."""

    sentences: int
    starts: np.ndarray  # character offset of each sentence's content, then the end of the paragraph's
    grams: np.ndarray  # rows: n-gram number, order - 1, first and last sentence; columns: the n-grams,
    # order by order, each order's by position


def _run_scores(hyp: _Grams, longest: int, paragraphs: list[tuple[str, _Sentences]]) -> list[list[float]]:
    """Per paragraph, the chrF of `hyp` against each run of 1 to `longest` of its sentences (in
    `sentence_runs` order), counted in one pass over all of the paragraphs' n-grams (`_Sentences`)."""
    runs = [_runs(text, longest) for text, _ in paragraphs]
    size = np.concatenate([r[2] for r in runs])
    ready = [p for _, p in paragraphs]
    grams = np.concatenate([p.grams for p in ready], axis=1)
    if not len(hyp.ids) or not grams.shape[1]:
        shared = np.zeros_like(size)
    else:
        at = np.minimum(np.searchsorted(hyp.ids, grams[0]), len(hyp.ids) - 1)
        keep = np.flatnonzero(hyp.ids[at] == grams[0])  # only the n-grams the foreign text has can be shared
        owner = np.repeat(np.arange(len(ready)), [p.grams.shape[1] for p in ready])[keep]
        # Occurrences of one n-gram of one paragraph side by side, by position (a stable sort).
        sort = np.argsort(owner * len(hyp.ids) + at[keep], kind="stable")
        keep, owner, at = keep[sort], owner[sort], at[keep][sort]
        order, first, last = grams[1:, keep]
        wanted = hyp.counts[at]
        index = np.arange(len(keep))
        new = np.ones(len(keep), dtype=bool)
        new[1:] = (at[1:] != at[:-1]) | (owner[1:] != owner[:-1])
        rank = index - np.maximum.accumulate(np.where(new, index, 0))  # occurrences of it before
        # A run shares the occurrence when it starts after the sentence of the wanted-th occurrence
        # before (any run does when there are fewer), and at or before the occurrence's own.
        earliest = np.where(rank >= wanted, first[np.maximum(index - wanted, 0)] + 1, 0)
        widest = max(p.sentences for p in ready)
        # Per paragraph and order, a table over (first sentence of the run, last sentence): +1 where the
        # range of first sentences starts, -1 past its end, at the smallest last sentence; summed along
        # both axes, a cell holds the run's shared count.
        cell = ((owner * CHRF_ORDER + order) * (widest + 1)) * widest + last
        total = len(ready) * CHRF_ORDER * (widest + 1) * widest
        table = (np.bincount(cell + earliest * widest, minlength=total)
                 - np.bincount(cell + (first + 1) * widest, minlength=total))
        table = table.reshape(len(ready), CHRF_ORDER, widest + 1, widest).cumsum(axis=2).cumsum(axis=3)
        which = np.repeat(np.arange(len(ready)), [len(r[0]) for r in runs])
        start = np.concatenate([r[0] for r in runs])
        end = np.concatenate([r[1] for r in runs])
        shared = table[which[:, None], np.arange(CHRF_ORDER)[None, :], start[:, None], end[:, None]]
    scores = _f_scores(shared, hyp.totals, size).tolist()
    ends = np.cumsum([len(r[0]) for r in runs]).tolist()
    return [scores[a:b] for a, b in zip([0, *ends], ends, strict=False)]


@lru_cache(maxsize=256)
def _runs(paragraph: str, longest: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per run of 1 to `longest` sentences of `paragraph` (`sentence_runs` order): its first and last
    sentence and its number of n-grams of each order."""
    prepared = _sentences(paragraph)
    assert prepared is not None
    count = prepared.sentences
    pairs = [(i, j) for i in range(count) for j in range(i, min(count, i + longest))]
    first, last = np.array(pairs, dtype=np.intp).reshape(-1, 2).T
    length = prepared.starts[last + 1] - prepared.starts[first]
    return first, last, np.maximum(0, length[:, None] - np.arange(CHRF_ORDER)[None, :])


@lru_cache(maxsize=256)
def _sentences(paragraph: str) -> _Sentences | None:
    """The paragraph's `_Sentences`, or None when a character does not fit `_Grams` numbers. Cached: one
    paragraph is compared with several foreign ones."""
    spans = split_sentences(paragraph)
    pieces = [paragraph[s.start : s.end] for s in spans] or [paragraph]  # no sentence: one run, the text
    chars = ["".join(_content(piece).split()) for piece in pieces]
    points = np.frombuffer("".join(chars).encode("utf-32-le", errors="surrogatepass"),
                           dtype=np.uint32).astype(np.int64) + 1
    if len(points) and int(points.max()) >= _BASE:
        return None
    starts = np.cumsum([0] + [len(c) for c in chars]).astype(np.int64)
    packed, positions = [points], [np.arange(len(points))]
    for n in range(2, min(CHRF_ORDER, len(points)) + 1):
        packed.append(packed[-1][:-1] * _BASE + points[n - 1 :])
        positions.append(positions[0][: len(points) - n + 1])
    order = np.repeat(np.arange(len(packed)), [len(p) for p in packed])
    position = np.concatenate(positions)
    # An occurrence's first sentence: the last one starting at or before it (empty sentences start where
    # the next does); its last: the first one ending at or after its end.
    first = np.searchsorted(starts[:-1], position, side="right") - 1
    last = np.searchsorted(starts[1:], position + order + 1, side="left")
    return _Sentences(len(chars), starts, np.stack([np.concatenate(packed), order, first, last]))


def _best(foreign: str, scored: list[tuple[str, float]], *, gated: bool) -> tuple[float, str]:
    """The best-scoring run, first on ties, and its score; (0, "") when none scores. `gated`: only among the
    runs a translation could be: length ratio within `LENGTH_RATIO`, and when both hold numbers, one at least
    in common (translations drop or reword a number now and then; they do not replace them all)."""
    numbers = _numbers(foreign)
    best = (0.0, "")
    for run, score in scored:
        if gated:
            ratio = len(foreign) / max(1, len(run))
            theirs = _numbers(run)
            if not LENGTH_RATIO[0] <= ratio <= LENGTH_RATIO[1] or (numbers and theirs and not numbers & theirs):
                continue
        if score > best[0]:
            best = (score, run)
    return best


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


def stands_out(foreign: str, candidates: list[str], background: list[str],
               margins: tuple[float, float]) -> tuple[int, float] | None:
    """The candidate `foreign` translates, by `resemblance` among the runs a translation could be (`_best`,
    gated), if it beats every background paragraph and every other candidate (any of their runs) by the
    first of `margins`, or by the second when `corroborated`: its position in `candidates` and its lead;
    None without a background paragraph at least half as long as `foreign` to compare with."""
    if not candidates:
        return None
    # Only paragraphs of a comparable size measure the background: a name line shares little with anything.
    # A shorter one has no run a translation could be either (LENGTH_RATIO), so it is not scored at all.
    comparable = [i for i, c in enumerate(candidates) if len(c) * 2 >= len(foreign)]
    runs: list[list[tuple[str, float]] | None] = [None] * len(candidates)
    for i, found in zip(comparable, resemblance(foreign, [candidates[i] for i in comparable]), strict=True):
        runs[i] = found
    scored = [(0.0, "") if r is None else _best(foreign, r, gated=True) for r in runs]
    best = max(range(len(candidates)), key=lambda i: scored[i][0])
    score, run = scored[best]
    strong, corroborated_margin = margins
    others = [(c, runs[i]) for i, c in enumerate(candidates) if i != best] + [(b, None) for b in background]
    rivals = [(text, r) for text, r in others if len(text) * 2 >= len(foreign)]  # nearest first
    if not rivals or score < corroborated_margin:
        return None
    top = 0.0
    for text, known in rivals:
        # A background paragraph is scored only when the rivals before it did not settle it.
        top = max(top, _best(foreign, resemblance(foreign, [text])[0] if known is None else known, gated=False)[0])
        if score - top < corroborated_margin:
            return None  # one rival close enough settles it: most foreign paragraphs stop here
    lead = score - top
    if lead >= strong or corroborated(foreign, run):
        return best, lead
    return None


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
