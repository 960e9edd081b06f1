"""Boilerplate rules as data: the rule schema, the built-in rule files, and fast matching.

A rule is a `regex` pattern searched case-insensitively (unless `case_sensitive`) in one stripped line (scope
`line`, or `head` / `tail`: only before the first or after the last content line of the document), or in a
whole block (scope `block`). `max_words` keeps a rule off longer text: content must survive, so a rule that
may remove a long line has to say so. Built-in rules live in `stages/rules/<name>.yaml`; users add rules and
disable built-ins by id from their config.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import regex
import yaml

from pipeline.config import PositiveInt

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
    return regex.V0 | (0 if case_sensitive else regex.IGNORECASE)


@cache
def builtin(name: str) -> tuple[Rule, ...]:
    """The rules of `stages/rules/<name>.yaml` (`common` or a language code); none for an unknown name."""
    path = resources.files("stages.rules").joinpath(f"{name}.yaml")
    if not path.is_file():
        return ()
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return tuple(Rule(**entry) for entry in data["rules"])


class Matcher:
    """The rules of one scope, combined so that one search per text tries them all.

    Built-in rules are joined into one alternation per (`max_words`, case) group and tried only on texts
    short enough for them. User rules are searched one by one under `timeout`, so a pathological pattern
    costs at most that long per text; `timeouts` lists the rules that ran out.
    """

    def __init__(self, builtins: list[Rule], user: list[Rule], timeout: float) -> None:
        groups: dict[tuple[int, bool], list[Rule]] = {}
        for rule in builtins:
            groups.setdefault((rule.max_words, rule.case_sensitive), []).append(rule)
        self._groups: list[tuple[int, Any, list[Rule]]] = []
        for (max_words, case_sensitive), rules in sorted(groups.items(), key=lambda kv: kv[0][0]):
            joined = "|".join(f"(?P<r{i}>{rule.pattern})" for i, rule in enumerate(rules))
            self._groups.append((max_words, regex.compile(joined, _flags(case_sensitive)), rules))
        self._user = [(rule, rule.compile()) for rule in user]
        self._timeout = timeout
        self.timeouts: list[str] = []

    def __bool__(self) -> bool:
        return bool(self._groups or self._user)

    def search(self, text: str, words: int) -> Rule | None:
        """The first rule that matches `text` (of `words` words): built-ins by file order, then user rules."""
        for max_words, pattern, rules in self._groups:
            if words > max_words:
                continue
            match = pattern.search(text)
            if match is not None:
                return rules[int(match.lastgroup[1:])]
        for rule, pattern in self._user:
            if words > rule.max_words:
                continue
            try:
                match = pattern.search(text, timeout=self._timeout)
            except TimeoutError:
                self.timeouts.append(rule.id)
                continue
            if match is not None:
                return rule
        return None


def matchers(rules: list[Rule], user_ids: set[str], timeout: float) -> dict[Scope, Matcher]:
    """One `Matcher` per scope."""
    return {
        scope: Matcher([r for r in rules if r.scope == scope and r.id not in user_ids],
                       [r for r in rules if r.scope == scope and r.id in user_ids], timeout)
        for scope in SCOPES
    }
