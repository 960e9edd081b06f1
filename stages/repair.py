"""repair: undo encoding damage and strip invisible junk in block texts and in metadata title/author/site.

ftfy fixes mojibake (also double-encoded UTF-8), HTML entities left in plain text, C1 controls, surrogates,
ligatures and line-break variants; its options are exposed one to one under `ftfy:`, with ftfy's defaults
except `uncurl_quotes` (off, so ’ “ ” survive) and `fix_character_width` (off, so the full-width digits and
punctuation of Chinese and Japanese text survive: width folding is normalisation, not repair). A line goes
to ftfy only when a cheap check finds something ftfy would act on (a character one of the enabled fixers
handles, ftfy's own mojibake detector `is_bad`, or text not in the target normal form), so clean text costs
a few regex scans; ftfy's table fixers that find none of their characters in the line are switched off for
it, where that provably changes nothing (`Repair._fix_and_explain`).
Then tamis removes zero-width characters (ZWJ/ZWNJ only next to ASCII, where they never join anything),
soft hyphens and control characters other than tab and newline (a form feed becomes a newline), and drops
lines that hold only spaces (no-break spaces included, and "Â", what a line of no-break spaces becomes when
read as cp1252 and stripped).

Every change is a `Change`: the ftfy step (`fix_encoding` with ftfy's explanation such as
`encode sloppy-windows-1252, decode utf-8`, `unescape_html`, `normalization`, ...) or the tamis rule
(`zero_width`, `soft_hyphens`, `control_chars`, `blank_lines`). A block left empty is removed with a
`Removal` (rule `empty`). Filters nothing.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pipeline.document import Block, Change, Document, Removal
from pipeline.stage import Stage

if TYPE_CHECKING:
    from ftfy import ExplainedText


@dataclass(frozen=True, kw_only=True)
class FtfyOptions:
    """ftfy's `TextFixerConfig` fields under the same names (see ftfy's documentation)."""

    unescape_html: bool | Literal["auto"] = field(default="auto", metadata={
        "help": 'HTML entities; auto: off where a "<" shows real markup'})
    fix_encoding: bool = field(default=True, metadata={"help": "mojibake, also double-encoded"})
    restore_byte_a0: bool = field(default=True, metadata={"help": "mojibake whose no-break space became a space"})
    replace_lossy_sequences: bool = field(default=True, metadata={"help": "mojibake that lost bytes, as U+FFFD"})
    decode_inconsistent_utf8: bool = field(default=True, metadata={"help": "UTF-8 mojibake inside correct text"})
    fix_c1_controls: bool = field(default=True, metadata={"help": "C1 controls read as Windows-1252"})
    fix_latin_ligatures: bool = field(default=True, metadata={"help": "ﬁ ﬂ … → fi fl"})
    fix_character_width: bool = field(default=False, metadata={
        "help": "fold full-/half-width forms (ftfy: on; off: CJK typography is not damage)"})
    uncurl_quotes: bool = field(default=False, metadata={"help": "off: keeps ’ “ ” (ftfy's default is true)"})
    fix_line_breaks: bool = field(default=True, metadata={"help": "CRLF, CR, U+2028 … → newline"})
    fix_surrogates: bool = field(default=True, metadata={"help": "UTF-16 surrogate pairs → characters"})
    remove_terminal_escapes: bool = field(default=True, metadata={"help": "ANSI terminal escapes"})
    remove_control_chars: bool = field(default=True, metadata={"help": "controls that are never text"})
    normalization: Literal["NFC", "NFKC"] | None = field(default="NFC", metadata={
        "help": "Unicode normal form, or null"})


@dataclass(frozen=True, kw_only=True)
class RepairConfig:
    zero_width: bool = field(default=True, metadata={
        "help": "remove ZWSP, word joiner, stray BOM (ZWJ/ZWNJ only next to ASCII)"})
    soft_hyphens: bool = field(default=True, metadata={"help": "remove U+00AD"})
    control_chars: bool = field(default=True, metadata={
        "help": "remove C0/C1 controls except tab and newline; form feed → newline"})
    ftfy: FtfyOptions = field(default_factory=FtfyOptions, metadata={
        "help": "ftfy's TextFixerConfig, same names and defaults except uncurl_quotes, fix_character_width"})


_ZERO_WIDTH = r"[\u200b\u2060\ufeff\u180e]|(?<=[\x00-\x7f])[\u200c\u200d]|[\u200c\u200d](?![^\x00-\x7f])"
_SOFT_HYPHEN = r"\xad"
_CONTROL_CHARS = r"\x00-\x08\x0b\x0e-\x1f\x7f-\x9f"
_CONTROL = f"[{_CONTROL_CHARS}]"
# The characters each rule acts on, as the inside of a character class.
_TRIGGER = {"zero_width": r"\u200b-\u200d\u2060\ufeff\u180e", "soft_hyphens": _SOFT_HYPHEN,
            "control_chars": _CONTROL_CHARS}
_FORM_FEED = "\x0c"
# A line of only no-break spaces, read as cp1252 (C2 A0 → "Â" + no-break space) and then stripped, is left
# as "Â" ("ÂÂ" when it happened twice); ftfy cannot see what the lost byte was, but "Â" alone on a line is
# never text.
_LOST_NBSP = re.compile(r"^[^\S\n]*Â+[^\S\n]*$", re.MULTILINE)
_METADATA_FIELDS = ("title", "author", "site")


class Repair(Stage[RepairConfig]):
    name = "repair"
    requires = ("blocks",)

    def __init__(self, config: RepairConfig) -> None:
        super().__init__(config)
        self._fixer: Any = None
        self._suspect: re.Pattern[str] | None = None
        self._dirty: re.Pattern[str] | None = None
        self._clue: re.Pattern[str] | None = None
        self._triggers: dict[str, re.Pattern[str]] = {}
        self._any_trigger: re.Pattern[str] | None = None
        self._trimmed: dict[frozenset[str], tuple[Any, re.Pattern[str]]] = {}
        rules = [(rule, pattern) for rule, pattern, on in (
            ("zero_width", _ZERO_WIDTH, config.zero_width),
            ("soft_hyphens", _SOFT_HYPHEN, config.soft_hyphens),
            ("control_chars", _CONTROL, config.control_chars),
        ) if on]
        self._rules = [(rule, re.compile(pattern)) for rule, pattern in rules]
        # One class scan finds whether any rule may apply: clean text pays for one search, not one per rule.
        self._junk_chars = "".join(_TRIGGER[rule] for rule, _ in rules)
        self._junk = re.compile(f"[{self._junk_chars}]" if rules else r"(?!)")

    def setup(self) -> None:
        import ftfy
        from ftfy import chardata

        self._fixer = ftfy.TextFixerConfig(**dataclasses.asdict(self.config.ftfy), explain=True)
        triggers = _triggers(self.config.ftfy, chardata)
        self._triggers = {fixer: re.compile(_char_class(chars)) for fixer, chars in triggers.items()}
        self._any_trigger = re.compile(_char_class(set().union(*triggers.values())) if triggers else r"(?!)")
        self._trimmed = {}
        self._suspect = _suspect_pattern(self.config.ftfy, triggers, chardata)
        # The characters of `_suspect` and `_junk` in one class: a clean text (nearly every block) is told
        # apart from one either may find by one scan instead of two. With `uncurl_quotes` the suspect
        # pattern is more than a class, and both run.
        if not self.config.ftfy.uncurl_quotes:
            inside = _suspect_chars(self.config.ftfy, triggers)
            self._dirty = re.compile(f"[{_char_class(inside)[1:-1] if inside else ''}{self._junk_chars}]"
                                     if inside or self._junk_chars else r"(?!)")
        self._clue = _mojibake_clue(chardata.CHARMAP_ENCODINGS)

    def process(self, doc: Document) -> Document:
        kept: list[Block] = []
        for block in doc.blocks:
            text, notes = self.repair(block.text)
            if text != block.text:
                doc.changes.extend(Change(stage=self.name, rule=rule, detail=detail, block=block.index)
                                   for rule, detail in _summarise(notes))
                self.counters["blocks_changed"] += 1
            if text:
                block.text = text
                kept.append(block)
            else:
                doc.removed.append(Removal(stage=self.name, rule="empty", reason="only invisible characters or spaces",
                                           text=block.text, block=block.index))
        doc.blocks = kept
        for name in _METADATA_FIELDS:
            value = getattr(doc.metadata, name)
            if value:
                fixed, notes = self.repair(value)
                if fixed != value:
                    setattr(doc.metadata, name, fixed)
                    doc.changes.extend(Change(stage=self.name, rule=rule, detail=f"metadata.{name}: {detail}")
                                       for rule, detail in _summarise(notes))
        return doc

    def repair(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """The repaired text, and a (rule, detail) note per line and fix that changed something."""
        if self._fixer is None:
            raise RuntimeError("repair: call setup() before process() (a Pipeline does it for you)")
        notes: list[tuple[str, str]] = []
        original = text
        # Neither `_suspect` nor `_junk` finds anything in a text that `_dirty` finds nothing in, nor in
        # any of its lines; only the fixes of ftfy may bring in what `_junk` removes.
        dirty = self._dirty is None or self._dirty.search(text) is not None
        if self._needs_ftfy(text, dirty):
            if "\n" in text:
                text = "\n".join(self._fix_line(line, notes) if self._needs_ftfy(line, dirty) else line
                                 for line in text.split("\n"))
            else:  # one line: checked already
                text = self._fix_line(text, notes)
        if self.config.ftfy.fix_encoding and "Â" in text:
            text, count = _LOST_NBSP.subn("", text)
            if count:
                notes.append(("fix_encoding", "line of only 'Â' (a no-break space read as cp1252) emptied"))
        if _FORM_FEED in text and self.config.control_chars:
            notes.append(("control_chars", "form feed → line break"))
            text = text.replace(_FORM_FEED, "\n")
        if (dirty or text != original) and self._junk.search(text):
            for rule, pattern in self._rules:
                text, count = pattern.subn("", text)
                if count:
                    notes.append((rule, f"removed {count} character{'s' if count > 1 else ''}"))
        lines = text.split("\n")
        if "" in lines or any(map(str.isspace, lines)):  # C loops: most blocks have no blank line
            text = "\n".join(line for line in lines if line and not line.isspace())
            notes.append(("blank_lines", "dropped lines of only spaces"))
        return text, notes

    def _needs_ftfy(self, text: str, dirty: bool = True) -> bool:
        """Whether an enabled ftfy fixer could change `text`, decided by class scans (`dirty`: False when
        `_dirty` found none of the suspect characters in it). ftfy's own badness check (`is_bad`, the
        first thing its encoding fix does) costs ~100 µs on a paragraph of accented text, so it runs only
        on lines where a two-character mojibake clue was found."""
        assert self._suspect is not None and self._clue is not None
        if dirty and self._suspect.search(text):
            return True
        if text.isascii():
            return False
        options = self.config.ftfy
        return bool((options.fix_encoding and self._clue.search(text))
                    or (options.normalization and not unicodedata.is_normalized(options.normalization, text)))

    def _fix_line(self, line: str, notes: list[tuple[str, str]]) -> str:
        """`line` fixed by ftfy (`_needs_ftfy` said it may need it), its plan added to `notes`."""
        fixed, plan = self._fix_and_explain(line)
        if fixed != line:
            notes.extend(_explain(plan or []))
        return fixed

    def _fix_and_explain(self, line: str) -> ExplainedText:
        """`ftfy.fix_and_explain(line, config)` with the table fixers that find nothing to do switched off.

        ftfy runs every enabled fixer on each text it passes through, until a round changes nothing; most
        lines sent here hold mojibake and nothing for the other fixers, whose scans cost a fifth of the call.
        Each of those fixers (and `fix_encoding`'s use of the `fix_c1_controls` flag) changes a text only
        where it holds one of the fixer's characters (`_triggers`), and adds a plan step only when it
        changes the text, so switching it off cannot change a run in which no text passed through holds one:
        where it would have run it returns its input, so both runs go through the same texts and steps. The
        texts a run passes through are its input, its output and those between two of its plan's
        text-producing steps; when the plan has at most one such step the input and output are all of them
        and are checked here, otherwise (or when the output holds a character of a fixer switched off) the
        line is fixed again with the whole configuration."""
        from ftfy import fix_and_explain

        assert self._any_trigger is not None
        if self._any_trigger.search(line) is None:  # most lines: one scan says that every table fixer is idle
            idle = frozenset(self._triggers)
        else:
            idle = frozenset(fixer for fixer, pattern in self._triggers.items() if not pattern.search(line))
        if not idle:
            return fix_and_explain(line, self._fixer)
        if idle not in self._trimmed:
            chars = "".join(self._triggers[fixer].pattern[1:-1] for fixer in sorted(idle))
            self._trimmed[idle] = (self._fixer._replace(**dict.fromkeys(idle, False)), re.compile(f"[{chars}]"))
        trimmed, woken = self._trimmed[idle]
        result = fix_and_explain(line, trimmed)
        if woken.search(result.text) or _text_steps(result.explanation or []) > 1:
            return fix_and_explain(line, self._fixer)
        return result


def _triggers(options: FtfyOptions, chardata: Any) -> dict[str, set[int]]:
    """The enabled ftfy fixers that change a text only where it holds one of a set of characters, with that
    set: an HTML entity starts with "&", a terminal escape with ESC, the others replace or delete the
    characters of their table or pattern."""
    tables = {
        "unescape_html": {ord("&")},
        "remove_terminal_escapes": {0x1B},
        "fix_c1_controls": set(range(0x80, 0xA0)),
        "fix_latin_ligatures": set(chardata.LIGATURES),
        "fix_character_width": set(chardata.WIDTH_MAP),
        "fix_line_breaks": set(map(ord, "\r\u2028\u2029\x85")),
        "fix_surrogates": set(range(0xD800, 0xE000)),
        "remove_control_chars": set(chardata.CONTROL_CHARS),
    }
    return {fixer: chars for fixer, chars in tables.items() if getattr(options, fixer)}


def _suspect_chars(options: FtfyOptions, triggers: dict[str, set[int]]) -> set[int]:
    """The characters the enabled ftfy fixers act on, besides mojibake (which `ftfy.badness.is_bad`
    detects), normalisation (which `unicodedata.is_normalized` checks) and curly quotes."""
    chars: set[int] = set().union(*triggers.values())
    if options.fix_encoding:
        chars.update(range(0x80, 0xA0))
    return chars


def _suspect_pattern(options: FtfyOptions, triggers: dict[str, set[int]], chardata: Any) -> re.Pattern[str]:
    """One character class of everything the enabled ftfy fixers act on, besides mojibake (which
    `ftfy.badness.is_bad` detects) and normalisation (which `unicodedata.is_normalized` checks)."""
    chars = _suspect_chars(options, triggers)
    parts: list[str] = []
    if options.uncurl_quotes:
        parts += [chardata.SINGLE_QUOTE_RE.pattern, chardata.DOUBLE_QUOTE_RE.pattern]
    if chars:
        parts.append(_char_class(chars))
    return re.compile("|".join(parts) or r"(?!)")


def _text_steps(plan: Sequence[tuple[str, str]]) -> int:
    """How many steps of an ftfy plan produce a text: a decode, an `apply`, a `normalize`, and a
    `transcode` not between an encode and its decode (ftfy's `fix_c1_controls` fallback works on text)."""
    count = 0
    in_bytes = False
    for action, _ in plan:
        if action == "encode":
            in_bytes = True
        elif action == "decode" or not in_bytes:
            count += 1
            in_bytes = False
    return count


def _mojibake_clue(encodings: list[str]) -> re.Pattern[str]:
    """Where UTF-8 was read in one of ftfy's single-byte `encodings`: a character from a lead byte
    (0xC2-0xF4) followed by one from a continuation byte (0x80-0xBF) or a replacement mark, or a two-byte
    lead followed by the space or "?" that ftfy reads as a lost byte. In MacRoman and cp437 the lead bytes
    include letters and quotes of clean text (é, ’, «), so for those two only the other lead characters
    count; mojibake they hide also carries C1 controls or other marks that `_suspect_pattern` catches.
    The pattern starts with the lead class (the two-byte leads are among the leads), so that the engine
    skips the text up to the next lead character, where an alternation would be tried at every position."""
    lead, short_lead, follow = _mojibake_chars(encodings)
    return re.compile(f"{_char_class(lead)}(?:\\??{_char_class(follow)}|(?<={_char_class(short_lead)})[ ?])")


def _mojibake_chars(encodings: list[str]) -> tuple[set[int], set[int], set[int]]:
    """The lead characters, the two-byte leads among them and the continuation characters of
    `_mojibake_clue`."""
    lead: set[int] = set()
    short_lead: set[int] = set()  # the leads ftfy restores a lost byte after (its ALTERED and LOSSY patterns)
    follow: set[int] = {0x1A, 0xFFFD}
    for encoding in encodings:
        plain = encoding in ("macroman", "cp437")
        for byte, char in zip(range(0xC2, 0xF5), bytes(range(0xC2, 0xF5)).decode(encoding), strict=True):
            if not (plain and (char.isalpha() or char in "«»“”‘’–—…€")):
                lead.add(ord(char))
                if byte in (0xC2, 0xC3, 0xC5, 0xCE, 0xD0, 0xD9, 0xE2, 0xE3, 0xF0):
                    short_lead.add(ord(char))
        follow.update(map(ord, bytes(range(0x80, 0xC0)).decode(encoding)))
    return lead, short_lead, follow


def _char_class(codepoints: set[int]) -> str:
    return "[" + "".join(_ranges(sorted(codepoints))) + "]"


def _ranges(codepoints: list[int]) -> Iterable[str]:
    start = prev = codepoints[0]
    for cp in [*codepoints[1:], -1]:
        if cp != prev + 1:
            yield re.escape(chr(start)) if start == prev else f"{re.escape(chr(start))}-{re.escape(chr(prev))}"
            start = cp
        prev = cp


def _explain(plan: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """ftfy's plan as (rule, detail) notes; a run of re-encoding steps is one `fix_encoding` note."""
    notes: list[tuple[str, str]] = []
    encoding: list[str] = []
    for action, parameter in [*plan, ("end", "")]:
        if action in ("encode", "decode", "transcode"):
            encoding.append(f"{action} {parameter}")
            continue
        if encoding:
            notes.append(("fix_encoding", ", ".join(dict.fromkeys(encoding))))
            encoding = []
        if action == "normalize":
            notes.append(("normalization", parameter))
        elif action == "apply":
            notes.append((parameter, "applied"))
    return notes


def _summarise(notes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Repeated notes (one per line) folded into one, with the count of lines."""
    return [(rule, detail if n == 1 else f"{detail} ({n} lines)") for (rule, detail), n in Counter(notes).items()]
