"""languages: the language of every sentence, segment, block and document; foreign text handled by policy.

Each block is split into sentences (`stages.sentences`); each sentence gets a language of `languages`,
`other` (the unrestricted detector puts at least `other_share` of its probability outside the set, and the
sentence has at least `other_words` words) or `uncertain` (fewer than `min_words` words or `min_letters`
letters). A point followed by a lower-case word splits a sentence too when the language changes there
with strong evidence on both sides.

Context smoothing: a sentence is decided when its language beats the others of the set by
`strong_evidence` nats (log-odds) and it is not mostly capitalised words (a byline, a list of names). A
sentence keeps its own language against its context (the nearest decided sentences before and after it,
across blocks, when they agree; else the one in its own block) only with that much evidence; otherwise,
and when it is uncertain, it takes the context's language. An uncertain or name-heavy sentence between
disagreeing neighbours takes the document's main language. Consecutive sentences of one language then
merge into one `Segment` (offsets into the block text). `Block.lang` / `Block.confidence` come from its
segments by characters; `doc.lang` is the main language by characters of prose, or `other` when most of the
text is outside the set (a Spanish, Portuguese or Chinese page). Around `other` text, a sentence that the
restricted detector puts in the set joins `other` unless that language is sure of itself (strong
evidence, and less than half the unrestricted probability outside the set). Words of scripts without
spaces are counted by characters (`stages.text`).

Code, shell commands, URLs and bibliography entries are not prose (`stages.text.is_prose`): their segments
are `keep` whatever their language, and they do not vote for `doc.lang`.

Actions: main-language and uncertain segments `keep`; a foreign language takes its `policy` entry,
`translate` by default, and `other` text `keep` unless `policy` names `other`. `translate` leaves the segment
to the `translate` stage; `keep` keeps it as written; `drop` takes it out of the main text with a `Removal`
(stage `languages`, rule `drop`); `separate` takes it out of the main text and into the record's
`separated` list (`lang`, `text`, `block`, `start`, `end`; `Document.separated_text()` gives it per language).

Translation duplicates (`duplicates: true`, `stages.transdup`): a foreign run at the edge of a block (one
that would stand in the text: `translate` or `keep`) that says what a main-language block says gets
`Block.duplicate_of`, which leaves it out of `doc.text`: the adjacent block by `translation_evidence`
(sentence count, length ratio, shared numbers, names and cognates; `duplicate_threshold`), or a block within
`duplicate_distance` that `stands_out` from the document's other main-language blocks by `duplicate_margin`
(`duplicate_margin_corroborated` when a number, name or punctuation sequence is shared). A run that is only
part of its block is first split off into its own block piece (same `index`). Every
duplicate, smoothing and soft split is recorded in `changes`. Filters nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import pairwise

import numpy as np

from pipeline.document import Block, Change, Document, Removal, Segment, SegmentAction
from pipeline.stage import Stage
from pipeline.types import Fraction, LangCode, NonNegativeInt, PositiveFloat, PositiveInt
from stages.detectors import DETECTORS, Detector, DetectorName, Guess, Guesses, rows_beat_all
from stages.sentences import Sentences, sentences_with_breaks
from stages.text import is_prose, unspaced_share, unspaced_words
from stages.transdup import stands_out, translation_evidence

UNCERTAIN = "uncertain"
OTHER = "other"
_LETTERS = re.compile(r"[^\W\d_]+")
_WORD_CHAR = re.compile(r"\w")
# A sentence whose unrestricted detector puts this much probability outside the set joins text outside
# the set around it, whatever the restricted detector says.
OUTSIDE_DOUBT = 0.5
# Label codes in the decision arrays: a language of the set is its index in `languages`; these are the others
# (negative, so that `Languages._labels[code]` names every code).
_OTHER, _UNCERTAIN, _NONE = -1, -2, -3


# What `_shapes` counts in each text of a batch: its words (word starts), capitalised words and letters,
# and whether it has characters of a script written without spaces. Arrays, one entry per text.
_Shapes = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True, kw_only=True)
class LanguagesConfig:
    languages: tuple[LangCode, ...] = field(default=("fr", "de", "en"), metadata={
        "help": "the language set, in order of preference on ties; anything else is `other`"})
    detector: DetectorName = field(default="py3langid", metadata={
        "help": "py3langid | langdetect | lingua (pip install 'tamis[lingua]'), or a plugin's (stages.detectors)"})
    policy: dict[str, SegmentAction] = field(default_factory=dict, metadata={
        "help": "per foreign language or `other`: translate | keep | drop | separate; "
                "unlisted: translate (other: keep)"})
    min_words: NonNegativeInt = field(default=2, metadata={
        "help": "fewer words (or fewer than min_letters letters): `uncertain`, takes its context"})
    min_letters: NonNegativeInt = field(default=8, metadata={"help": "see min_words"})
    strong_evidence: PositiveFloat = field(default=2.0, metadata={
        "help": "log-odds (nats) a sentence needs to keep its language against its neighbours'"})
    other_share: Fraction = field(default=0.99, metadata={
        "help": "unrestricted probability outside the set needed for `other` ..."})
    other_words: NonNegativeInt = field(default=6, metadata={"help": "... and at least this many words"})
    duplicates: bool = field(default=True, metadata={
        "help": "mark foreign blocks that translate an adjacent main-language block (duplicate_of)"})
    duplicate_threshold: Fraction = field(default=0.3, metadata={
        "help": "minimum translation evidence (0-1, `translation_evidence`) for that"})
    duplicate_distance: PositiveInt = field(default=3, metadata={
        "help": "how many blocks away a main-language block may be that a foreign block translates"})
    duplicate_margin: Fraction = field(default=0.08, metadata={
        "help": "how much more that block must resemble it than the document's others (`stands_out`)"})
    duplicate_margin_corroborated: Fraction = field(default=0.02, metadata={
        "help": "the margin when a number, name or punctuation sequence is shared too"})

    def __post_init__(self) -> None:
        if not self.languages:
            raise ValueError("languages: give at least one language")
        if len(set(self.languages)) != len(self.languages):
            raise ValueError(f"languages: repeated code in {list(self.languages)}")
        unknown = sorted(set(self.policy) - set(self.languages) - {OTHER})
        if unknown:
            raise ValueError(f"policy: {', '.join(unknown)} not in languages {list(self.languages)} nor 'other'")


@dataclass(frozen=True)
class _Detected:
    """The texts of a batch that went to the detector, as arrays (row = text): each one's guess and what it
    says of a sentence that is that text: `label`, a language of the set by its index, `other` (`_OTHER`)
    or `uncertain` (`_UNCERTAIN`), and `names` (mostly capitalised words)."""

    probs: np.ndarray
    outside: np.ndarray
    label: np.ndarray
    names: np.ndarray


@dataclass(frozen=True)
class _Units:
    """The units of a batch (sentences, or pieces of one) in document, block and text order, as arrays:
    the decision path reads whole arrays, and Python objects are made only for the units a decision
    really needs (a soft split, a context that disagrees)."""

    doc: np.ndarray  # the document's index in the batch
    position: np.ndarray  # the block's position in its document
    block: np.ndarray  # the block's index among all the batch's blocks
    start: np.ndarray
    end: np.ndarray
    found: _Detected  # the unit's row of what the detector found


class Languages(Stage[LanguagesConfig]):
    name = "languages"
    requires = ("blocks",)
    provides = ("segments",)

    def __init__(self, config: LanguagesConfig) -> None:
        super().__init__(config)
        self._detector: Detector | None = None
        self._labels = (*config.languages, UNCERTAIN, OTHER)  # a label's name by its code
        self._codes = {name: code for code, name in enumerate(config.languages)} | {OTHER: _OTHER}

    def setup(self) -> None:
        if self._detector is None:
            self._detector = DETECTORS[self.config.detector](self.config.languages)

    def process(self, doc: Document) -> Document:
        return self.process_batch([doc])[0]

    def process_batch(self, docs: list[Document]) -> list[Document]:
        """Every sentence of the batch goes to the detector in one call, which is what makes it fast."""
        if self._detector is None:
            raise RuntimeError("languages: call setup() before process() (a Pipeline does it for you)")
        todo = [doc for doc in docs if not _segmented(doc)]
        plans = [_plan(doc) for doc in todo]
        texts: list[str] = []
        starts: list[int] = []  # each text's place in its block
        ends: list[int] = []
        sizes: list[int] = []  # per block of the batch (document by document, in order): how many texts
        softs: list[tuple[int, int, int, list[int]]] = []  # sentences with soft breaks: first text, where, bounds
        for d, (doc, plan) in enumerate(zip(todo, plans, strict=True)):
            for position, sentences in plan:
                text = doc.blocks[position].text
                before = len(texts)
                for (start, end), breaks in sentences:
                    if not breaks:  # most sentences: one unit, the text detected
                        texts.append(text[start:end])
                        starts.append(start)
                        ends.append(end)
                    else:
                        bounds = [start, *breaks, end]
                        softs.append((len(texts), d, position, bounds))
                        for piece_start, piece_end in _ranges(bounds):
                            texts.append(text[piece_start:piece_end])
                            starts.append(piece_start)
                            ends.append(piece_end)
                sizes.append(len(texts) - before)
        detected = self._detect(texts)
        block = np.repeat(np.arange(len(sizes)), sizes)
        doc_of = np.repeat(np.arange(len(todo)), [len(doc.blocks) for doc in todo])
        position_of = np.concatenate([np.arange(len(doc.blocks)) for doc in todo]) if todo else block
        units = _Units(doc_of[block], position_of[block], block, np.array(starts, dtype=np.int64),
                       np.array(ends, dtype=np.int64), detected)
        if softs:
            units = self._split_softs(todo, units, softs)
        labels = self._smooth(todo, units)
        _segments(todo, units, labels, self._labels)
        for doc in todo:
            self._decide(doc)
        if self.config.duplicates:
            self._mark_duplicates([(doc, plan) for doc, plan in zip(todo, plans, strict=True) if doc.lang is not None])
        return docs

    def _decide(self, doc: Document) -> None:
        """Set the languages of the segmented document and the actions of its segments."""
        # Code, commands, URLs and references are no prose: kept as they are, and no vote for the language.
        prose = _Prose(doc.blocks)
        doc.lang = _main_language(doc.blocks, prose)
        actions: dict[str, SegmentAction] = {}
        tally: dict[str, int] = {}
        for position, block in enumerate(doc.blocks):
            _summarise(block)
            for k, seg in enumerate(block.segments):
                action = actions.get(seg.lang)
                if action is None:
                    action = actions[seg.lang] = self._action(seg.lang, doc.lang)
                seg.action = action if action == "keep" or prose(position, k) else "keep"
                tally[seg.lang] = tally.get(seg.lang, 0) + 1
                if seg.action == "drop":
                    self.counters[f"dropped:{seg.lang}"] += 1
                    doc.removed.append(Removal(stage=self.name, rule="drop", block=block.index,
                                               text=block.text[seg.start : seg.end],
                                               reason=f"{seg.lang} text, and policy says {seg.lang}: drop"))
        for lang, count in tally.items():
            self.counters[f"segment:{lang}"] += count

    def _detect(self, texts: list[str]) -> _Detected:
        """The detector's guesses for `texts` and what they say of a sentence: `uncertain` with fewer than
        `min_words` words (scripts without spaces count by characters) or `min_letters` letters; `other`
        when the unrestricted detector puts `other_share` outside the set and there are `other_words`
        words; else the most likely language of the set (ties to the set's order), name-heavy when most
        words are capitalised (a byline, a list of names says little about its language)."""
        assert self._detector is not None
        found = self._detector.table(texts, self.config.other_share)
        words, capitals, letters, unspaced = _shapes(texts)
        counted = words.copy()
        for i in np.flatnonzero(unspaced).tolist():
            counted[i] += unspaced_words(texts[i])
        uncertain = (counted < self.config.min_words) | (letters < self.config.min_letters)
        other = ~uncertain & (found.outside >= self.config.other_share) & (counted >= self.config.other_words)
        top = found.probs.argmax(axis=1) if len(texts) else np.zeros(0, dtype=np.intp)
        label = np.where(uncertain, _UNCERTAIN, np.where(other, _OTHER, top))
        return _Detected(found.probs, found.outside, label, ~uncertain & ~other & (capitals * 2 > words))

    def _split_softs(self, docs: list[Document], units: _Units, softs: list[tuple[int, int, int, list[int]]]
                     ) -> _Units:
        """`units`, one per text, with the texts of each sentence with soft breaks (the sentence, then its
        pieces: `softs` gives its first text, document, position and bounds) replaced by its units as
        `_split_soft` makes them."""
        detected = units.found
        extra: list[_Detected] = []  # merged pieces, detected on their own (rare)
        texts: list[np.ndarray] = []  # per unit: the text it stands in the place of (document, block)...
        rows: list[np.ndarray] = []  # ... and the row of what was detected
        starts: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        done = 0
        for first, d, position, bounds in softs:
            known = {key: first + k for k, key in enumerate(_ranges(bounds))}
            after = first + len(known)  # `_split_soft` adds the merges it detects to `known`
            split = self._split_soft(docs[d], position, bounds, known, detected, extra)
            plain = np.arange(done, first)
            texts += [plain, np.full(len(split), first)]
            rows += [plain, np.array([row for _, _, row in split])]
            starts += [units.start[done:first], np.array([start for start, _, _ in split])]
            ends += [units.end[done:first], np.array([end for _, end, _ in split])]
            done = after
        plain = np.arange(done, len(units.start))
        text, row = np.concatenate([*texts, plain]), np.concatenate([*rows, plain])
        every = _concatenate([detected, *extra])
        return _Units(units.doc[text], units.position[text], units.block[text],
                      np.concatenate([*starts, units.start[done:]]), np.concatenate([*ends, units.end[done:]]),
                      _Detected(every.probs[row], every.outside[row], every.label[row], every.names[row]))

    def _split_soft(self, doc: Document, position: int, bounds: list[int], known: dict[tuple[int, int], int],
                    detected: _Detected, extra: list[_Detected]) -> list[tuple[int, int, int]]:
        """The sentence `bounds[0]:bounds[-1]` as one unit, or cut at its soft breaks (`bounds[1:-1]`)
        where the language changes on strong evidence, as (start, end, row of what was detected). `known`
        holds the rows of `_ranges(bounds)` in `detected`; a merge of pieces that is none of them is
        detected on its own (rare), added to `extra` and to `known` (its rows follow `detected`'s)."""
        text = doc.blocks[position].text

        def unit(start: int, end: int) -> tuple[int, int, int]:
            row = known.get((start, end))
            if row is None:
                extra.append(self._detect([text[start:end]]))
                row = known[start, end] = len(detected.label) + len(extra) - 1
            return start, end, row

        def row(i: int) -> tuple[_Detected, int]:
            return (detected, i) if i < len(detected.label) else (extra[i - len(detected.label)], 0)

        whole = unit(bounds[0], bounds[-1])
        pieces = [unit(a, b) for a, b in pairwise(bounds)]
        pieces = [(start + len(text[start:end]) - len(text[start:end].lstrip()), end, i) for start, end, i in pieces]
        merged = [pieces[0]]
        for piece in pieces[1:]:
            last = merged[-1]
            if self._differs(*row(last[2]), *row(piece[2])) and self._differs(*row(piece[2]), *row(last[2])):
                merged.append(piece)
            else:
                merged[-1] = unit(last[0], piece[1])
        if len(merged) > 1:
            self.counters["soft-split"] += len(merged) - 1
            return merged
        return [whole]

    def _differs(self, found: _Detected, i: int, against: _Detected, j: int) -> bool:
        """Text `i` of `found` is confidently in another language than text `j` of `against`."""
        lang, other = int(found.label[i]), int(against.label[j])
        if lang < 0 or other < 0 or lang == other:
            return False
        return self._guess(found, i).log_odds(self._labels[lang], self._labels[other]) >= self.config.strong_evidence

    def _guess(self, found: _Detected, i: int) -> Guess:
        return Guesses(self.config.languages, found.probs, found.outside)[i]

    def _smooth(self, docs: list[Document], units: _Units) -> np.ndarray:
        """The labels of `units` once weakly decided sentences have the language of their context
        (`_contexts`). A sentence is weak when it is uncertain, name-heavy, or its language of the set does
        not beat the others by `strong_evidence`. Decisions use the labels before smoothing, so the outcome
        does not depend on the order in which sentences are visited: the contexts are found for the whole
        batch at once, and only the units whose context disagrees are looked at one by one."""
        found = units.found
        nats = self.config.strong_evidence
        strong = rows_beat_all(found.probs, found.label, nats)
        weak = (found.label == _UNCERTAIN) | found.names | ((found.label >= 0) & ~strong)
        contexts = _contexts(units, weak)
        labels: np.ndarray = found.label.copy()
        mains: dict[int, int] = {}  # per document, its label with most decided text (`_NONE`: none)
        for i in np.flatnonzero(contexts != found.label).tolist():
            lang, context = int(found.label[i]), int(contexts[i])
            d = int(units.doc[i])
            if context == _NONE and (lang == _UNCERTAIN or found.names[i]):
                if d not in mains:
                    mains[d] = self._main_decided(units, weak, d)
                context = mains[d]
            if context in (_NONE, lang) or lang == _OTHER:
                continue
            # Among text outside the set, a sentence joins it unless the set's language is sure of itself:
            # a Spanish line that the restricted detector calls French is not French text to translate.
            if context == _OTHER and not (lang != _UNCERTAIN and strong[i] and found.outside[i] < OUTSIDE_DOUBT):
                self._relabel(docs[d], units, i, context)
                labels[i] = context
                continue
            if context == _OTHER:
                continue
            if lang != _UNCERTAIN and self._guess(found, i).log_odds(self._labels[lang], self._labels[context]) >= nats:
                continue
            self._relabel(docs[d], units, i, context)
            labels[i] = context
        return labels

    def _main_decided(self, units: _Units, weak: np.ndarray, d: int) -> int:
        """The label with most characters of decided (not weak) units in document `d` (`_largest`), or
        `_NONE` without any."""
        first, last = np.searchsorted(units.doc, [d, d + 1])
        sizes: dict[str, int] = {}
        for i in range(first, last):
            if not weak[i]:
                lang = self._labels[units.found.label[i]]
                sizes[lang] = sizes.get(lang, 0) + int(units.end[i] - units.start[i])
        main = _largest(sizes)
        return _NONE if main is None else self._codes[main]

    def _relabel(self, doc: Document, units: _Units, i: int, lang: int) -> None:
        self.counters["smoothed"] += 1
        block = doc.blocks[units.position[i]]
        text = block.text[units.start[i] : units.end[i]][:60]
        doc.changes.append(Change(stage=self.name, rule="context", block=block.index,
                                  detail=f"{self._labels[units.found.label[i]]} → {self._labels[lang]} "
                                         f"(neighbours): {text!r}"))

    def _action(self, lang: str, main: str | None) -> SegmentAction:
        if lang in (main, UNCERTAIN):
            return "keep"
        default: SegmentAction = "keep" if lang == OTHER else "translate"
        return self.config.policy.get(lang, default)

    def _mark_duplicates(self, planned: list[tuple[Document, list[tuple[int, Sentences]]]]) -> None:
        """Mark foreign runs that translate a main-language block, splitting blocks as needed. The
        `stands_out` comparisons of all the documents are made together; a mark only ever falls on a foreign
        block (or a piece of one), so no document's other questions depend on it. Only the blocks with a
        foreign edge segment ask (most documents have none), and only the main-language blocks are compared
        with: their clean texts, with the plan's sentences (`_plan`, the splitter's answer for the same text)
        for each that reads as its text."""
        asking: list[tuple[Document, dict[int, tuple[tuple[Segment, Block, float] | None,
                                                     list[tuple[Segment, list[int], list[int]]]]]]] = []
        questions: list[tuple[str, list[str], list[str]]] = []
        split: dict[str, Sentences] = {}
        for doc, plan in planned:
            main = doc.lang
            edged = [position for position, block in enumerate(doc.blocks) if block.segments
                     and (_is_foreign_run(block.segments[0], main) or _is_foreign_run(block.segments[-1], main))]
            if not edged:
                continue
            # Marking a duplicate changes no segments: the clean texts hold until every question is answered.
            texts = [""] * len(doc.blocks)
            compared: list[int] = []
            for position, block in enumerate(doc.blocks):
                if block.lang == main and block.duplicate_of is None:
                    text = texts[position] = block.main_text()
                    compared.append(position)
                    if text == block.text:
                        split[text] = plan[position][1]
            runs = {position: self._duplicate_run(doc.blocks, texts, compared, position, main) for position in edged}
            questions += [(doc.blocks[position].text[seg.start:seg.end], [texts[j] for j in near],
                           [texts[j] for j in far])
                          for position, (_, asked) in runs.items() for seg, near, far in asked]
            asking.append((doc, runs))
        answers = iter(stands_out(questions, (self.config.duplicate_margin, self.config.duplicate_margin_corroborated),
                                  split))
        for doc, runs in asking:
            marks: dict[int, tuple[Segment, Block, float]] = {}
            for position, (best, asked) in runs.items():  # in the order of the questions
                for seg, near, _ in asked:
                    answer = next(answers)
                    if answer is not None and (best is None or answer[1] > best[2]):
                        best = (seg, doc.blocks[near[answer[0]]], answer[1])
                if best is not None:
                    marks[position] = best
            if not marks:
                continue
            out: list[Block] = []
            for position, block in enumerate(doc.blocks):
                if position not in marks:
                    out.append(block)
                    continue
                seg, target, score = marks[position]
                pieces = _split_block(block, seg)
                for piece in pieces:
                    if piece.segments and piece.segments[0].start == 0 and piece.text == block.text[seg.start:seg.end]:
                        piece.duplicate_of = target.index
                out.extend(pieces)
                self.counters["translation-duplicate"] += 1
                doc.changes.append(Change(stage=self.name, rule="translation-duplicate",
                                          detail=f"{seg.lang} text says what block {target.index} ({doc.lang}) says "
                                                 f"(evidence {score:.2f})", block=block.index))
            doc.blocks = out

    def _duplicate_run(self, blocks: list[Block], texts: list[str], compared: list[int], position: int,
                       main: str | None
                       ) -> tuple[tuple[Segment, Block, float] | None, list[tuple[Segment, list[int], list[int]]]]:
        """The foreign edge segment of `blocks[position]` that duplicates the adjacent block best by
        `translation_evidence`, if any; else the `stands_out` questions to ask for its foreign edge segments:
        each segment with the positions of the main-language blocks within `duplicate_distance` (the
        candidates) and of the others (the background). `compared` holds the positions of the main-language
        blocks that are no duplicate, `texts` their clean texts."""
        block = blocks[position]
        best: tuple[Segment, Block, float] | None = None
        edges = [(s, -1) for s in block.segments[:1] if _is_foreign_run(s, main)]
        edges += [(s, 1) for s in block.segments[-1:] if _is_foreign_run(s, main)]
        for seg, step in edges:
            j = position + step
            if not 0 <= j < len(blocks) or blocks[j].lang != main or blocks[j].duplicate_of is not None:
                continue
            score = translation_evidence(block.text[seg.start:seg.end], texts[j])
            if score >= self.config.duplicate_threshold and (best is None or score > best[2]):
                best = (seg, blocks[j], score)
        if best is not None or not edges or self.config.duplicate_margin >= 1:
            return best, []
        distance = self.config.duplicate_distance
        near = [j for j in compared if j != position and abs(j - position) <= distance]
        far = [j for j in compared if abs(j - position) > distance]
        # The block's one segment is both of its edges: it is asked about once.
        return None, [(seg, near, far) for k, (seg, _) in enumerate(edges) if not (k and seg is edges[0][0])]


_WORD, _LETTER, _UPPER, _UNSPACED, _KNOWN = 1, 2, 4, 8, 16


@cache
def _character_classes() -> np.ndarray:
    """Per code point, the classes `_shapes` sees in a character, filled in as characters are first met."""
    return np.zeros(0x110000, dtype=np.uint8)


def _shapes(texts: list[str]) -> _Shapes:
    """`_Shapes` of `texts`, counted for all of them at once with numpy: each character's classes are
    looked up by code point (a character is classified once per process, by the patterns `\\w` and
    `[^\\W\\d_]`, `str.isupper` and `unspaced_share`), a word starts at a word character after a character
    that is not one, and the sums run per text."""
    if not texts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty.astype(bool)
    joined = "\x00".join(texts) + "\x00"  # no word character between texts: each text's first word starts
    points = np.frombuffer(joined.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
    classes = _character_classes()
    found = classes[points]
    unknown = found == 0
    if unknown.any():
        for point in np.unique(points[unknown]).tolist():
            char = chr(point)
            classes[point] = (_KNOWN | _WORD * bool(_WORD_CHAR.match(char)) | _LETTER * bool(_LETTERS.match(char))
                              | _UPPER * char.isupper() | _UNSPACED * (unspaced_share(char) > 0))
        found = classes[points]
    word = (found & _WORD) != 0
    start = word.copy()
    start[1:] &= ~word[:-1]
    flags = np.stack([start, start & ((found & _UPPER) != 0), (found & _LETTER) != 0, (found & _UNSPACED) != 0])
    offsets = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
    sums = np.add.reduceat(flags.view(np.uint8), offsets, axis=1, dtype=np.int64)
    return sums[0], sums[1], sums[2], sums[3] > 0


def _segmented(doc: Document) -> bool:
    """Segmented by an earlier run (a tamis record read back): its segments and translations are kept."""
    return doc.lang is not None and all(b.segments for b in doc.blocks)


def _plan(doc: Document) -> list[tuple[int, Sentences]]:
    """Per block of the document: its position and its sentences with their soft breaks, as the splitter
    keeps them (nothing is made per sentence for a batch that may be large)."""
    return [(position, sentences_with_breaks(block.text)) for position, block in enumerate(doc.blocks)]


def _ranges(bounds: list[int]) -> list[tuple[int, int]]:
    """What `_split_soft` detects first: the sentence, then the pieces between its soft breaks."""
    whole = (bounds[0], bounds[-1])
    return [whole, *pairwise(bounds)] if len(bounds) > 2 else [whole]


def _is_foreign_run(seg: Segment, main: str | None) -> bool:
    """A foreign segment that would stand in the main text (dropped and separated ones do not)."""
    return seg.lang not in (main, UNCERTAIN, OTHER) and seg.action in ("translate", "keep")


def _concatenate(parts: list[_Detected]) -> _Detected:
    if len(parts) == 1:
        return parts[0]
    return _Detected(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("probs", "outside", "label", "names")))


def _contexts(units: _Units, weak: np.ndarray) -> np.ndarray:
    """Per unit, the label of the nearest strongly decided units around it in its document (labels as
    they are before smoothing): both sides when they agree; when they disagree, the side in the same
    block (`_NONE` if both or neither are); else the side there is (`_NONE` without one). Found for the
    whole batch with running maxima and minima of the decided units' indices."""
    n = len(weak)
    index = np.arange(n)
    first = np.searchsorted(units.doc, units.doc, side="left")  # the unit's document: [first, last)
    last = np.searchsorted(units.doc, units.doc, side="right")
    before = np.full(n, -1)
    before[1:] = np.maximum.accumulate(np.where(weak, -1, index))[:-1]
    after = np.full(n, n)
    after[:-1] = np.minimum.accumulate(np.where(weak, n, index)[::-1])[::-1][1:]
    has_before, has_after = before >= first, after < last
    label, block = units.found.label, units.block
    left, right = label[np.where(has_before, before, 0)], label[np.where(has_after, after, 0)]
    left_near = block[np.where(has_before, before, 0)] == block
    right_near = block[np.where(has_after, after, 0)] == block
    both = has_before & has_after
    one_near = np.where(left_near, left, np.where(right_near, right, _NONE))
    between = np.where(left == right, left, np.where(left_near != right_near, one_near, _NONE))
    return np.where(both, between, np.where(has_before, left, np.where(has_after, right, _NONE)))


def _segments(docs: list[Document], units: _Units, labels: np.ndarray, names: tuple[str, ...]) -> None:
    """Each block's segments: its consecutive units of one label merged (units come in block order);
    confidence is the character-weighted probability, accumulated unit by unit as a running mean. The
    running means of all segments advance together, one unit a step: numpy's float64 arithmetic is
    Python's, so each segment gets the floats that adding its units one by one gives."""
    for doc in docs:
        for block in doc.blocks:
            block.segments = []
    n = len(labels)
    if not n:
        return
    found = units.found
    rows = np.arange(n)
    probs = np.where(labels == _OTHER, found.outside,
                     np.where(labels >= 0, found.probs[rows, np.where(labels >= 0, labels, 0)], 0.0))
    new = np.ones(n, dtype=bool)
    new[1:] = (units.block[1:] != units.block[:-1]) | (labels[1:] != labels[:-1])
    first = np.flatnonzero(new)
    last = np.append(first[1:], n) - 1
    sizes = units.end - units.start
    confidence, weight = probs[first], sizes[first]
    longer = np.flatnonzero(last > first)  # the segments still taking units, by the first unit they take next
    step = 1
    while len(longer):
        i = first[longer] + step
        size = sizes[i]
        confidence[longer] = (confidence[longer] * weight[longer] + probs[i] * size) / (weight[longer] + size)
        weight[longer] += size
        longer = longer[last[longer] > i]
        step += 1
    doc, position, label = units.doc[first].tolist(), units.position[first].tolist(), labels[first].tolist()
    for d, p, code, start, end, value in zip(doc, position, label, units.start[first].tolist(),
                                             units.end[last].tolist(), confidence.tolist(), strict=True):
        docs[d].blocks[p].segments.append(Segment(start=start, end=end, lang=names[code], confidence=round(value, 4)))


def _summarise(block: Block) -> None:
    """Block language and confidence: the language with most characters, uncertain text not counted."""
    if len(block.segments) == 1:  # most blocks: the same arithmetic, without the tallies
        seg = block.segments[0]
        size = seg.end - seg.start
        block.lang, block.confidence = seg.lang, round(seg.confidence * size / size, 4)
        return
    sizes: dict[str, int] = {}
    for seg in block.segments:
        sizes[seg.lang] = sizes.get(seg.lang, 0) + seg.end - seg.start
    decided = {lang: n for lang, n in sizes.items() if lang != UNCERTAIN}
    block.lang = _largest(decided or sizes)
    if block.lang is None:
        block.confidence = None
        return
    chosen = [s for s in block.segments if s.lang == block.lang]
    total = sum(s.end - s.start for s in chosen)
    block.confidence = round(sum(s.confidence * (s.end - s.start) for s in chosen) / total, 4)


class _Prose:
    """Whether the `k`th segment of `blocks[position]` is prose (`is_prose`), found when first asked: it
    reads the whole segment with several patterns, and most decisions do not need it."""

    def __init__(self, blocks: list[Block]) -> None:
        self._blocks = blocks
        self._known: dict[tuple[int, int], bool] = {}

    def __call__(self, position: int, k: int) -> bool:
        found = self._known.get((position, k))
        if found is None:
            block = self._blocks[position]
            seg = block.segments[k]
            found = self._known[position, k] = is_prose(block.text[seg.start : seg.end])
        return found


def _main_language(blocks: list[Block], prose: _Prose) -> str | None:
    """The language of the set with most characters of prose (all text when none is prose), or `other`
    when most of it is outside the set."""
    totals: dict[str, int] = {}
    for block in blocks:
        for seg in block.segments:
            if seg.lang != UNCERTAIN:
                totals[seg.lang] = totals.get(seg.lang, 0) + seg.end - seg.start
    leader = _largest(totals)
    if leader is None or _leads(blocks, prose, totals, leader):
        return leader
    flags = [[prose(position, k) for k in range(len(block.segments))] for position, block in enumerate(blocks)]
    sizes: Counter[str] = Counter()
    anything = not any(map(any, flags))
    for block, readable_flags in zip(blocks, flags, strict=True):
        for seg, readable in zip(block.segments, readable_flags, strict=True):
            if seg.lang != UNCERTAIN and (readable or anything):
                sizes[seg.lang] += seg.end - seg.start
    inside = Counter({lang: n for lang, n in sizes.items() if lang != OTHER})
    if sizes[OTHER] * 2 > sum(sizes.values()):
        return OTHER
    return _largest(inside or sizes)


def _leads(blocks: list[Block], prose: _Prose, totals: dict[str, int], leader: str) -> bool:
    """Whether the prose of `leader`, the language with most characters, already decides `_main_language`
    whatever the other segments are: its segments are read for prose, largest first, until the prose
    found outweighs all the text of every rival (in the set: beats it as `_largest` compares; outside
    it: is at least as large, so `other` cannot hold most of the prose; for `other`: outweighs all the
    set's text together)."""
    rivals = [(n, lang) for lang, n in totals.items() if lang not in (leader, OTHER)]
    own = sorted((seg.start - seg.end, position, k) for position, block in enumerate(blocks)
                 for k, seg in enumerate(block.segments) if seg.lang == leader)
    found = 0
    for minus_size, position, k in own:
        size = -minus_size
        if not prose(position, k):
            continue
        found += size
        if leader == OTHER:
            if found > sum(n for n, _ in rivals):
                return True
        elif found >= totals.get(OTHER, 0) and all((found, leader) > rival for rival in rivals):
            return True
    return False


def _largest(sizes: Mapping[str, int]) -> str | None:
    """The language with most characters; ties go to the alphabetically last, so the answer is stable."""
    return max(sizes, key=lambda lang: (sizes[lang], lang)) if sizes else None


def _split_block(block: Block, seg: Segment) -> list[Block]:
    """`block` cut before and after `seg` (at whitespace), each piece with its own rebased segments."""
    cuts = sorted({0, seg.start, seg.end, len(block.text)})
    pieces: list[Block] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        raw = block.text[a:b]
        lead = len(raw) - len(raw.lstrip())
        text = raw.strip()
        if not text:
            continue
        start = a + lead
        segs = [replace(s, start=s.start - start, end=s.end - start)
                for s in block.segments if s.start >= start and s.end <= start + len(text)]
        piece = replace(block, text=text, segments=segs)
        _summarise(piece)
        pieces.append(piece)
    return pieces if len(pieces) > 1 else [block]
