"""normalise: Unicode form, whitespace and typography inside lines; then a block's lines become paragraphs
and list items.

Always: Unicode NFC (`form: NFKC` for compatibility folding); runs of spaces and tabs inside a line become
one space (a run holding a no-break space becomes that no-break space, so « 12 h » keeps its
typography); lines are stripped. Diacritics, « » „ “ ’, hyphenated compounds and paragraph breaks are kept.

Then the lines of each block are regrouped, so that afterwards no block text holds a line break:
- a line starting with a bullet (• ◦ ▪ ‣ ● ■ ► – — - * +) or a number ("1." "2)") starts a `list_item`
  block; symbol bullets are dropped, numbers kept;
- a line continues the previous one (hard wrap) when it starts in lower case, or when the previous line
  fills the block's wrap width (at least `wrap_fill` of the longest line, which is at most
  `max_wrap_width` characters) without ending a sentence;
- two lines that are neither of them prose (`text.is_prose`: commands, code, references) stay two lines: a
  `<pre>` of commands has lines of one width that end no sentence, and is no wrapped paragraph;
- otherwise the line starts a new block: glued paragraphs (a line ending a sentence, the next starting with
  a capital) and headings glued to their paragraph are separated, not merged. The price: a hard-wrapped
  paragraph whose line happens to end with a sentence is split there (text kept, one extra break);
- a word hyphenated across a line break ("infor-" + "mation") is joined without the hyphen when the joined
  word appears elsewhere in the document (tamis has no dictionary: the document's own vocabulary is the
  evidence), and with the hyphen otherwise ("nord-" + "coréen" → "nord-coréen"), since dropping a real
  hyphen would lose information.
New blocks keep their source block's `index` and kind (list items excepted).

Options, all off by default: `straight_quotes` (’ ‘ “ ” „ « » → ' and "), `unify_dashes` (‒ – — ― and a
hyphen between spaces → –), `unify_ellipsis` (... → …), `french_spacing` (narrow no-break space before
; : ! ? and inside « »), `ascii_fold` (diacritics and ligatures of Latin letters folded, typographic
punctuation made ASCII; other scripts untouched). Each change is a `Change` (rules `form`, `whitespace`,
`straight_quotes`, `unify_dashes`, `unify_ellipsis`, `french_spacing`, `ascii_fold`, `hyphenation`,
`lines`). Filters nothing.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from pipeline.document import Block, BlockKind, Change, Document
from pipeline.stage import Stage
from pipeline.types import Fraction, PositiveInt
from stages.text import continues, ends_sentence, is_prose


@dataclass(frozen=True, kw_only=True)
class NormaliseConfig:
    form: Literal["NFC", "NFKC"] = field(default="NFC", metadata={"help": "Unicode normal form"})
    straight_quotes: bool = field(default=False, metadata={"help": """’ ‘ “ ” „ « » → ' \""""})
    unify_dashes: bool = field(default=False, metadata={"help": '‒ – — ― and " - " → –'})
    unify_ellipsis: bool = field(default=False, metadata={"help": "... → …"})
    french_spacing: bool = field(default=False, metadata={
        "help": "narrow no-break space before ; : ! ? and inside « »"})
    ascii_fold: bool = field(default=False, metadata={
        "help": "drop diacritics of Latin letters, ASCII punctuation (never default)"})
    max_wrap_width: PositiveInt = field(default=120, metadata={
        "help": "blocks with longer lines were not hard-wrapped"})
    wrap_fill: Fraction = field(default=0.7, metadata={
        "help": "a line this full (share of the longest) continues on the next"})


_NO_BREAK = "\u202f\xa0\u2007"
# Runs inside a line that need rewriting: two or more spaces, or one space character other than " " and
# the no-break spaces (tab, em space...). Single ordinary spaces are not matched: no work for them.
_ODD_SPACE = re.compile(r"[^\S\n]{2,}|[^\S\n \xa0\u202f\u2007]")
# The same, found faster: a class scan plus substring tests, instead of a match attempt at every space.
_ODD_SPACE_CHAR = re.compile(r"[\t\x0b\x0c\r\x1c-\x1f\x85\u1680\u2000-\u2006\u2008-\u200a\u205f\u3000]")
# Pairs with a no-break space, looked for only in text that has one: two spaces alone are most pairs found.
_NO_BREAK_PAIRS = tuple(a + b for a in " \xa0\u202f\u2007" for b in " \xa0\u202f\u2007" if a + b != "  ")
_BULLET = re.compile(r"(?:[•◦▪▫‣∙●○■□►▸➢✓✔*+–—-]|(\d{1,3}[.)]))\s+(?=\S)")
# Searched in the last two characters of a line: a search in the whole line would try every position.
_HYPHEN_BREAK = re.compile(r"(?<=[^\W\d_])-$")
_LAST_WORD = re.compile(r"[^\W\d_]+$")
_WORD = re.compile(r"[^\W\d_]+")

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "‹": "'", "›": "'",
                         "“": '"', "”": '"', "„": '"', "‟": '"'})
_GUILLEMETS = re.compile(r"«[^\S\n]*|[^\S\n]*»")
_DASHES = re.compile(r"[‒–—―]|(?<=\s)-(?=\s)")
_ELLIPSIS = re.compile(r"\.(?:[^\S\n]?\.){2,}")
_FRENCH_PUNCT = re.compile(r"(?<=[^\s;:!?«])[^\S\n]*([;!?]+|:)(?=\s|[\"»”)]|\Z)")
_FRENCH_OPEN = re.compile(r"«[^\S\n]*(?=\S)")
_FRENCH_CLOSE = re.compile(r"(?<=\S)[^\S\n]*»")
_LATIN_MARKS = re.compile(r"(?<=[A-Za-z])[\u0300-\u036f]+")
_ASCII = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O",
                        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th",
                        "ı": "i", "«": '"', "»": '"', "–": "-", "—": "-", "‒": "-", "―": "-", "…": "...",
                        "\xa0": " ", "\u202f": " ", "\u2007": " ", "•": "*"})


class Normalise(Stage[NormaliseConfig]):
    name = "normalise"
    requires = ("blocks",)

    def __init__(self, config: NormaliseConfig) -> None:
        super().__init__(config)
        self._typography: list[tuple[str, Callable[[str], str]]] = [(rule, fn) for rule, fn, on in (
            ("straight_quotes", _straight_quotes, config.straight_quotes),
            ("unify_dashes", lambda t: _DASHES.sub("–", t), config.unify_dashes),
            ("unify_ellipsis", lambda t: _ELLIPSIS.sub("…", t), config.unify_ellipsis),
            ("french_spacing", _french_spacing, config.french_spacing),
            ("ascii_fold", _ascii_fold, config.ascii_fold),
        ) if on]

    def process(self, doc: Document) -> Document:
        blocks: list[Block] = []
        vocabulary: set[str] | None = None
        for block in doc.blocks:
            text, rules = self.clean(block.text)
            for rule, detail in rules:
                doc.changes.append(Change(stage=self.name, rule=rule, detail=detail, block=block.index))
            lines = text.split("\n")
            if len(lines) == 1:
                block.text = text
                if text:
                    blocks.append(block)
                continue
            if vocabulary is None and any(_HYPHEN_BREAK.search(line[-2:]) for line in lines):
                vocabulary = set(_WORD.findall(" ".join(b.text for b in doc.blocks).lower()))
            pieces, joined = self.regroup(lines, vocabulary or set())
            for before, after in joined:
                doc.changes.append(Change(stage=self.name, rule="hyphenation", detail=f"{before} → {after}",
                                          block=block.index))
            doc.changes.append(Change(stage=self.name, rule="lines", detail=_count(len(lines), pieces),
                                      block=block.index))
            blocks.extend(dataclasses.replace(block, kind=kind or block.kind, text=piece) for kind, piece in pieces)
        doc.blocks = blocks
        return doc

    def clean(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """Unicode form, spaces and the typography options, applied to the whole block text at once."""
        rules: list[tuple[str, str]] = []
        form = self.config.form
        if not text.isascii() and not unicodedata.is_normalized(form, text):
            text = unicodedata.normalize(form, text)
            rules.append(("form", form))
        text = "\n".join(map(str.strip, text.split("\n"))) if "\n" in text else text.strip()
        # No-break and odd spaces are none of them printable (`str.isprintable`, one fast scan): in a
        # printable text (most blocks) only a double space can be a run to rewrite.
        if "  " in text or (not text.isprintable() and (
                (not text.isascii() and any(map(text.__contains__, _NO_BREAK))
                 and any(map(text.__contains__, _NO_BREAK_PAIRS))) or _ODD_SPACE_CHAR.search(text))):
            text = _ODD_SPACE.sub(_one_space, text)
            rules.append(("whitespace", "collapsed runs of spaces"))
        for rule, fix in self._typography:
            fixed = fix(text)
            if fixed != text:
                rules.append((rule, "applied"))
                text = fixed
        return text, rules

    def regroup(self, lines: list[str], vocabulary: set[str]) -> tuple[list[tuple[BlockKind | None, str]],
                                                                       list[tuple[str, str]]]:
        """(kind, text) pieces, kind None meaning the source block's kind, and the hyphenated words joined."""
        lines = [line for line in lines if line]
        width = max(map(len, lines), default=0)
        full = self.config.wrap_fill * width if width <= self.config.max_wrap_width else float("inf")
        pieces: list[tuple[BlockKind | None, str]] = []
        joined: list[tuple[str, str]] = []
        for i, line in enumerate(lines):
            bullet = _BULLET.match(line)
            if bullet:
                pieces.append(("list_item", line if bullet.group(1) else line[bullet.end():]))
            elif (pieces and _continues(pieces[-1][1], line, full)
                  and (is_prose(line) or is_prose(lines[i - 1]))):
                kind, previous = pieces[-1]
                pieces[-1] = (kind, _join(previous, line, vocabulary, joined))
            else:
                pieces.append((None, line))
        return pieces, joined


def _continues(previous: str, line: str, full: float) -> bool:
    """Whether `line` is the hard-wrapped continuation of `previous` (see the module docstring)."""
    return continues(previous, line) or (len(previous) >= full and not ends_sentence(previous))


def _join(previous: str, line: str, vocabulary: set[str], joined: list[tuple[str, str]]) -> str:
    if _HYPHEN_BREAK.search(previous[-2:]):
        head = _LAST_WORD.search(previous[:-1])
        tail = _WORD.match(line)
        if head and tail:
            word = head.group() + tail.group()
            if word.lower() in vocabulary:
                joined.append((f"{head.group()}-{tail.group()}", word))
                return previous[:-1] + line
        return previous + line
    return previous + " " + line


def _one_space(match: re.Match[str]) -> str:
    run = match.group()
    return next((c for c in _NO_BREAK if c in run), " ")


def _count(n_lines: int, pieces: list[tuple[BlockKind | None, str]]) -> str:
    items = sum(1 for kind, _ in pieces if kind == "list_item")
    paragraphs = len(pieces) - items
    parts = [f"{n} {name}{'s' if n != 1 else ''}" for n, name in ((paragraphs, "block"), (items, "list item")) if n]
    return f"{n_lines} lines → " + ", ".join(parts)


def _straight_quotes(text: str) -> str:
    return _GUILLEMETS.sub('"', text).translate(_QUOTES)


def _french_spacing(text: str) -> str:
    text = _FRENCH_PUNCT.sub("\u202f\\1", text)
    text = _FRENCH_OPEN.sub("«\u202f", text)
    return _FRENCH_CLOSE.sub("\u202f»", text)


def _ascii_fold(text: str) -> str:
    """Latin letters lose their diacritics (other scripts keep theirs); typographic marks become ASCII."""
    text = _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", text))
    return unicodedata.normalize("NFC", text.translate(_QUOTES).translate(_ASCII))
