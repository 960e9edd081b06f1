"""Boilerplate rules as data: the rule schema, the built-in rule files, and fast matching.

A rule is a `regex` pattern searched case-insensitively (unless `case_sensitive`) in one stripped line (scope
`line`, or `head` / `tail`: only before the first or after the last content line of the document), or in a
whole block (scope `block`). `max_words` keeps a rule off longer text: content must survive, so a rule that
may remove a long line has to say so. Built-in rules live in `stages/rules/<name>.yaml`; users add rules and
disable built-ins by id from their config.

Matching a line costs one scan for literal strings and, for most lines, no regex at all (see `Matcher`). The
literals are read from the patterns with the stdlib parser, so a built-in pattern should stay within the
syntax `re` shares with `regex` (plus `\\p{..}`): one that the stdlib cannot read still works, but is tried
on every line within its `max_words`.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import ahocorasick_rs
import regex
import yaml

from pipeline.types import PositiveInt

# The stdlib parser reads a pattern's structure (anchors, literals); `regex` exposes none. It moved into `re`
# in 3.11; the 3.10 modules lack atomic groups and possessive repeats, which 3.10 patterns cannot hold.
if sys.version_info >= (3, 11):
    from re import _constants as sre  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
else:
    import sre_constants as sre
    import sre_parse
_ATOMIC_GROUP = getattr(sre, "ATOMIC_GROUP", None)
_REPEATS = tuple(op for op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None))
                 if op is not None)

Scope = Literal["line", "block", "head", "tail"]
Action = Literal["drop_line", "drop_block", "drop_rest", "drop_run", "caption", "byline"]
SCOPES: tuple[Scope, ...] = ("line", "block", "head", "tail")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One rule. `action`: `drop_line`, `drop_block`, `drop_rest` (this line to the end of the document: a
    comment section), `drop_run` (this line and the lines after it up to the next content line: a list of
    related links), `caption` (kept as a caption block or dropped, by the stage option) or `byline` (the
    name goes to `metadata.author`)."""

    id: str
    pattern: str
    reason: str
    scope: Scope = "line"
    action: Action = "drop_line"
    max_words: PositiveInt = 12
    case_sensitive: bool = False

    def __post_init__(self) -> None:
        try:
            self.compile()
        except regex.error as exc:
            raise ValueError(f"rule {self.id!r}: invalid pattern {self.pattern!r}: {exc}") from None

    def compile(self) -> Any:
        return regex.compile(self.pattern, _flags(self.case_sensitive))


def _flags(case_sensitive: bool) -> int:
    return int(regex.V0 | (0 if case_sensitive else regex.IGNORECASE))


@cache
def builtin(name: str) -> tuple[Rule, ...]:
    """The rules of `stages/rules/<name>.yaml` (`common` or a language code); none for an unknown name."""
    path = resources.files("stages.rules").joinpath(f"{name}.yaml")
    if not path.is_file():
        return ()
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return tuple(Rule(**entry) for entry in data["rules"])


class Matcher:
    """The rules of one scope, arranged so that a line costs one scan and rarely more than one regex.

    Built-in rules are tried in priority order, a smaller `max_words` (the narrower rule) first, then file
    order; the first that matches wins. In that order the rules allowed on a text of `words` words are a
    suffix of the list. Each rule has a set of literal strings of which the scanned form (`scanned`) of
    every text it matches contains one (see `necessary_literals`); a rule anchored by `^` or `$` has its
    literals at the start or end mark, so that "x" (the X button) is looked for as a whole line, not in
    every "deux". One pass of an Aho-Corasick automaton (of the literals of that suffix) over the scanned
    text finds which of them occur, and only the rules with one present get their regex run.
    User rules come after the built-ins, searched one by one under `timeout`; a rule that runs out is skipped
    for the rest of the document (until `new_document()`), so a pathological pattern costs at most `timeout`
    per document, not per line. `timeouts` lists the rules that ran out since `new_document()`.
    """

    def __init__(self, builtins: list[Rule], user: list[Rule], timeout: float) -> None:
        self._rules = sorted(builtins, key=lambda rule: rule.max_words)
        self._limits = [rule.max_words for rule in self._rules]
        # Anchored rules are only tried at the start: `match` spares the regex a try at every position.
        self._tries = [(rule.compile().match if _is_anchored(rule.pattern) else rule.compile().search)
                       for rule in self._rules]
        literals = [necessary_literals(rule.pattern) for rule in self._rules]
        # Per suffix: an automaton of its literals, the rules (indices) each literal belongs to, and the rules
        # without literals.
        self._scans: dict[int, tuple[Any, list[frozenset[int]], list[int]]] = {}
        for start in sorted({bisect.bisect_left(self._limits, limit) for limit in self._limits}):
            owners: dict[str, set[int]] = {}
            for i in range(start, len(self._rules)):
                for string in literals[i] or ():
                    owners.setdefault(string, set()).add(i)
            always = [i for i in range(start, len(self._rules)) if literals[i] is None]
            self._scans[start] = (_automaton(tuple(owners), dfa=start == 0) if owners else None,
                                  [frozenset(rules) for rules in owners.values()], always)
        self._user = [(rule, rule.compile()) for rule in user]
        self._timeout = timeout
        self.timeouts: list[str] = []

    def new_document(self) -> None:
        """Forget the rules that timed out: each document gives every rule a fresh try."""
        self.timeouts.clear()

    def __bool__(self) -> bool:
        return bool(self._rules or self._user)

    def scan(self, texts: list[str], words: list[int]) -> Scan:
        """`texts` (the lines of a document, of `words` words) searched all at once: their first built-in
        rules are found by one fold and one automaton pass over the whole text (`Scan`)."""
        return Scan(self, texts, words)

    def search(self, text: str, words: int) -> Rule | None:
        """The first rule that matches `text` (of `words` words)."""
        return self._first_builtin(text, words, None) or self._search_user(text, words)

    def _first_builtin(self, text: str, words: int, form: bytes | None) -> Rule | None:
        start = bisect.bisect_left(self._limits, words)
        if start < len(self._rules):
            automaton, owners, always = self._scans[start]
            candidates = set(always)
            if automaton is not None:
                # map with C callables: no Python frame per literal found.
                found = automaton.find_matches_as_indexes(scanned(text) if form is None else form, overlapping=True)
                if found:  # none in a sixth of the lines of an article
                    candidates.update(*map(owners.__getitem__, map(_LITERAL, found)))
            if candidates:
                for i in sorted(candidates):
                    if self._tries[i](text) is not None:
                        return self._rules[i]
        return None

    def _search_user(self, text: str, words: int) -> Rule | None:
        """The first user rule that matches `text`, each searched under the timeout."""
        for rule, pattern in self._user:
            if words > rule.max_words or rule.id in self.timeouts:
                continue
            try:
                match = pattern.search(text, timeout=self._timeout)
            except TimeoutError:
                self.timeouts.append(rule.id)
                continue
            if match is not None:
                return rule
        return None


_LITERAL = operator.itemgetter(0)  # of a match's (literal, start, end)


class Scan:
    """The lines of a document with the first built-in rule that matches each, found for all of them at
    once: the lines allowed any rule are folded and scanned as one text (`scanned`: the folds of a joined
    text are the joined folds), by the automaton of every rule's literals, and each occurrence of a literal
    that lies inside a line's scanned form counts for that line (the automaton reports every occurrence,
    overlapping ones too, so a line gets exactly the literals a scan of its own form finds); of the rules
    owning them, those allowed on a line of its length (`max_words`) are the candidates tried in priority
    order, as in `Matcher.search`. User rules are searched line by line when asked (`search`), so that one
    that times out does so only on the lines the stage asks about."""

    def __init__(self, matcher: Matcher, texts: list[str], words: list[int]) -> None:
        self._matcher = matcher
        self._texts = texts
        self._words = words
        self._first: list[Rule | None] = [None] * len(texts)
        rules = matcher._rules
        if not rules:
            return
        limits = matcher._limits
        # The lines that some rule allows (of at most the largest `max_words`): nearly always all of them.
        allowed: Sequence[int] = range(len(texts)) if words and max(words) <= limits[-1] else \
            [i for i, n in enumerate(words) if n <= limits[-1]]
        # Each line's scanned form ends with an end mark, the next starts with a start mark (`scanned` marks the
        # first start and the last end).
        joined = (_END + "\n" + _START).join(texts if len(allowed) == len(texts) else [texts[i] for i in allowed])
        if joined.count("\n") != len(allowed) - 1:
            # A text with a line break of its own would split wrong: each is scanned alone.
            for i in allowed:
                self._first[i] = matcher._first_builtin(texts[i], words[i], None)
            return
        automaton, owners, always = matcher._scans[0]
        data = scanned(joined)
        # Where each allowed line's scanned form starts in `data` (the lengths of the forms before it, and a line
        # break after each), and one past the end of the last.
        bounds = list(map(operator.add, itertools.accumulate(map(len, data.split(b"\n")), initial=0),
                          itertools.count()))
        # The rules owning a literal found in each line (by its place among the allowed lines).
        hits: dict[int, set[int]] = {k: set(always) for k in range(len(allowed))} if always else {}
        if automaton is not None:
            right = bisect.bisect_right
            for literal, begin, stop in automaton.find_matches_as_indexes(data, overlapping=True):
                after = right(bounds, begin)  # the place of the line after the one the literal starts in
                if stop < bounds[after]:  # inside the line's form, not across the break after it
                    if after - 1 in hits:
                        hits[after - 1] |= owners[literal]
                    else:
                        hits[after - 1] = set(owners[literal])
        tries = matcher._tries
        for k, candidates in hits.items():
            i = allowed[k]
            start, text = bisect.bisect_left(limits, words[i]), texts[i]
            for rule in sorted(candidates):
                if rule >= start and tries[rule](text) is not None:
                    self._first[i] = rules[rule]
                    break

    def search(self, i: int) -> Rule | None:
        """The first rule that matches text `i`."""
        return self._first[i] or self._matcher._search_user(self._texts[i], self._words[i])


def fold(text: str) -> str:
    """`text` case-folded as the literal checks need it: a character that a case-insensitive `regex` match
    takes for another folds to the same string. `str.casefold` alone breaks that for one letter: Turkish `İ`
    matches `i` but folds to `i` and a combining dot. Digits other than 0-9 (which `\\d` matches too) become
    "0", so that `\\d` has ten literals."""
    return _digits_folded(_casefold(text))


def _casefold(text: str) -> str:
    return text.casefold().replace("i\u0307", "i")


def _digits_folded(text: str) -> str:
    """`text` with its digits other than 0-9 as "0"."""
    if text.isascii() or _MAYBE_OTHER_DIGIT.search(text) is None:
        return text
    folded: str = _OTHER_DIGIT.sub("0", text)
    return folded


def scanned(text: str) -> bytes:
    """What the automaton reads of `text`: folded (`fold`), between `_START` and `_END` (so that a literal
    can hold a pattern's `^` and `$`; a final line break, before which `$` also stands, gets an `_END`
    before it too), in UTF-8.
    `str.casefold` takes about 12 ns a character once a text holds one character outside ASCII (French
    does), and maps each character on its own: so the characters outside ASCII are read from the UTF-8
    (the bytes left when ASCII's are deleted) and only those that casefold changes (capitals such as "É",
    "ß"; a French article has a few kinds) are replaced by their folds in the UTF-8 (which finds a
    character's bytes only where that character stands), folds that casefold leaves as they are;
    ASCII capitals are lowered in the UTF-8 by `bytes.lower` (A-Z alone, as casefold maps them). "i" and a
    combining dot (from "İ", or in the text) become "i" in the bytes, whose UTF-8 holds no other
    character's bytes. The UTF-8 also tells whether any digit can need folding: every character
    `_MAYBE_OTHER_DIGIT` finds (U+0660-U+1FFF, U+3000 and above) starts with a byte of `_OTHER_DIGIT_LEADS`,
    which no other character's UTF-8 holds (those of U+2000-U+2FFF start with 0xE2, continuation bytes are
    below 0xC0); a text without one needs no class scan."""
    if text.endswith("\n"):
        text = text[:-1] + _END + "\n"
    marked = _START + text + _END
    data = marked.encode("utf-8", "surrogatepass")
    if data.isascii():
        return data.lower()
    others = data.translate(None, _ASCII).decode("utf-8", "surrogatepass")
    if others.casefold() != others:
        for char in set(others):
            folded = char.casefold()
            if folded != char:
                data = data.replace(char.encode("utf-8", "surrogatepass"), folded.encode("utf-8", "surrogatepass"))
    data = data.lower()
    if _COMBINING_DOT in data:
        data = data.replace(b"i" + _COMBINING_DOT, b"i")
    if len(data.translate(None, _NOT_OTHER_DIGIT_LEADS)) != 0:
        data = _digits_folded(data.decode("utf-8", "surrogatepass")).encode("utf-8", "surrogatepass")
    return data


# The ends of a text in its scanned form: control characters that no fold produces and text rarely holds
# (when it does, a literal with them is found where no rule's anchor is: one more candidate, never one less).
_START = "\x02"
_END = "\x03"
_DIGITS = "0123456789"
# What a rule's `\d` matches besides 0-9, by the rules' own engine and flags; and a superset of those
# characters that a stdlib class scan rules out faster: none is below U+0660 or among punctuation and symbols.
_OTHER_DIGIT = regex.compile(r"[^\D0-9]", regex.V0 | regex.IGNORECASE)
_MAYBE_OTHER_DIGIT = re.compile(r"[^\x00-\u065f\u2000-\u2fff]")
# The first bytes of the UTF-8 of those characters (U+0640-U+07FF: 0xD9-0xDF, then 0xE0, 0xE1, 0xE3-0xF4), and
# every byte else, which `bytes.translate` deletes.
_OTHER_DIGIT_LEADS = bytes([*range(0xD9, 0xE2), *range(0xE3, 0x100)])
_NOT_OTHER_DIGIT_LEADS = bytes(b for b in range(256) if b not in _OTHER_DIGIT_LEADS)
_ASCII = bytes(range(128))
_COMBINING_DOT = "\u0307".encode()


@cache
def _automaton(strings: tuple[str, ...], dfa: bool) -> Any:
    """An Aho-Corasick automaton over `strings` (in UTF-8): one pass over a scanned text reports every
    occurrence of every string (overlapping ones too) by its index in `strings` and its byte offsets, which
    cost nothing to convert, where a `str` automaton counts characters for each. A DFA for the automaton of
    all the rules (`dfa`), which scans every document (`Scan`): over the corpus's articles it scans in half
    the time of the contiguous NFA (24 vs 48 us a document, the same matches in the same order), for 15 ms
    more to build it (about 1,000 literals); the contiguous NFA for the automata of the suffixes, which only
    single texts outside a document's scan use. Cached, as the literals of a rule set do not change and an
    automaton is never written to: a worker forked from the warm forkserver (`pipeline.warm`) shares its
    automata instead of building its own."""
    implementation = ahocorasick_rs.Implementation.DFA if dfa else ahocorasick_rs.Implementation.ContiguousNFA
    return ahocorasick_rs.BytesAhoCorasick([string.encode("utf-8", "surrogatepass") for string in strings],
                                           implementation=implementation)


def _parse(pattern: str) -> Any:
    """The stdlib parser's tree of `pattern`, for analysis only: `\\p{..}` classes become `\\w`, which
    changes no literal. None when the stdlib would read the pattern otherwise than `regex` does, or not at
    all: a brace that is no repeat count (`regex`'s fuzzy matching, `{e<=1}`), a warning (nested sets such as
    `[[:alpha:]]`), an error (other `regex`-only syntax)."""
    text = _PROPERTY.sub(r"\\w", pattern)
    if "{" in _REPEAT.sub("", text):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return sre_parse.parse(text, 0)
        except (re.error, FutureWarning):
            return None


_PROPERTY = re.compile(r"\\[pP]\{[^}]*\}")
_REPEAT = re.compile(r"\{\d*(,\d*)?\}")
# Cross products of literal sets larger than this are not built: the check would cost more than it saves.
_MAX_STRINGS = 32


@cache
def _is_anchored(pattern: str) -> bool:
    """Whether every alternative of `pattern` starts with `^`."""
    tree = _parse(pattern)
    return tree is not None and _starts_anchored(list(tree))


def _starts_anchored(items: list[Any]) -> bool:
    if not items:
        return False
    op, arg = items[0]
    if op is sre.AT:
        return arg is sre.AT_BEGINNING
    if op is sre.SUBPATTERN:
        return _starts_anchored(list(arg[3]))
    if op is sre.BRANCH:
        return all(_starts_anchored(list(branch)) for branch in arg[1])
    return False


@cache
def necessary_literals(pattern: str) -> frozenset[str] | None:
    """Strings such that the scanned form (`scanned`) of any text that `pattern` matches contains one of them
    (folding keeps substrings, and a case-insensitive match folds to its literals); a `^` is the scanned
    form's start mark, a `$` an end mark. None when the
    analysis finds no such set, e.g. for `^\\d+$`, or for a pattern whose anchors are a line's (`(?m)`)."""
    tree = _parse(pattern)
    if tree is None or tree.state.flags & sre.SRE_FLAG_MULTILINE:
        return None
    exact, required, _ = _literals(list(tree))
    found = _better(exact, required)
    if found is None or min(map(_weight, found)) == 0:
        return None
    folded = {fold(s) for s in found}
    # A string that contains another of the set adds nothing to the check.
    return frozenset(s for s in folded if not any(t != s and t in s for t in folded))


def _literals(items: list[Any]) -> tuple[set[str] | None, set[str] | None, set[str] | None]:
    """For a sequence of parsed items: the exact set of strings it matches when small, else None; the most
    selective set of which every match contains a member (None if none is known); and a set of strings
    that every match ends with (None if none is known)."""
    exact: set[str] | None = {""}
    run: set[str] | None = {""}
    best: set[str] | None = None
    for op, arg in items:
        item_exact, item_required, item_starts, item_ends = _item_literals(op, arg)
        if item_exact is not None and run is not None and len(run) * len(item_exact) <= _MAX_STRINGS:
            run = {a + b for a in run for b in item_exact}
        else:
            best = _better(best, run)
            if item_exact is None and item_starts is not None and run is not None \
                    and len(run) * len(item_starts) <= _MAX_STRINGS:
                best = _better(best, {a + b for a in run for b in item_starts})  # the run, then the item's start
            # The next run starts after the item: after all of it, or after what it ends with.
            run = item_exact if item_exact is not None else item_ends
            best = _better(best, item_required)
        if exact is not None:
            exact = {a + b for a in exact for b in item_exact} \
                if item_exact is not None and len(exact) * len(item_exact) <= _MAX_STRINGS else None
        if op is sre.AT and arg is sre.AT_END:
            # What a match holds after `$` is at most the final line break, already before the end mark: the
            # strings after it start a run of their own.
            best = _better(best, run)
            run, exact = {""}, None
    return exact, _better(best, run), run


_Literals = tuple[set[str] | None, set[str] | None, set[str] | None, set[str] | None]


def _item_literals(op: Any, arg: Any) -> _Literals:
    """The exact and the required strings of one item (as `_literals`), and sets of strings that each of its
    matches starts and ends with, when known."""
    if op is sre.LITERAL:
        return {chr(arg)}, None, None, None
    if op is sre.AT:
        if arg is sre.AT_BEGINNING:
            return {_START}, None, None, None
        if arg is sre.AT_END:
            return {_END}, None, None, None
        return {""}, None, None, None  # zero-width: the literals on either side stay adjacent
    if op is sre.IN and len(arg) <= _MAX_STRINGS and all(o is sre.LITERAL for o, _ in arg):
        return {chr(a) for _, a in arg}, None, None, None
    if op is sre.IN and arg == [(sre.CATEGORY, sre.CATEGORY_DIGIT)]:
        return set(_DIGITS), None, None, None  # `\d`: any other digit is a "0" in the folded text (`fold`)
    if op is sre.SUBPATTERN:
        if arg[1] & sre.SRE_FLAG_MULTILINE:
            return None, None, None, None
        exact, required, ends = _literals(list(arg[3]))
        return exact, required, None, ends
    if _ATOMIC_GROUP is not None and op is _ATOMIC_GROUP:
        exact, required, ends = _literals(list(arg))
        return exact, required, None, ends
    if op is sre.BRANCH:
        alternatives = [_literals(list(branch)) for branch in arg[1]]
        if all(exact is not None for exact, _, _ in alternatives):
            union = set().union(*(exact for exact, _, _ in alternatives if exact is not None))
            if len(union) <= _MAX_STRINGS:
                return union, None, None, None
        tails = [ends for _, _, ends in alternatives]
        ends = set().union(*(t for t in tails if t is not None)) if all(t is not None for t in tails) else None
        if ends is not None and len(ends) > _MAX_STRINGS:
            ends = None
        bests = [_better(exact, required) for exact, required, _ in alternatives]
        if any(b is None or min(map(_weight, b)) == 0 for b in bests):
            return None, None, None, ends
        return None, set().union(*(b for b in bests if b is not None)), None, ends
    if op in _REPEATS:
        low, high, body = arg
        exact, required, ends = _literals(list(body))
        if exact is not None and high == 1:
            return (exact if low == 1 else exact | {""}), None, None, None
        if low >= 1:  # the first copy starts it, the last ends it
            return None, _better(exact, required), exact, exact if exact is not None else ends
        return None, None, None, None
    return None, None, None, None


def _better(a: set[str] | None, b: set[str] | None) -> set[str] | None:
    """The more selective of two literal sets: longer shortest string (`_weight`), then fewer strings."""
    if a is None or b is None:
        return a if b is None else b
    return max(a, b, key=lambda s: (min(map(_weight, s)), -len(s)))


def _weight(string: str) -> int:
    """How selective a literal is: its length, a start or end mark counting twice (a literal held to the
    start or end of a line is rarer than one anywhere), nothing for marks alone (every text has them)."""
    marks = string.count(_START) + string.count(_END)
    return len(string) + marks if len(string) > marks else 0


def matchers(rules: list[Rule], user_ids: set[str], timeout: float) -> dict[Scope, Matcher]:
    """One `Matcher` per scope."""
    return {
        scope: Matcher([r for r in rules if r.scope == scope and r.id not in user_ids],
                       [r for r in rules if r.scope == scope and r.id in user_ids], timeout)
        for scope in SCOPES
    }
