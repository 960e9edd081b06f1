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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import pairwise

import numpy as np

from pipeline.document import Block, Change, Document, Removal, Segment, SegmentAction
from pipeline.stage import Stage
from pipeline.types import Fraction, LangCode, NonNegativeInt, PositiveFloat, PositiveInt
from stages.detectors import DETECTORS, Detector, DetectorName, Guess
from stages.sentences import Span, sentences_with_breaks
from stages.text import is_prose, unspaced_share, unspaced_words
from stages.transdup import Sentences, stands_out, translation_evidence

UNCERTAIN = "uncertain"
OTHER = "other"
_WORD_START = re.compile(r"(?<!\w)\w")
_LETTERS = re.compile(r"[^\W\d_]+")
_WORD_CHAR = re.compile(r"\w")
# A sentence whose unrestricted detector puts this much probability outside the set joins text outside
# the set around it, whatever the restricted detector says.
OUTSIDE_DOUBT = 0.5


# What `_unit` counts in a piece of text: its words (word starts), capitalised words and letters, and
# whether it has characters of a script written without spaces. Plain tuples: there is one per sentence.
_Shape = tuple[int, int, int, bool]


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


@dataclass(slots=True)
class _Unit:
    """A sentence (or a piece of one) of a block, with its detection and its decided language."""

    block: int
    start: int
    end: int
    guess: Guess
    lang: str
    weak: bool
    names: bool = False


class Languages(Stage[LanguagesConfig]):
    name = "languages"
    requires = ("blocks",)
    provides = ("segments",)

    def __init__(self, config: LanguagesConfig) -> None:
        super().__init__(config)
        self._detector: Detector | None = None

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
        for doc, plan in zip(todo, plans, strict=True):
            for position, sentences in plan:
                text = doc.blocks[position].text
                for span, breaks in sentences:
                    if breaks:
                        texts.extend(text[a:b] for a, b in _ranges([span.start, *breaks, span.end]))
                    else:
                        texts.append(text[span.start : span.end])
        guesses = zip(self._detector.guesses(texts, self.config.other_share), _shapes(texts), strict=True)
        for doc, plan in zip(todo, plans, strict=True):
            units: list[_Unit] = []
            for position, sentences in plan:
                for span, breaks in sentences:
                    if not breaks:  # most sentences: one unit
                        units.append(self._unit(doc, position, span.start, span.end, next(guesses)))
                    else:
                        bounds = [span.start, *breaks, span.end]
                        known = {key: next(guesses) for key in _ranges(bounds)}
                        units.extend(self._split_soft(doc, position, bounds, known))
            self._decide(doc, units)
        if self.config.duplicates:
            self._mark_duplicates([(doc, plan) for doc, plan in zip(todo, plans, strict=True) if doc.lang is not None])
        return docs

    def _decide(self, doc: Document, units: list[_Unit]) -> None:
        """Smooth the units, merge them into segments and set the languages and actions."""
        self._smooth(doc, units)
        _segments(doc.blocks, units)
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

    def _unit(self, doc: Document, position: int, start: int, end: int, found: tuple[Guess, _Shape]) -> _Unit:
        guess, (words, capitals, letters, unspaced) = found
        # Scripts without spaces count by characters.
        counted = words + unspaced_words(doc.blocks[position].text[start:end]) if unspaced else words
        if counted < self.config.min_words or letters < self.config.min_letters:
            return _Unit(position, start, end, guess, UNCERTAIN, weak=True)
        if guess.outside >= self.config.other_share and counted >= self.config.other_words:
            return _Unit(position, start, end, guess, OTHER, weak=False)
        # A line of mostly capitalised words (a byline, a list of names) says little about its language.
        return _Unit(position, start, end, guess, guess.lang, weak=False, names=capitals * 2 > words)

    def _split_soft(self, doc: Document, position: int, bounds: list[int],
                    known: dict[tuple[int, int], tuple[Guess, _Shape]]) -> list[_Unit]:
        """The sentence `bounds[0]:bounds[-1]` as one unit, or cut at its soft breaks (`bounds[1:-1]`)
        where the language changes on strong evidence. `known` holds the detections of `_ranges(bounds)`;
        a merge of pieces that is none of them is detected on its own (rare) and added to it."""
        text = doc.blocks[position].text

        def unit(start: int, end: int) -> _Unit:
            found = known.get((start, end))
            if found is None:
                assert self._detector is not None
                piece = text[start:end]
                found = known[start, end] = (self._detector.detect(piece), _shape(piece))
            return self._unit(doc, position, start, end, found)

        whole = unit(bounds[0], bounds[-1])
        pieces = [unit(a, b) for a, b in pairwise(bounds)]
        pieces = [replace(p, start=p.start + len(text[p.start:p.end]) - len(text[p.start:p.end].lstrip()))
                  for p in pieces]
        merged = [pieces[0]]
        for piece in pieces[1:]:
            last = merged[-1]
            if self._differs(last, piece) and self._differs(piece, last):
                merged.append(piece)
            else:
                merged[-1] = unit(last.start, piece.end)
        if len(merged) > 1:
            self.counters["soft-split"] += len(merged) - 1
            return merged
        return [whole]

    def _differs(self, unit: _Unit, against: _Unit) -> bool:
        """`unit` is confidently in another language than `against`."""
        if unit.lang in (UNCERTAIN, OTHER) or against.lang in (UNCERTAIN, OTHER) or unit.lang == against.lang:
            return False
        return unit.guess.log_odds(unit.lang, against.lang) >= self.config.strong_evidence

    def _smooth(self, doc: Document, units: list[_Unit]) -> None:
        """Give weakly decided sentences the language of their context. Decisions use the labels before
        smoothing, so the outcome does not depend on the order in which sentences are visited."""
        nats = self.config.strong_evidence
        for unit in units:
            unit.weak = unit.weak or unit.names or (unit.lang != OTHER and not unit.guess.beats_all(unit.lang, nats))
        decided: Counter[str] = Counter()
        for unit in units:
            if not unit.weak:
                decided[unit.lang] += unit.end - unit.start
        main = _largest(decided)
        for unit, context in zip(units, _contexts(units), strict=True):
            if context == unit.lang:  # most units: their context agrees
                continue
            if context is None and (unit.lang == UNCERTAIN or unit.names):
                context = main
            if context is None or context == unit.lang or unit.lang == OTHER:
                continue
            # Among text outside the set, a sentence joins it unless the set's language is sure of itself:
            # a Spanish line that the restricted detector calls French is not French text to translate.
            if context == OTHER and not (unit.lang != UNCERTAIN and self._strong(unit)
                                         and unit.guess.outside < OUTSIDE_DOUBT):
                self._relabel(doc, unit, OTHER)
                continue
            if context == OTHER:
                continue
            if unit.lang != UNCERTAIN and unit.guess.log_odds(unit.lang, context) >= self.config.strong_evidence:
                continue
            self._relabel(doc, unit, context)

    def _relabel(self, doc: Document, unit: _Unit, lang: str) -> None:
        self.counters["smoothed"] += 1
        block = doc.blocks[unit.block]
        text = block.text[unit.start : unit.end][:60]
        doc.changes.append(Change(stage=self.name, rule="context", block=block.index,
                                  detail=f"{unit.lang} → {lang} (neighbours): {text!r}"))
        unit.lang = lang

    def _strong(self, unit: _Unit) -> bool:
        """The sentence's language beats every other language of the set by `strong_evidence` nats."""
        return unit.guess.beats_all(unit.lang, self.config.strong_evidence)

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


def _shape(text: str) -> _Shape:
    """`_Shape` of one text, as the patterns find them."""
    initials = _WORD_START.findall(text)  # one per word
    return (len(initials), sum(map(str.isupper, initials)), sum(map(len, _LETTERS.findall(text))),
            unspaced_share(text) > 0)


_WORD, _LETTER, _UPPER, _UNSPACED, _KNOWN = 1, 2, 4, 8, 16


@cache
def _character_classes() -> np.ndarray:
    """Per code point, the classes `_shape` sees in a character, filled in as characters are first met."""
    return np.zeros(0x110000, dtype=np.uint8)


def _shapes(texts: list[str]) -> Iterator[_Shape]:
    """`_shape` of every text, counted for all of them at once with numpy: each character's classes are
    looked up by code point (a character is classified once per process, by the same patterns), a word
    starts at a word character after a character that is not one, and the sums run per text. Each
    text's tuple is made as it is read (see `Detector.guesses`)."""
    if not texts:
        return iter(())
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
    return zip(*sums[:3].tolist(), (sums[3] > 0).tolist(), strict=True)


def _segmented(doc: Document) -> bool:
    """Segmented by an earlier run (a tamis record read back): its segments and translations are kept."""
    return doc.lang is not None and all(b.segments for b in doc.blocks)


def _plan(doc: Document) -> list[tuple[int, tuple[tuple[Span, tuple[int, ...]], ...]]]:
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


def _contexts(units: list[_Unit]) -> list[str | None]:
    """Per unit, the language of the nearest strongly decided units around it (labels as they are before
    smoothing): both sides when they agree; when they disagree, the side in the same block (None if both
    or neither are); else the side there is. Found in one pass each way."""
    before: list[_Unit | None] = []
    last: _Unit | None = None
    for unit in units:
        before.append(last)
        if not unit.weak:
            last = unit
    after: list[_Unit | None] = []
    last = None
    for unit in reversed(units):
        after.append(last)
        if not unit.weak:
            last = unit
    after.reverse()
    found: list[str | None] = []
    for unit, left, right in zip(units, before, after, strict=True):
        if left is None or right is None:
            side = left or right
            found.append(None if side is None else side.lang)
        elif left.lang == right.lang:
            found.append(left.lang)
        elif (left.block == unit.block) != (right.block == unit.block):
            found.append(left.lang if left.block == unit.block else right.lang)
        else:
            found.append(None)
    return found


def _segments(blocks: list[Block], units: list[_Unit]) -> None:
    """Each block's segments: its consecutive units of one language merged (units come in block order);
    confidence is the character-weighted probability."""
    for block in blocks:
        block.segments = []
    segments: list[Segment] = []
    seg: Segment | None = None
    weight = 0
    for unit in units:
        size = unit.end - unit.start
        lang = unit.lang
        prob = unit.guess.outside if lang == OTHER else unit.guess.probs.get(lang, 0.0)
        if seg is not None and seg.lang == lang and segments is blocks[unit.block].segments:
            seg.confidence = (seg.confidence * weight + prob * size) / (weight + size)
            seg.end = unit.end
            weight += size
        else:
            segments = blocks[unit.block].segments
            seg = Segment(start=unit.start, end=unit.end, lang=lang, confidence=prob)
            segments.append(seg)
            weight = size
    for block in blocks:
        for seg in block.segments:
            seg.confidence = round(seg.confidence, 4)


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
