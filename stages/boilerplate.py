"""boilerplate: removes site furniture from the blocks, line by line, each removal recorded with its rule.

Two kinds of evidence, both with rule ids (`tamis explain` shows them):
- phrase rules, as data in `stages/rules/{common,fr,de,en}.yaml` (schema in `stages/rulebook.py`): ad labels,
  share and bookmark widgets, cookie, newsletter and legal text, comment forms (`drop_rest`: the line and
  everything after it), related-links headers (`drop_run`: the links after them too, up to the next content
  line), captcha arithmetic, read-also links, bylines, dates, photo credits, captions;
- structure (`struct.*`): short title-case lines before the article (site names, section tags), short
  non-sentence lines after it, runs of `menu_lines` or more short non-sentence lines (menus, widget labels,
  link lists), a name alone beside the headline (a byline), lines that repeat the title.

The article is found first: a content line has at least 20 words and ends like a sentence. Head and tail
rules only act before the first and after the last content line; `drop_rest` only acts in the last 60 % of
the text; phrase rules act only on lines of at most their `max_words` words. A byline's name goes to
`metadata.author` when that is empty. Captions become `caption` blocks (`captions: keep`) or are removed.
A document whose every line is removed is filtered with reason `only boilerplate` (its removals stay on the
record). A user rule that runs longer than `rule_timeout` on a text is skipped for the rest of the document,
with one warning on it; the other rules still apply. `setup()` must run before `process()` (a Pipeline sees to it).

YAML:
    boilerplate:
      languages: [fr, de, en]  # rule files used besides common.yaml (documents may mix them)
      captions: drop           # drop | keep (as caption blocks)
      structure: auto          # struct.* rules: auto = on for text input, only struct.byline after HTML extraction
      menu_lines: 4            # this many short non-sentence lines in a row are a menu
      disable: []              # rule ids to switch off, e.g. [en.navigation, struct.tail]
      rules: []                # your own rules: {id, pattern, reason, scope, action, max_words, case_sensitive}
      rule_timeout: 0.05       # seconds one of your rules may spend on one text
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Literal

import regex

from pipeline.config import LangCode, PositiveFloat, PositiveInt
from pipeline.document import Block, Document, Removal, StageWarning
from pipeline.stage import Stage
from stages.rulebook import Matcher, Rule, builtin, fold, matchers

# Structural rules: ids and reasons. They are code, not patterns, but are disabled by id like the others.
STRUCTURAL = {
    "struct.head": "non-sentence line before the article other than the headline (navigation, site name, tag)",
    "struct.tail": "short non-sentence line after the article",
    "struct.menu": "run of short non-sentence lines (menu, link list or widget labels)",
    "struct.byline": "author name beside the headline",
    "struct.title-repeat": "repeats the title",
    "struct.page-title": "page title with the site name (the headline repeats it)",
    "struct.outside": "text apart from the article, past a stretch of furniture",
}
CONTENT_WORDS = 20
# Removed lines between two content lines that split the text into separate clusters (a kept short line
# counts half); the cluster with the most content text is the article.
CLUSTER_GAP = 20
TAIL_GRACE = 3
_TITLE_SEPARATOR = regex.compile(r"\s(\||-|–|—|«|»|::|·)\s")
REST_AFTER = 0.4
_SENTENCE_END = regex.compile(r"[.!?…:;][\"'»”’)\]]*$")
_TITLE_CASE = regex.compile(r"^[\p{Lu}\d&@#][\p{L}\d&.'’-]*$")
_NAME = regex.compile(r"^\p{Lu}[\p{Ll}'’]+(-\p{Lu}?[\p{Ll}'’]+)?"
                      r"(\s+((de|du|von|van|der|le|la|da|di|al|bin)\s+)?\p{Lu}[\p{Ll}'’]+(-\p{Lu}?[\p{Ll}'’]+)?){1,2}$")
_BYLINE_PREFIX = regex.compile(
    r"^(propos recueillis par|written by|words by|reporting by|autor(in)?:?|text:?|par|von|by)\s+", regex.IGNORECASE)
_BYLINE_END = regex.compile(r"\s*(\||,|–|-|\bund\b|\band\b|\bet\b|&|\d).*$")


@dataclass(frozen=True, kw_only=True)
class BoilerplateConfig:
    languages: tuple[LangCode, ...] = ("fr", "de", "en")
    captions: Literal["drop", "keep"] = "drop"
    structure: Literal["auto", "on", "off"] = "auto"
    menu_lines: PositiveInt = 4
    disable: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    rule_timeout: PositiveFloat = 0.05

    def __post_init__(self) -> None:
        known = {r.id for r in builtin_rules(self.languages)} | set(STRUCTURAL)
        unknown = sorted(set(self.disable) - known)
        if unknown:
            raise ValueError(f"disable: unknown rule id(s) {', '.join(unknown)}; ids are listed in stages/rules/*.yaml "
                             f"and as struct.* in the stage reference")
        clashes = sorted({r.id for r in self.rules} & known)
        if clashes:
            raise ValueError(f"rules: id(s) {', '.join(clashes)} already used by built-in rules; choose new ids")


def builtin_rules(languages: tuple[str, ...]) -> list[Rule]:
    return [rule for name in ("common", *languages) for rule in builtin(name)]


@dataclass(slots=True)
class _Line:
    text: str
    block: int  # position in doc.blocks
    number: int  # line number within the block
    words: int
    sentence: bool
    folded: str  # fold(text), for the rules' literal checks
    verdict: tuple[str, str, str] | None = None  # (rule id, reason, action)


@dataclass
class _Outcome:
    removed: list[Removal] = field(default_factory=list)
    author: str | None = None


class Boilerplate(Stage[BoilerplateConfig]):
    name = "boilerplate"
    Config = BoilerplateConfig
    requires = ("blocks",)

    def __init__(self, config: BoilerplateConfig) -> None:
        super().__init__(config)
        self._matchers: dict[str, Matcher] | None = None

    def setup(self) -> None:
        rules = [r for r in builtin_rules(self.config.languages) + list(self.config.rules)
                 if r.id not in self.config.disable]
        self._matchers = matchers(rules, {r.id for r in self.config.rules}, self.config.rule_timeout)  # type: ignore[assignment]
        on = self.config.structure != "off"
        self._struct = {rule_id for rule_id in STRUCTURAL if on and rule_id not in self.config.disable}

    def process(self, doc: Document) -> Document:
        if self._matchers is None:
            raise RuntimeError("boilerplate: call setup() before process() (a Pipeline does it for you)")
        for matcher in self._matchers.values():
            matcher.new_document()
        lines = [_line(text, pos, n) for pos, block in enumerate(doc.blocks)
                 for n, text in enumerate(block.text.split("\n"))]
        if not lines:
            return doc
        self._phrase_rules(doc, lines)
        first, last = _main_span(lines)
        if first is not None and last is not None:
            self._edge_rules(lines[:first], "head")
            self._edge_rules(lines[last + 1 :], "tail")
        # After HTML extraction the page layout is already accounted for: short lines there are list items,
        # table rows and headings that trafilatura chose, so only the byline rule stays on by default.
        struct = self._struct
        if self.config.structure == "auto" and doc.content_type == "text/html":
            struct = struct & {"struct.byline"}
        if struct:
            self._structure(doc, lines, first, last, struct)
        self._apply(doc, lines)
        self._report_timeouts(doc)
        if not doc.blocks:
            return doc.filtered(self.name, "only boilerplate")
        return doc

    def _phrase_rules(self, doc: Document, lines: list[_Line]) -> None:
        assert self._matchers is not None
        block_matcher, line_matcher = self._matchers["block"], self._matchers["line"]
        if block_matcher:
            for pos, block in enumerate(doc.blocks):
                rule = block_matcher.search(block.text, len(block.text.split()))
                if rule is not None:
                    for line in lines:
                        if line.block == pos:
                            line.verdict = (rule.id, rule.reason, "drop_line")
        total = sum(len(line.text) + 1 for line in lines)
        offset = 0
        for i, line in enumerate(lines):
            offset += len(line.text) + 1
            if line.verdict is not None:
                continue
            rule = line_matcher.search(line.text, line.words, line.folded)
            if rule is None:
                continue
            if rule.action == "drop_rest" and offset >= REST_AFTER * total:
                for rest in lines[i:]:
                    rest.verdict = rest.verdict or (rule.id, rule.reason, "drop_line")
                return
            verdict = (rule.id, rule.reason, "drop_line" if rule.action.startswith("drop_") else rule.action)
            if rule.action == "drop_block":
                for other in lines:
                    if other.block == line.block:
                        other.verdict = other.verdict or verdict
            elif rule.action == "drop_run":
                for other in itertools.takewhile(lambda x: not _is_content(x), lines[i + 1 :]):
                    other.verdict = other.verdict or verdict
            line.verdict = verdict

    def _edge_rules(self, lines: list[_Line], scope: Literal["head", "tail"]) -> None:
        assert self._matchers is not None
        matcher = self._matchers[scope]
        if not matcher:
            return
        for line in lines:
            if line.verdict is None:
                rule = matcher.search(line.text, line.words, line.folded)
                if rule is not None:
                    line.verdict = (rule.id, rule.reason, rule.action)

    def _structure(self, doc: Document, lines: list[_Line], first: int | None, last: int | None,
                   struct: set[str]) -> None:
        if "struct.page-title" in struct and doc.content_type != "text/html" and lines[0].verdict is None \
                and _TITLE_SEPARATOR.search(lines[0].text) and not lines[0].text.endswith("."):
            lines[0].verdict = ("struct.page-title", STRUCTURAL["struct.page-title"], "drop_line")
        if "struct.outside" in struct and first is not None and last is not None:
            for i, line in enumerate(lines):
                if line.verdict is None and ((i < first and _is_content(line)) or i > last + TAIL_GRACE):
                    line.verdict = ("struct.outside", STRUCTURAL["struct.outside"], "drop_line")
        live = [line for line in lines if line.verdict is None]
        headline = _headline(doc, live)
        if first is not None and last is not None:
            head = [line for line in live if _before(line, lines[first])]
            # The headline is the last title-like line before the article; other non-sentence lines there are
            # navigation, site names and labels.
            title = next((line for line in reversed(head) if not line.sentence and line.words >= 3
                          and not _NAME.match(line.text)), None)
            for i, line in enumerate(head):
                if "struct.byline" in struct and _NAME.match(line.text) and _beside(head, i, headline):
                    line.verdict = ("struct.byline", STRUCTURAL["struct.byline"], "byline")
                elif "struct.head" in struct and (_is_tag(line) or (line is not title and not line.sentence
                                                                    and line.words <= 15 and i < len(head) - 1)):
                    line.verdict = ("struct.head", STRUCTURAL["struct.head"], "drop_line")
            if "struct.tail" in struct:
                for line in live:
                    if _before(lines[last], line) and not line.sentence and line.words <= 12:
                        line.verdict = ("struct.tail", STRUCTURAL["struct.tail"], "drop_line")
        if "struct.menu" in struct:
            self._menus([line for line in live if line.verdict is None])
        if "struct.title-repeat" in struct and headline is not None:
            seen = False
            key = _key(headline)
            words = len(key.split())
            for line in live:
                # Same word count first: it is known, and it spares building the key of every paragraph.
                if line.verdict is None and line.words == words and _key(line.text) == key:
                    if seen or doc.metadata.title is not None:
                        line.verdict = ("struct.title-repeat", STRUCTURAL["struct.title-repeat"], "drop_line")
                    seen = True

    def _menus(self, live: list[_Line]) -> None:
        run: list[_Line] = []
        for line in [*live, None]:
            if line is not None and line.words <= 5 and not line.sentence:
                run.append(line)
                continue
            if len(run) >= self.config.menu_lines:
                for item in run:
                    item.verdict = ("struct.menu", STRUCTURAL["struct.menu"], "drop_line")
            run = []

    def _apply(self, doc: Document, lines: list[_Line]) -> None:
        """Rebuild the blocks from the surviving lines and record every removal, a run of lines of one rule
        in one block as one record."""
        outcome = _Outcome()
        runs = _Runs()
        blocks: list[Block] = []
        for pos, mine in itertools.groupby(lines, key=lambda line: line.block):
            block = doc.blocks[pos]
            kept: list[str] = []
            changed = False
            for line in mine:
                if line.verdict is None:
                    kept.append(line.text)
                    continue
                changed = True
                rule_id, reason, action = line.verdict
                if action == "caption" and self.config.captions == "keep":
                    _flush(blocks, block, kept)
                    blocks.append(dataclasses.replace(block, kind="caption", text=line.text))
                    continue
                if action == "byline":
                    name = _byline_name(line.text)
                    outcome.author = outcome.author or name
                    reason = f"{reason} (author: {name})"
                runs.add(Removal(stage=self.name, rule=rule_id, reason=reason, text=line.text, block=block.index,
                                 line=line.number))
            if changed:
                _flush(blocks, block, kept)
            else:
                blocks.append(block)
        doc.blocks = blocks
        outcome.removed = runs.removals()
        doc.removed.extend(outcome.removed)
        if outcome.author and doc.metadata.author is None:
            doc.metadata.author = outcome.author
        for removal in outcome.removed:
            self.counters[f"removed:{removal.rule}"] += 1

    def _report_timeouts(self, doc: Document) -> None:
        assert self._matchers is not None
        for matcher in self._matchers.values():
            for rule_id in matcher.timeouts:
                doc.warnings.append(self._warning(f"rule {rule_id} timed out (rule_timeout) and was skipped for "
                                                  "the rest of the document"))
            matcher.new_document()

    def _warning(self, message: str) -> StageWarning:
        return StageWarning(stage=self.name, message=message)


def _line(text: str, block: int, number: int) -> _Line:
    text = text.strip()
    return _Line(text, block, number, len(text.split()), bool(_SENTENCE_END.search(text)), fold(text))


def _main_span(lines: list[_Line]) -> tuple[int | None, int | None]:
    """Positions of the first and last content line (long and sentence-like, not removed) of the article:
    the cluster of content lines with the most text, clusters being split by `CLUSTER_GAP` of furniture."""
    content = [i for i, line in enumerate(lines) if line.verdict is None and _is_content(line)]
    if not content:
        return None, None
    clusters = [[content[0]]]
    for before, i in zip(content, content[1:], strict=False):
        gap = sum(1.0 if lines[j].verdict is not None else 0.5 for j in range(before + 1, i))
        if gap >= CLUSTER_GAP:
            clusters.append([i])
        else:
            clusters[-1].append(i)
    best = max(clusters, key=lambda cluster: sum(len(lines[i].text) for i in cluster))
    return best[0], best[-1]


def _is_content(line: _Line) -> bool:
    return line.words >= CONTENT_WORDS and line.sentence


def _before(a: _Line, b: _Line) -> bool:
    return (a.block, a.number) < (b.block, b.number)


def _is_tag(line: _Line) -> bool:
    words = line.text.split()
    return line.words <= 4 and not line.sentence and all(_TITLE_CASE.match(w) for w in words)


def _headline(doc: Document, live: list[_Line]) -> str | None:
    """The page title when extraction found one, else the first title-like line (3+ words, no full stop)."""
    if doc.metadata.title:
        return doc.metadata.title
    return next((line.text for line in live if line.words >= 3 and not line.text.endswith(".")), None)


def _beside(head: list[_Line], i: int, headline: str | None) -> bool:
    neighbours = head[max(i - 1, 0) : i] + head[i + 1 : i + 2]
    return headline is not None and any(line.text == headline for line in neighbours)


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _byline_name(text: str) -> str:
    return _BYLINE_END.sub("", _BYLINE_PREFIX.sub("", text)).strip() or text


def _flush(blocks: list[Block], block: Block, kept: list[str]) -> None:
    """The kept lines so far as a piece of `block` (same kind and index)."""
    if kept:
        blocks.append(dataclasses.replace(block, text="\n".join(kept), segments=[]))
        kept.clear()


class _Runs:
    """Removals in order, a run of consecutive lines of one rule and reason in one block as one record. The
    lines of a run are gathered and joined once: growing a record's text line by line, and counting its lines
    to place the next, cost time quadratic in the length of the run."""

    def __init__(self) -> None:
        self._runs: list[tuple[Removal, list[str]]] = []

    def add(self, removal: Removal) -> None:
        if self._runs:
            last, texts = self._runs[-1]
            if ((last.rule, last.reason, last.block) == (removal.rule, removal.reason, removal.block)
                    and last.line is not None and removal.line == last.line + len(texts)):
                texts.append(removal.text)
                return
        self._runs.append((removal, [removal.text]))

    def removals(self) -> list[Removal]:
        for removal, texts in self._runs:
            removal.text = "\n".join(texts)
        return [removal for removal, _ in self._runs]
