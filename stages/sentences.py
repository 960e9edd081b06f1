"""Sentence splitting for French, German and English text, with exact `str` offsets.

A rule-based splitter, shared by `languages` and `translate`. A sentence ends at `.`, `!`, `?` or `…`
(with any closing quotes or brackets after it, French `? »` included) when whitespace and a sentence
start follow: a capital, a digit, an opening quote or bracket, or a bullet. A full stop does not end a
sentence after an abbreviation (`M.`, `Dr.`, `z. B.`, `u. a.`, `Art. 5`), an initial (`J.-P. Sartre`), a
list number at the start of a line, or a day number before a month (`3. Oktober`). Numbers such as
`1.100`, `7.2` or `10 000` hold no whitespace after the point, so they never split.

A line break ends a sentence unless the line goes on in lower case after a line without final punctuation
(a hard-wrapped sentence). Spans never include the whitespace around them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from stages.text import CLOSERS, SENTENCE_PUNCT, continues

# Abbreviations that never end a sentence, compared as written (case matters: "Me." is Maître, "me." is not).
_ABBREVIATIONS = frozenset({
    "M", "MM", "Mme", "Mmes", "Mlle", "Mlles", "Me", "Mgr", "Dr", "Drs", "Pr", "Prof", "Mr", "Mrs", "Ms", "St",
    "Ste", "Sts", "Jr", "Sr", "Hr", "Hrn", "Fr", "Frl", "Nr", "Gen", "Col", "Lt", "Sgt", "Capt", "Gov", "Sen",
    "Rep", "Rev", "Mt", "Inc", "Ltd", "Corp", "Co", "Bros", "Dipl", "Ing", "Hrsg"
})

# Lower-case abbreviations that never end a sentence whatever follows.
_LOWER_ABBREVIATIONS = frozenset({
    "cf", "ex", "env", "av", "apr", "ca", "vgl", "bzw", "ggf", "evtl", "inkl", "exkl", "sog", "geb", "gest",
    "jh", "jhd", "hrsg", "mio", "mrd", "bspw", "zb", "dh", "ua", "ue", "vs", "approx", "resp", "ibid", "éd",
    "chap", "fig", "vol", "dt", "engl", "frz", "franz", "lat", "ggü"
})

# Abbreviations that only stay inside a sentence when a number follows ("Art. 5", "S. 12", "No. 7").
_NUMBER_ABBREVIATIONS = frozenset({
    "art", "abs", "nr", "no", "nos", "n°", "p", "pp", "s", "kap", "ziff", "tel", "bd", "bl", "ch", "sect", "sec"
})
_MONTHS = frozenset({
    "januar", "jänner", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober",
    "november", "dezember", "janvier", "février", "mars", "avril", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre", "january", "february", "march", "may", "june", "july", "october",
    "december"
})

# A candidate end: terminal punctuation, then closing quotes/brackets (French spacing allowed), then space.
# Only tried where a run of punctuation starts (the lookbehind): tried at every dot of a long run of dots, the
# run would be read to its end from each of them, a time quadratic in its length.
# The lookahead's group ends where the whitespace after the end does: at the next visible character. It is
# matched at each mark of terminal punctuation (`_marks`), which the pattern's first character class must be.
_END = re.compile(f"[{SENTENCE_PUNCT}](?<![{SENTENCE_PUNCT}]{{2}})[{SENTENCE_PUNCT}]*(?:[ \u00a0\u202f]*[{CLOSERS}])*"
                  "(?=(\\s+))")
_TOKEN_BREAK = frozenset("(«\"“„'[")  # with whitespace: the characters a token before a full stop stops at
_TOKEN_WINDOW = 40
_STARTER = re.compile(r"[\w«\"“„‚'‘(\[¿¡•·▪◦‣*–—-]")
_SPACE = re.compile(r"\s")
# Initials and dotted abbreviations: "J.-P", "G.W", "z.B", "e.g", "U.S".
_DOTTED = re.compile(r"[^\W\d](?:\.-?[^\W\d])+")
# A token that ends in this many letters is no abbreviation (longer than any listed, not dotted with
# single letters), no initial and no number.
_PLAIN_WORD = 1 + max(map(len, _ABBREVIATIONS | _LOWER_ABBREVIATIONS | _NUMBER_ABBREVIATIONS))


class Span(NamedTuple):
    """Offsets `[start, end)` into the text that was split. A named tuple: the splitter makes one per
    sentence, and a tuple is the cheapest object to make and to read."""

    start: int
    end: int


# A text's sentences, each with the offsets of its soft breaks, as `sentences_with_breaks` gives them.
Sentences = tuple[tuple[Span, tuple[int, ...]], ...]


def split_sentences(text: str) -> list[Span]:
    """The sentences of `text`, in order, as spans without surrounding whitespace."""
    return [span for span, _ in _split(text)]


def sentences_with_breaks(text: str) -> Sentences:
    """The sentences of `text` (as `split_sentences`), each with its `soft_breaks`, found in the same pass."""
    return _split(text)


@lru_cache(maxsize=4096)
def _split(text: str) -> Sentences:
    """Cached: `languages` splits each block, then `transdup` splits the same blocks again to compare them.
    One pass per logical line (`_line`); a text without a line break is one line, unless it is blank."""
    out: list[tuple[Span, tuple[int, ...]]] = []
    if "\n" not in text:  # most blocks
        if text and not text.isspace():
            _line(text, 0, len(text), out)
    else:
        for line_start, line_end in _logical_lines(text):
            _line(text, line_start, line_end, out)
    return tuple(out)


def soft_breaks(text: str, span: Span) -> list[int]:
    """Points inside `span` where a sentence may end although the next word is in lower case: after `.`,
    `!` or `?` that is not an abbreviation, an initial or a number. A caller accepts such a break only on
    further evidence (the language changes there); the splitter alone does not."""
    out: list[int] = []
    for m in _END.finditer(text, span.start, span.end):
        nxt = m.end(1)
        if nxt < span.end and text[nxt].islower() and not _is_abbreviation(text, m.start(), nxt):
            out.append(m.end())
    return out


def _logical_lines(text: str) -> list[tuple[int, int]]:
    """Line ranges of a text with line breaks, with hard-wrapped continuation lines joined to the line before."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    previous = ""  # the last non-blank line: it ends the logical line before (joined text is never rescanned)
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            continue
        if ranges and continues(previous, line.lstrip()):
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
        previous = line
    return ranges


def _line(text: str, start: int, end: int, out: list[tuple[Span, tuple[int, ...]]]) -> None:
    """The sentences of the logical line `start:end` (never blank) appended to `out`, each with its soft
    breaks, in one pass over the candidate ends: a soft break is a candidate end before a lower-case
    word that is no abbreviation, and it belongs to the sentence that the next cut ends. A cut ends a
    sentence at visible punctuation, and the next sentence starts where its whitespace ends: no sentence
    is empty, and none needs stripping."""
    first = _next_visible(text, start, end)
    sentence = first
    breaks: list[int] = []
    resume = start  # where the last candidate ended: the candidates are those `_END.finditer` finds
    for mark in _marks(text, start, end):
        if mark < resume:
            continue
        m = _END.match(text, mark, end)
        if m is None:
            continue
        resume = m.end()
        nxt = m.end(1)  # the lookahead's whitespace stops at `end` too
        if nxt >= end:
            continue
        following = text[nxt]
        if following.islower():
            if not _is_abbreviation(text, m.start(), nxt):
                breaks.append(m.end())
            continue
        # `_STARTER` holds every alphanumeric character (`\w`): the pattern only decides the others.
        if not (following.isalnum() or _STARTER.match(text, nxt)):
            continue
        dot = m.start()
        if text[dot] == "." and text[dot + 1] != "." and (  # a single full stop
                _is_abbreviation(text, dot, nxt) or _is_list_number(text, first, dot)):
            continue
        out.append((Span(sentence, m.end()), tuple(breaks)))
        breaks.clear()
        sentence = nxt
    last = end
    while text[last - 1].isspace():
        last -= 1
    out.append((Span(sentence, last), tuple(breaks)))


def _marks(text: str, start: int, end: int) -> list[int]:
    """Where `text[start:end]` holds terminal punctuation, in order: the only places a candidate end can
    start. Found with `str.find`, several times faster than the regex engine's scan for the class; a
    candidate is then matched at each mark it has not passed yet, which finds what `finditer` finds."""
    marks: list[int] = []
    kinds = 0
    for char in SENTENCE_PUNCT:
        at = text.find(char, start, end)
        if at >= 0:
            kinds += 1
        while at >= 0:
            marks.append(at)
            at = text.find(char, at + 1, end)
    if kinds > 1:
        marks.sort()
    return marks


def _is_abbreviation(text: str, dot: int, nxt: int) -> bool:
    """Whether the full stop at `dot` closes an abbreviation, an initial or a day number (not a sentence)."""
    if dot >= _PLAIN_WORD and text[dot - _PLAIN_WORD : dot].isalpha():  # most full stops: after a long word
        return False
    word = _token_before(text, dot)
    if not word:
        return False
    bare = word.rstrip(".")
    lower = bare.lower()
    if bare in _ABBREVIATIONS or lower in _LOWER_ABBREVIATIONS:
        return True
    if lower in _NUMBER_ABBREVIATIONS and nxt < len(text) and text[nxt].isdigit():
        return True
    if (len(bare) == 1 and bare.isalpha()) or ("." in bare and _DOTTED.fullmatch(bare)):
        return True
    if not (word.isdigit() and len(word) <= 2):
        return False
    following = text[nxt : nxt + 12].split(maxsplit=1)[0] if nxt < len(text) else ""
    return following.lower().strip(",.;") in _MONTHS


def _token_before(text: str, dot: int) -> str:
    """The token that ends at `dot`: walked back to its start (whitespace or an opening quote or bracket
    before it). A regex anchored at `dot` would be tried from every character before it; a token belongs
    to the one full stop after it, so the walks add up to the length of the text. A full stop that opens
    a line reads the last token of the line before, as this splitter always has (its regex's `$` matched
    before a final newline too), up to `_TOKEN_WINDOW` characters back."""
    end = dot - 1 if dot > 0 and text[dot - 1] == "\n" else dot
    start = end
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in _TOKEN_BREAK:
        start -= 1
    if end < dot and dot > _TOKEN_WINDOW and start <= dot - _TOKEN_WINDOW:
        return text[start:dot]
    return text[start:end]


def _is_list_number(text: str, first: int, dot: int) -> bool:
    """A full stop after a number that opens a line ("1. Premier point"); `first` is the line's first visible
    character. Only the few characters before the dot are read: reading from the line start at every full
    stop made long lines quadratic."""
    head_end = dot
    while head_end > first and text[head_end - 1].isspace():
        head_end -= 1
    return 0 < head_end - first <= 3 and text[first:head_end].isdigit()


def _next_visible(text: str, pos: int, end: int) -> int:
    while pos < end and _SPACE.match(text, pos):
        pos += 1
    return pos
