"""ftfy's `fix_and_explain` with faster equivalents of two kinds of its inner functions (`FastFtfy`).

They are in place only during the call (ftfy reads them from its module's namespace and from its `FIXERS`
table), so the rest of the process, and benchmarks of ftfy alone, see ftfy's own.

ftfy's mojibake test (`ftfy.badness.is_bad`), answered from a few short windows of the text, not a scan of
it: `is_bad` searches one regex of some forty alternatives at every position of a line, and ftfy's encoding fix
calls it at least twice per line it repairs (on the text before and after each step): on clean text it
finds nothing only after trying every alternative at every position, about 100 µs on a paragraph. Every
alternative has a width of at most `W` characters and holds a character class it cannot match without
(`Ã`, `«`, a C1 control, ...). The union of those classes, chosen among each alternative's items to avoid
the letters of running text, is rare in clean text, and a match lies within `W - 1` characters of one of
its characters, so searching only those windows gives `is_bad`'s answer on every text. The analysis reads
ftfy's pattern with the stdlib parser; a pattern it cannot vouch for (a lookaround or an end anchor that a
window would see otherwise, case-insensitive classes, an unbounded repeat) gets no window test, and ftfy's
own `is_bad` stays.

ftfy's fixers that translate the text by a table (ligatures, control characters, character width) run on
every line ftfy fixes, twice (its loop runs until nothing changes), at ~15 µs a line of accented text: the
same fixer that returns the text as it is when no character of the table occurs costs one class scan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from typing import Any

from stages.rulebook import sre, sre_parse  # type: ignore[attr-defined]  # the stdlib parser, per Python version

# Characters of running text: a class that holds them is a poor choice of necessary character.
_ASCII_WEIGHT = 1000
_LETTER_WEIGHT = 10
# Items that match one character by its own value.
_CONSUMING = (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY)


# ftfy's fixers that translate by a table, by their names in `ftfy.FIXERS`.
TRANSLATING = ("fix_latin_ligatures", "remove_control_chars", "fix_character_width")


class FastFtfy:
    """`fix_and_explain` as ftfy's, with the faster functions the analysis vouches for (`swaps`: where each
    goes, and the function); the others stay ftfy's own."""

    def __init__(self) -> None:
        import ftfy
        from ftfy import badness, fixes

        self._fix_and_explain = ftfy.fix_and_explain
        self.swaps: list[tuple[dict[str, Any], str, Callable[..., Any]]] = []
        namespace = vars(ftfy)
        fast = windowed(badness.BADNESS_RE)
        if fast is not None and namespace.get("is_bad") is badness.is_bad:  # the encoding fix calls it so
            self.swaps.append((namespace, "is_bad", fast))
        for name in TRANSLATING:
            skipping = skipping_translate(getattr(fixes, name))
            if skipping is not None and ftfy.FIXERS.get(name) is getattr(fixes, name):
                self.swaps.append((ftfy.FIXERS, name, skipping))

    def fix_and_explain(self, text: str, config: Any) -> tuple[str, Any]:
        """`ftfy.fix_and_explain(text, config)`, with the faster functions in place for the call."""
        saved = [(space, key, space[key]) for space, key, _ in self.swaps]
        for space, key, fast in self.swaps:
            space[key] = fast
        try:
            return self._fix_and_explain(text, config)
        finally:
            for space, key, own in saved:
                space[key] = own


def skipping_translate(fixer: Callable[[str], str]) -> Callable[[str], str] | None:
    """`fixer`, skipped on a text that holds none of its table's characters, for a fixer whose code is
    `return text.translate(TABLE)` (it names nothing but `translate` and a dict of its module, and holds no
    constant but its docstring); None for any other function."""
    code = getattr(fixer, "__code__", None)
    if code is None or code.co_varnames != ("text",) or len(code.co_names) != 2 or code.co_names[0] != "translate" \
            or any(const is not None and not isinstance(const, str) for const in code.co_consts):
        return None
    table = fixer.__globals__.get(code.co_names[1])
    if not isinstance(table, dict) or not table or not all(isinstance(key, int) for key in table):
        return None
    finder = re.compile(char_class(set(table)))

    def skipping(text: str) -> str:
        return fixer(text) if finder.search(text) else text

    return skipping


def windowed(pattern: re.Pattern[str]) -> Callable[[str], bool] | None:
    """A function equal to `bool(pattern.search(text))` on every text that searches only the windows
    around the characters every match needs; None when the analysis cannot show it equal."""
    if pattern.flags & (re.IGNORECASE | re.MULTILINE | re.LOCALE):
        return None
    tree: Any = sre_parse.parse(pattern.pattern, pattern.flags)
    branches = tree[0][1][1] if len(tree) == 1 and tree[0][0] is sre.BRANCH else [tree]
    width = 0
    needed: set[int] = set()
    for branch in branches:
        high = branch.getwidth()[1]
        if high >= sre.MAXREPEAT or not _context_free(list(branch)):
            return None
        classes = [chars for chars in (_chars(op, arg) for op, arg in branch) if chars]
        if not classes:
            return None
        width = max(width, high)
        needed |= min(classes, key=_weight)
    finder = re.compile(char_class(needed))
    search = pattern.search
    reach = width - 1

    def is_bad(text: str) -> bool:
        low = high = -1  # the window being extended, [low, high); none yet
        for found in finder.finditer(text):
            at = found.start()
            if high >= 0:
                if at - reach < high:  # overlaps that window: one window
                    high = at + width
                    continue
                if search(text, low, high):
                    return True
            low, high = max(0, at - reach), at + width
        return high >= 0 and search(text, low, high) is not None

    return is_bad


def _context_free(items: list[Any]) -> bool:
    """Whether a match of `items` depends on nothing outside it: no lookaround, no anchor but the start of
    the text (which `search(text, pos)` keeps at the real start), no back-reference, nothing unknown."""
    for op, arg in items:
        if op is sre.AT:
            if arg is not sre.AT_BEGINNING_STRING and arg is not sre.AT_BEGINNING:
                return False
        elif op in _CONSUMING:
            continue
        elif op is sre.SUBPATTERN:
            if not _context_free(list(arg[3])):
                return False
        elif op is sre.BRANCH:
            if not all(_context_free(list(b)) for b in arg[1]):
                return False
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            if not _context_free(list(arg[2])):
                return False
        else:  # a lookaround, a back-reference, an atomic group, ...: not vouched for
            return False
    return True


def _chars(op: Any, arg: Any) -> set[int] | None:
    """The characters a literal or a class of literals and ranges matches; None for anything else."""
    if op is sre.LITERAL:
        return {arg}
    if op is not sre.IN:
        return None
    chars: set[int] = set()
    for inner, value in arg:
        if inner is sre.LITERAL:
            chars.add(value)
        elif inner is sre.RANGE:
            chars.update(range(value[0], value[1] + 1))
        else:  # a negation or a category (\s, \w): too many characters
            return None
    return chars


def _weight(chars: AbstractSet[int]) -> int:
    return sum(_ASCII_WEIGHT if c < 0x80 else _LETTER_WEIGHT if 0xC0 <= c <= 0x17F and chr(c).isalpha() else 1
               for c in chars)


def char_class(codepoints: AbstractSet[int]) -> str:
    """A regex class of `codepoints`, consecutive ones as ranges."""
    return "[" + "".join(_ranges(sorted(codepoints))) + "]"


def _ranges(codepoints: list[int]) -> Iterable[str]:
    start = prev = codepoints[0]
    for cp in [*codepoints[1:], -1]:
        if cp != prev + 1:
            yield re.escape(chr(start)) if start == prev else f"{re.escape(chr(start))}-{re.escape(chr(prev))}"
            start = cp
        prev = cp
