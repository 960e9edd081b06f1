"""py3langid's model, computed for a batch of texts at once with numpy: the default detector.

The numbers are py3langid's own (`LanguageIdentifier` with `norm_probs`); only the way of computing them
differs. This module reads the model's arrays (`tk_nextmove`, `tk_output`, `nb_ptc`, ...), so tamis bounds
the py3langid version it accepts, and `tests/test_install.py` fails loudly if a release changes them.

Loading py3langid's model (decompressing it) and deriving the arrays from it costs about a second, which
every worker would pay. So the derived arrays are kept as `.npy` files in the user's cache directory
(`$XDG_CACHE_HOME/tamis`, else `~/.cache/tamis`), in a folder named by the py3langid version, the language
set and the constants the derivation uses, and later processes memory-map them (the pages are shared by
every process of the machine). A cache that cannot be written or read is not an error: the arrays are then
computed, as without a cache. `warm(languages)` loads everything a worker needs into this module's caches,
for a parent process to do once before it forks its workers.
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import tempfile
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import SetupError
from stages.detectors import Detector, Guess, Guesses


class Py3langid(Detector):
    """py3langid's model and numbers (`LanguageIdentifier` with `norm_probs`: a softmax over the naive
    Bayes scores tempered by the square root of the byte length), computed for a batch at once with numpy:
    the automaton steps every byte of the batch together (`_Automaton`), and the products use only the
    columns the answer needs (`_Scorer`)."""

    name = "py3langid"

    def __init__(self, languages: tuple[str, ...]) -> None:
        super().__init__(languages)
        self._automaton, self._scorer = warm(languages)

    def detect(self, text: str) -> Guess:
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str], other_share: float = 0.0) -> list[Guess]:
        return list(self.table(texts, other_share))

    def table(self, texts: Sequence[str], other_share: float = 0.0) -> Guesses:
        encoded = [_encode(text) for text in texts]
        found = self._automaton.found(encoded)
        temperature = np.sqrt(np.maximum([len(e) for e in encoded], 1))
        probs, outside = self._scorer.score(found, len(texts), temperature, other_share)
        letters = np.fromiter((any(map(str.isalpha, text)) for text in texts), dtype=bool, count=len(texts))
        if not letters.all():  # no letters: the flat guess
            probs[~letters] = 1.0 / len(self.languages)
            outside[~letters] = 0.0
        return Guesses(self.languages, probs, outside)


def warm(languages: tuple[str, ...]) -> tuple[_Automaton, _Scorer]:
    """Everything a `Py3langid` detector for `languages` needs, loaded once per process (from the cache
    directory when it holds it) and kept: calling it again costs nothing, and a process forked after it
    shares the arrays. Raises `SetupError` for a language py3langid does not know."""
    unknown = set(languages) - set(_classes())
    if unknown:
        raise SetupError(f"py3langid does not know language(s) {', '.join(sorted(unknown))}")
    return _automaton(), _scorer(languages)


@cache
def _py3langid_model() -> Any:
    """One unrestricted model per process, shared by every stage instance (loading takes half a second);
    it is never restricted in place, so sharing it is safe."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _encode(text: str) -> bytes:
    """The bytes py3langid scores: all-capital text lower-cased, NFC, UTF-8."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


_SEPARATOR = 0xFF  # never in UTF-8


@dataclass(frozen=True)
class _Automaton:
    """py3langid's n-gram automaton as arrays, stepped for every byte of a batch at once.

    Its state after a text is the longest suffix of the text that starts an n-gram, so it depends only on
    the last `window` bytes (the deepest state's depth): each byte's state is found by `window` numpy
    steps from the start state over the whole batch, instead of one Python step per byte. A step needs
    only the next state's transition row, so the tables map (row, byte) straight to the next row, the
    first two steps from the start state are one lookup by the two bytes, and the last step gives the
    feature emitted. Rows are 16-bit numbers when the model has no more than 65,536 of them: the step
    table is then half as large (20 MB), and its lookups miss the processor's caches less. The byte 0xFF
    leads every state back to the start and emits nothing, so it separates the texts of a batch."""

    step: np.ndarray  # [row << 8 | byte] → the next state's row
    start2: np.ndarray  # [byte1 << 8 | byte2] → the row of the state two bytes from the start
    emit: np.ndarray  # [row << 8 | byte] → the feature the next state emits, or -1
    start: int  # the start state's row
    features: int  # how many features the model has
    window: int

    def found(self, encoded: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(text, feature, count) for each feature found in each text, ordered by text, then feature."""
        separator = bytes([_SEPARATOR])
        joined = separator.join(encoded)
        padded = separator * (self.window - 1) + joined
        data = np.frombuffer(padded, dtype=np.uint8)
        size = len(joined)
        if self.window >= 3:  # a view of every two consecutive bytes as one big-endian index
            row = self.start2[np.ndarray(shape=(size,), dtype=">u2", buffer=padded, strides=(1,))]
            first = 2
        else:
            row, first = np.full(size, self.start, dtype=self.step.dtype), 0
        index = np.empty(size, dtype=np.intp)  # row << 8 plus the next byte, as the index `take` wants
        for k in range(first, self.window):
            np.left_shift(row, 8, out=index, dtype=np.intp)
            index += data[k : k + size]
            if k < self.window - 1:
                np.take(self.step, index, out=row)
        feature = self.emit.take(index)
        # (text, feature) as one key, the text in the high bits, 32 bits wide when the batch allows it: the
        # sort is the costly part, and shifts and masks take the key apart again. Each byte's key is its
        # text's base plus its feature, made for every byte and kept for the hits.
        bits = max(self.features - 1, 1).bit_length()
        wide = np.uint32 if len(encoded) << bits <= 2**32 else np.uint64
        bases = np.arange(len(encoded), dtype=wide) << wide(bits)
        keys = np.repeat(bases, [len(e) + 1 for e in encoded])[:size]
        keys |= feature.astype(wide)
        keys = keys[feature >= 0]
        keys.sort()
        if not len(keys):
            empty = np.zeros(0, dtype=np.intp)
            return empty, empty, empty
        first_of = _runs(keys)
        counts = np.diff(first_of, append=len(keys))
        unique = keys[first_of]
        return (unique >> wide(bits)).astype(np.intp), (unique & wide((1 << bits) - 1)).astype(np.intp), counts


@cache
def _classes() -> tuple[str, ...]:
    """The model's languages, in the order of its columns."""
    arrays = _cached("classes", lambda: {"classes": np.array(_py3langid_model().nb_classes, dtype=str)})
    return tuple(str(c) for c in arrays["classes"])


@cache
def _automaton() -> _Automaton:
    arrays = _cached("automaton", _automaton_arrays)
    return _Automaton(arrays["step"], arrays["start2"], arrays["emit"], int(arrays["start"]),
                      int(arrays["features"]), int(arrays["window"]))


def _automaton_arrays() -> dict[str, np.ndarray]:
    model = _py3langid_model()
    nextmove = np.frombuffer(model.tk_nextmove, dtype=np.uint32)
    rowbase = np.asarray(model.tk_row, dtype=np.uint32) << 8
    output = np.asarray(model.tk_output, dtype=np.intp)
    if nextmove[rowbase + _SEPARATOR].any() or output[0] >= 0:
        raise SetupError("py3langid model: byte 0xFF does not lead back to the start state; cannot batch")
    rows = rowbase[nextmove] >> 8
    if rows.max() < 2**16:
        rows = rows.astype(np.uint16)
    every_byte = np.arange(256, dtype=np.uint32)
    start2 = rows[(rows[rowbase[0] + every_byte][:, None].astype(np.uint32) << 8) + every_byte[None, :]].ravel()
    return {"step": rows, "start2": start2, "emit": output[nextmove].astype(np.int32),
            "start": np.array(rowbase[0] >> 8), "features": np.array(int(output.max()) + 1),
            "window": np.array(_depth(nextmove, rowbase))}


def _depth(nextmove: np.ndarray, rowbase: np.ndarray) -> int:
    """The largest number of bytes needed to reach a state from the start (breadth-first). States share
    transition rows, so each step gathers the frontier's distinct rows, whole."""
    table, rows = nextmove.reshape(-1, 256), rowbase >> 8
    seen = np.zeros(len(rows), dtype=bool)
    seen[0] = True
    frontier, depth = np.array([0]), 0
    while True:
        reached = np.zeros(len(rows), dtype=bool)
        reached[table[np.unique(rows[frontier])]] = True
        frontier = np.flatnonzero(reached & ~seen)
        if not len(frontier):
            return depth
        seen[frontier] = True
        depth += 1


_GROUPS = 24  # bound columns for the languages outside the set: more is tighter but slower
_GROUPING_FEATURES = 5000  # the n-grams the set's languages use most decide which outside languages group well
_MARGIN = 0.05  # nats of slack for float32 sums before a bound rules `other` out
# Columns of the first, coarser bound, each the maximum of a few groups: with fewer, more texts need the
# groups' bound; with more, every text gathers more. No number depends on it; 6 scored the bench corpus
# fastest of 1 to 13 (the groups' bound then reads 4 % of its texts, 5 % of the mixed dev set's).
_COARSE = 6
_TYPICAL_FEATURES = 100  # n-grams of a typical sentence, each seen once: what the coarse groups are merged for
_ROUNDING = 2.0**-24  # float32's unit roundoff


@dataclass(frozen=True)
class _Scorer:
    """Scores restricted to a language set, and a cheap upper bound on the mass outside it.

    `inside` holds the set's columns (several per language when py3langid splits one by script). The
    naive Bayes score is a sum of non-negative weights times the model's values, so a column holding,
    per n-gram, the highest value of a group of outside languages bounds each member's score, and the
    group, with its size, bounds its share of the mass. `groups` holds such columns for `_GROUPS`
    groups; `coarse` holds `_COARSE` columns, each the maximum of a few groups, which bound the mass of
    the groups, so that `score` gathers nine columns per n-gram (for three languages), the groups' only
    for the few texts the coarse bound cannot settle, and all of the model's for the fewer still where
    `other` is in reach. Each bound is tested with room for the float32 rounding of both sums, so the texts that get
    the unrestricted model, and every number, are those of the groups' bound alone."""

    # Every table is stored by n-gram (n-gram → columns): a gather then reads each n-gram's values from one
    # or a few cache lines, where a table stored by column costs one line per column (half of `score`'s
    # time in that layout).
    table: np.ndarray  # [set columns | coarse group maxima], float32 (the model's float16 values, exactly)
    priors: np.ndarray
    fold: np.ndarray  # set column → language, 0/1
    coarse_log_sizes: np.ndarray  # log of each coarse group's number of languages
    deepest: np.ndarray  # the largest magnitude of a value in `groups`, which bounds the rounding of its sums
    groups: np.ndarray  # group maxima, float16 like the model
    group_priors: np.ndarray
    log_sizes: np.ndarray  # log of each group's number of languages
    full_table: np.ndarray  # the model's columns, float16
    full_priors: np.ndarray
    table_once: np.ndarray  # `table` times the weight of an n-gram seen once, in float32: most n-grams' products

    def score(self, found: tuple[np.ndarray, np.ndarray, np.ndarray], n: int, temperature: np.ndarray,
              other_share: float) -> tuple[np.ndarray, np.ndarray]:
        """Per text: the probabilities of the set's languages, and the mass outside the set where it may
        reach `other_share` (else 0.0)."""
        text, feature, counts = found
        weights = _weights(counts)
        scaled = _sums(self.table, self.priors, text, feature, weights, n, self.table_once) / temperature[:, None]
        k = len(self.fold)
        log_inside = _logsumexp(scaled[:, :k])
        probs = np.exp(scaled[:, :k] - log_inside[:, None]) @ self.fold
        outside = np.zeros(n)
        if other_share >= 1.0:  # the mass outside is below 1 whenever the set has any
            return probs, outside
        need = np.ones(n, dtype=bool)
        if other_share > 0.0:
            need = self._may_reach(scaled[:, k:], text, feature, weights, n, temperature, log_inside,
                                   math.log(other_share / (1.0 - other_share)) - _MARGIN)
        if need.any():
            keep = _keys_of(text, np.flatnonzero(need))
            full = _sums(self.full_table, self.full_priors, text[keep], feature[keep], weights[keep], n)[need]
            log_all = _logsumexp(full / temperature[need, None])
            outside[need] = np.maximum(0.0, 1.0 - np.exp(log_inside[need] - log_all))
        return probs, outside

    def _may_reach(self, coarse: np.ndarray, text: np.ndarray, feature: np.ndarray, weights: np.ndarray, n: int,
                   temperature: np.ndarray, log_inside: np.ndarray, threshold: float) -> np.ndarray:
        """Per text: whether the groups' bound on the log-odds of the mass outside reaches `threshold`.
        The coarse bound decides where it falls short by more than the rounding of the two sums can
        explain: each float32 sum of n products is within (n + 1) roundoffs of the sum of magnitudes,
        `deepest` times the weights, from the exact one, and the coarse exact sum is the larger."""
        terms = np.bincount(text, minlength=n)
        gamma = (terms + 1) * _ROUNDING  # the classic bound: gamma / (1 - gamma) of the magnitudes
        magnitude = float(self.deepest) * np.bincount(text, weights, n) * 1.001
        rounding = np.where(gamma < 0.5, 2 * gamma / np.maximum(1 - gamma, 0.5) * magnitude, np.inf)
        doubt = (_logsumexp(coarse + self.coarse_log_sizes) + rounding / temperature + 1e-6
                 - log_inside >= threshold)
        need = np.zeros(n, dtype=bool)
        if doubt.any():
            keep = _keys_of(text, np.flatnonzero(doubt))
            groups = _sums(self.groups, self.group_priors, text[keep], feature[keep], weights[keep], n)[doubt]
            log_bound = _logsumexp(groups / temperature[doubt, None] + self.log_sizes)
            need[doubt] = log_bound - log_inside[doubt] >= threshold
        return need


def _runs(text: np.ndarray) -> np.ndarray:
    """Where each run of equal values of `text` (sorted) starts."""
    new = np.empty(len(text), dtype=bool)
    new[:1] = True
    np.not_equal(text[1:], text[:-1], out=new[1:])
    return np.flatnonzero(new)


def _keys_of(text: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The positions in `text` (sorted) of the n-grams of the texts `chosen` (sorted), in order: each text's
    n-grams are one run, so a few texts' are found by their runs' ends, not by a mask over every n-gram."""
    first = np.searchsorted(text, chosen, side="left")
    sizes = np.searchsorted(text, chosen, side="right") - first
    return np.repeat(first - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())


_SMALL_COUNTS = np.log1p(np.arange(256, dtype=np.float32))  # an n-gram is seldom seen more often in a sentence


def _weights(counts: np.ndarray) -> np.ndarray:
    """py3langid's weight of an n-gram seen `count` times, log1p(count) in float32: looked up for the
    small counts (numpy's log1p gives the same float32 numbers in a table as in any array)."""
    if len(counts) and counts.max() < len(_SMALL_COUNTS):
        small: np.ndarray = _SMALL_COUNTS[counts]
        return small
    return np.log1p(counts.astype(np.float32))


def _sums(table: np.ndarray, priors: np.ndarray, text: np.ndarray, feature: np.ndarray, weights: np.ndarray,
          n: int, once: np.ndarray | None = None) -> np.ndarray:
    """Naive Bayes scores per text (rows) and column of `table` (stored by n-gram): weighted n-gram values
    plus the prior; a text without n-grams scores 0 everywhere, as in py3langid. Each text's sum is
    numpy's (pairwise) float32 sum of its own values, whatever the other texts and columns: a column or a
    text scored apart gets the very same number. `once`, when given, is `table` times the weight of a
    single occurrence, in float32 (the same products, one multiplication each): the values of most
    n-grams are then gathered ready, and only the few repeated ones are multiplied here; the gathered
    rows are summed along the n-gram axis as they come (for the few columns of the set and the coarse
    bound, faster than a transposed copy; for the wide tables, the copy is the faster)."""
    out = np.zeros((n, table.shape[1]))
    if not len(text):
        return out
    starts = _runs(text)
    if once is None:  # summed by column, each column's values in one run
        values = np.ascontiguousarray(table.take(feature, axis=0).T, dtype=np.float32)
        values *= weights
        out[text[starts]] = np.add.reduceat(values, starts, axis=1).T + priors
        return out
    values = once.take(feature, axis=0)
    repeated = np.flatnonzero(weights != _SMALL_COUNTS[1])
    values[repeated] = table.take(feature[repeated], axis=0) * weights[repeated, None]
    out[text[starts]] = np.add.reduceat(values, starts, axis=0) + priors
    return out


def _logsumexp(x: np.ndarray) -> np.ndarray:
    top: np.ndarray = x.max(axis=1)
    total: np.ndarray = top + np.log(np.exp(x - top[:, None]).sum(axis=1))
    return total


@cache
def _scorer(languages: tuple[str, ...]) -> _Scorer:
    arrays = _cached(f"scorer-{'-'.join(languages)}-groups{_GROUPS}-features{_GROUPING_FEATURES}-coarse{_COARSE}",
                     lambda: _scorer_arrays(languages))
    return _Scorer(**arrays, table_once=arrays["table"] * _SMALL_COUNTS[1])


def _scorer_arrays(languages: tuple[str, ...]) -> dict[str, np.ndarray]:
    model = _py3langid_model()
    classes = list(model.nb_classes)
    inside = [i for i, c in enumerate(classes) if c in languages]
    outside = [i for i, c in enumerate(classes) if c not in languages]
    ptc, pc = np.asarray(model.nb_ptc), np.asarray(model.nb_pc, dtype=np.float64)
    groups = _group(ptc, inside, outside)
    maxima = np.column_stack([ptc[:, g].max(axis=1) for g in groups])
    group_priors = np.array([pc[g].max() for g in groups])
    sizes = np.array([len(g) for g in groups])
    coarse = _merge(ptc[:, inside], maxima, sizes)
    fold = np.array([[float(classes[i] == lang) for lang in languages] for i in inside])
    table = np.column_stack([ptc[:, inside], *(maxima[:, c].max(axis=1) for c in coarse)]).astype(np.float32)
    priors = np.concatenate([pc[inside], [group_priors[c].max() for c in coarse]])
    return {"table": np.ascontiguousarray(table), "priors": priors, "fold": fold,
            "coarse_log_sizes": np.log([sizes[c].sum() for c in coarse]),
            "deepest": np.array(float(np.abs(maxima).max())), "groups": np.ascontiguousarray(maxima),
            "group_priors": group_priors, "log_sizes": np.log(sizes), "full_table": np.ascontiguousarray(ptc),
            "full_priors": pc}


def _group(ptc: np.ndarray, inside: list[int], outside: list[int]) -> list[list[int]]:
    """Outside languages in `_GROUPS` groups of languages that score alike on the n-grams the set's own
    languages use most (k-means++ with a fixed seed, so every worker builds the same groups): a group's
    maximum then stays close to each member on the set's text, which keeps the bound tight."""
    common = np.argsort(-ptc[:, inside].max(axis=1), kind="stable")[:_GROUPING_FEATURES]
    points = ptc[common][:, outside].T.astype(np.float64)
    count = min(_GROUPS, len(outside))
    rng = np.random.default_rng(0)
    centre = points[[rng.integers(len(points))]]
    far = ((points - centre[0]) ** 2).sum(axis=1)
    while len(centre) < count:
        chosen = points[rng.choice(len(points), p=far / far.sum())]
        centre = np.vstack([centre, chosen])
        far = np.minimum(far, ((points - chosen) ** 2).sum(axis=1))
    for _ in range(20):
        label = ((centre**2).sum(axis=1)[None] - 2 * points @ centre.T).argmin(axis=1)
        centre = np.array([points[label == g].mean(axis=0) if (label == g).any() else centre[g] for g in range(count)])
    return [[outside[i] for i in np.flatnonzero(label == g)] for g in range(count) if (label == g).any()]


def _merge(inside: np.ndarray, maxima: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """The groups (columns of `maxima`) merged into `_COARSE` coarse groups, two at a time, always the two
    whose merging raises the coarse bound least on typical text of the set's languages: a sentence of
    `_TYPICAL_FEATURES` n-grams drawn from each language's own distribution. Groups near the set stay
    apart; groups far from it share a column at no cost to the bound."""
    values = inside.astype(np.float64)
    drawn = np.exp(values - values.max(axis=0))
    drawn /= drawn.sum(axis=0)
    own = (drawn * values).sum(axis=0)
    scale = math.log(2.0) * math.sqrt(_TYPICAL_FEATURES)  # log1p(1) per n-gram, over sqrt(bytes)

    def mass(column: np.ndarray, size: int) -> float:
        return float(size * np.exp(scale * (column @ drawn - own)).sum())

    members = [np.array([g]) for g in range(maxima.shape[1])]
    columns = [maxima[:, g].astype(np.float64) for g in range(maxima.shape[1])]
    masses = [mass(c, int(sizes[g])) for g, c in enumerate(columns)]
    while len(members) > _COARSE:
        best: tuple[float, int, int, np.ndarray, float] | None = None
        for a, b in itertools.combinations(range(len(members)), 2):
            column = np.maximum(columns[a], columns[b])
            merged = mass(column, int(sizes[members[a]].sum() + sizes[members[b]].sum()))
            if best is None or merged - masses[a] - masses[b] < best[0]:
                best = (merged - masses[a] - masses[b], a, b, column, merged)
        assert best is not None
        _, a, b, column, merged = best
        members[a], columns[a], masses[a] = np.concatenate([members[a], members[b]]), column, merged
        del members[b], columns[b], masses[b]
    return members


CACHE_FORMAT = 5  # bump when the derived arrays change for the same model and constants


def cache_dir() -> Path:
    """Where the derived arrays of this py3langid version are kept."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "tamis" / f"py3langid-{version('py3langid')}-format{CACHE_FORMAT}"


def _cached(name: str, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays `build` gives, memory-mapped from `cache_dir() / name` when a process stored them there
    before; else built, then stored for the next process (written to a temporary folder and renamed, so no
    reader sees half of it). A cache that cannot be written costs time only; one that cannot be read is
    replaced, with a warning."""
    folder = cache_dir() / name
    if folder.is_dir():
        try:
            return {p.stem: np.asarray(np.load(p, mmap_mode="r", allow_pickle=False))
                    for p in sorted(folder.glob("*.npy"))}
        except (OSError, ValueError) as exc:
            warnings.warn(f"tamis: unreadable language-model cache {folder} ({exc}); computing it again",
                          stacklevel=2)
            shutil.rmtree(folder, ignore_errors=True)
    arrays = build()
    _store(folder, arrays)
    return arrays


def _store(folder: Path, arrays: dict[str, np.ndarray]) -> None:
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError:  # a read-only or missing home: every process computes the arrays
        return
    try:
        for key, value in arrays.items():
            np.save(scratch / f"{key}.npy", value, allow_pickle=False)
        os.rename(scratch, folder)
    except OSError:  # a full disk, or another process stored the same arrays first
        shutil.rmtree(scratch, ignore_errors=True)
