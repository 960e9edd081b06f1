"""boilerplate: removes site furniture from the blocks, line by line, each removal recorded with its rule;
in plain text it also marks the headline and the section headings.

Two kinds of evidence, both with rule ids (`tamis explain` shows them):
- phrase rules, as data in `stages/rules/{common,fr,de,en}.yaml` (schema in `stages/rulebook.py`): ad labels,
  share and bookmark widgets, cookie, newsletter and legal text, comment forms (`drop_rest`: the line and
  everything after it), related-links headers (`drop_run`: the links after them too, up to where the
  article resumes or the headline that repeats the page title), captcha arithmetic, read-also links,
  bylines, dates, photo credits, captions;
- structure (`struct.*`): short non-sentence lines before the article (site names, section tags, slogans,
  a menu copied as one line of capitalised labels), short non-sentence lines after it, runs of `menu_lines`
  or more short non-sentence lines (menus, widget labels, link lists), a name alone beside the headline (a
  byline), the page title when the headline repeats it.

The article is found first: a content line has at least 20 words and ends like a sentence (words of scripts
without spaces are counted by characters, see `stages.text`); the article is the cluster of content lines
with the most text, less a lone content line at its end cut off by `ISLAND_GAP` removed lines (an author box
past the share buttons). Text between the headline and the article is its lead, and a list the article
introduces ("The tour dates:") is its own, however far it runs past the last paragraph. Head and tail rules
only act before the first and after the last content line; phrase rules act only on lines of at most their
`max_words` words.
Content is kept on doubt: a line that reads as a sentence (`stages.text.reads_as_sentence`) is removed by a
structural rule only on a second piece of evidence; a comment header ("Comments", "Leave a reply") removes
the rest only in the last 60 % of the text and when comment structure (a comment count, names with "says:",
dates, reply links, form labels) follows it or no paragraphs of running text do (a teaser alone between links
is no paragraph), or anywhere when commenters' names and time stamps follow; a label followed by running text
is a section heading and stays. A caption rule leaves a sentence whose credit stands inside it ("… teilte
ein Sprecher mit (dpa).") alone. A date after a label ("Beginn:") is an event's date and stays, and so are
bare dates that head the article's own paragraphs (two or more: a programme, a chronology).

In plain text (not after HTML extraction) the headline becomes a `title` block and `metadata.title` (the line
that repeats the page title, else the page title, else the first or last title-like line before the article),
and a short title-like line followed by running text a `heading` block. Bylines fill `metadata.author` (every
name, `; `-separated) and date lines `metadata.date` (YYYY-MM-DD) when these are empty. Captions become
`caption` blocks (`captions: keep`) or are removed. Repeated titles are left to `dedupe`. A document whose
every line is removed is filtered with reason `only boilerplate` (its removals stay on the record). A user
rule that runs longer than `rule_timeout` on a text is skipped for the rest of the document, with one warning
on it; the other rules still apply. `setup()` must run before `process()` (a Pipeline sees to it).

"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import regex

from pipeline.document import Block, BlockKind, Document, Removal, StageWarning
from pipeline.stage import Stage
from pipeline.types import LangCode, PositiveFloat, PositiveInt
from stages import text as texts
from stages.rulebook import Action, Matcher, Rule, Scan, builtin, matchers

# Structural rules: ids and reasons. They are code, not patterns, but are disabled by id like the others.
STRUCTURAL = {
    "struct.head": "non-sentence line before the article other than the headline (navigation, site name, tag)",
    "struct.tail": "short non-sentence line after the article",
    "struct.menu": "run of short non-sentence lines (menu, link list or widget labels)",
    "struct.byline": "author name beside the headline",
    "struct.page-title": "page title with the site name (the headline repeats it)",
    "struct.outside": "text apart from the article, past a stretch of furniture",
}
CONTENT_WORDS = 20
# Removed lines between two content lines that split the text into separate clusters (a kept short line
# counts half); the cluster with the most content text is the article.
CLUSTER_GAP = 20
# Removed lines that cut a lone content line at the end of the article's cluster off from the article.
ISLAND_GAP = 8
TAIL_GRACE = 3
_TITLE_SEPARATOR = regex.compile(r"\s(\||-|–|—|«|»|::|·)\s")
REST_AFTER = 0.4
# A comment header removes the rest only when comment structure (or another comment-form line) follows within
# this many lines, or when no paragraphs of running text follow at all.
COMMENT_WINDOW = 8
# Comments with a commenter's name and a time stamp remove the rest after this many words of running text.
COMMENTS_AFTER_WORDS = 100
_COMMENTER = regex.compile(r"\S\s+(says|said|wrote|schreibt|sagt|schrieb|a écrit|écrit|dit)\s*:?$", regex.IGNORECASE)
_TIME_STAMP = regex.compile(r"\b\d{1,2}[:.h]\d{2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b"
                            r"|\b(\d+ \p{L}+ ago|il y a \d+|vor \d+ \p{L}+)\b", regex.IGNORECASE)
# Rules of dates alone on a line (not "Published on …"): inside the article they may be its own dates.
_BARE_DATE_RULES = ("textual-date", "numeric-date")
_WORD = regex.compile(r"\p{L}+")
_HEADING_WORD = regex.compile(r"\p{L}{3}")
_COMMENT_STRUCTURE = regex.compile(
    r"\b\d{1,2}[:.h]\d{2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b(\d+ \p{L}+ ago|il y a \d+|vor \d+ \p{L}+)\b"
    r"|\b(says|said|wrote|schreibt|sagt|schrieb|a écrit|écrit|dit)\s*:?$"
    r"|^((log in|sign in) to reply|reply|antworten|répondre|melden|signaler|report|like|gefällt mir|j.aime)$"
    r"|^(all )?\d+ (comments?|kommentare?|commentaires?|responses?|replies|réactions?)\b"
    r"|^(comments?|kommentare?|commentaires?|responses?|replies|réactions?)\s*\(\d+\)\s*:?$"
    r"|^(name|e-?mail|website|nom|site web|your (name|email)|required fields|champs obligatoires|pflichtfelder)\b",
    regex.IGNORECASE)
_LIST_START = regex.compile(r"[•◦▪‣●■►*+–—-]\s|\d{1,3}[.)]\s")
_TITLE_CASE = regex.compile(r"^[\p{Lu}\d&@#][\p{L}\d&.'’-]*$")
_NAME = regex.compile(r"^\p{Lu}[\p{Ll}'’]+(-\p{Lu}?[\p{Ll}'’]+)?"
                      r"(\s+((de|du|von|van|der|le|la|da|di|al|bin)\s+)?\p{Lu}[\p{Ll}'’]+(-\p{Lu}?[\p{Ll}'’]+)?){1,2}$")
_BYLINE_PREFIX = regex.compile(
    r"^(propos recueillis par|written by|words by|reporting by|autor(in)?:?|text:?|par|von:?|by)\s+", regex.IGNORECASE)
_BYLINE_END = regex.compile(r"\s*(\||–|\s-\s|\d).*$")
_BYLINE_SPLIT = regex.compile(r"\s*(?:,|\bund\b|\band\b|\bet\b|&)\s*")
_BYLINE_CUT = regex.compile(r"\s*(,|\bund\b|\band\b|\bet\b|&).*$")
_ISO_DATE = regex.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)")
_NUMERIC_DATE = regex.compile(r"\b(?P<d>\d{1,2})[./-]\s?(?P<m>\d{1,2})[./-]\s?(?P<y>\d{4}|\d{2})\b")
_DAY_MONTH = regex.compile(r"\b(?P<d>\d{1,2})(?:er|st|nd|rd|th)?\.?\s+(?P<month>\p{L}{3,}\.?),?\s+(?P<y>\d{4})\b")
_MONTH_DAY = regex.compile(r"\b(?P<month>\p{L}{3,}\.?)\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})\b")
_MONTHS = {name: number for number, names in enumerate((
    ("janv", "jan", "janu", "jän", "jänn"), ("févr", "fév", "feb", "febr"), ("mars", "mar", "märz", "mär", "marc"),
    ("avr", "avri", "apr", "apri"), ("mai", "may"), ("juin", "jun", "juni", "june"),
    ("juil", "jul", "juli", "july"), ("août", "aug", "augu"), ("sept", "sep"), ("oct", "okt", "octo", "okto"),
    ("nov", "nove"), ("déc", "déce", "dez", "dec", "deze", "dece")), start=1) for name in names}


@dataclass(frozen=True, kw_only=True)
class BoilerplateConfig:
    languages: tuple[LangCode, ...] = field(default=("fr", "de", "en"), metadata={
        "help": "rule files used besides common.yaml (documents may mix them)"})
    captions: Literal["drop", "keep"] = field(default="drop", metadata={
        "help": "keep them as caption blocks, or drop them"})
    structure: Literal["auto", "on", "off"] = field(default="auto", metadata={
        "help": "struct.* rules: auto = on for text input, only struct.byline after HTML extraction"})
    menu_lines: PositiveInt = field(default=4, metadata={
        "help": "this many short non-sentence lines in a row are a menu"})
    disable: tuple[str, ...] = field(default=(), metadata={
        "help": "rule ids to switch off, e.g. [en.navigation, struct.tail]"})
    rules: tuple[Rule, ...] = field(default=(), metadata={
        "help": "your own: {id, pattern, reason, scope, action, max_words, case_sensitive}"})
    rule_timeout: PositiveFloat = field(default=0.05, metadata={
        "help": "seconds one of your rules may spend on one text"})

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


class Verdict(NamedTuple):
    """Why a line goes: the rule that matched, its reason, and what to do with the line."""

    rule: str
    reason: str
    action: Action


@dataclass
class _Outcome:
    removed: list[Removal] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    date: str | None = None


class Boilerplate(Stage[BoilerplateConfig]):
    name = "boilerplate"
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
        if not doc.blocks:
            return doc
        lines = _Lines(doc.blocks)
        self._phrase_rules(doc, lines)
        first, last = _main_span(lines)
        if first is not None and last is not None:
            _keep_dates_of_the_article(lines, first, last)
            self._edge_rules(lines, range(first), "head")
            self._edge_rules(lines, range(last + 1, len(lines)), "tail")
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

    def _phrase_rules(self, doc: Document, lines: _Lines) -> None:
        assert self._matchers is not None
        block_matcher, line_matcher = self._matchers["block"], self._matchers["line"]
        text, verdict, starts = lines.text, lines.verdict, lines.starts
        n = len(text)
        if block_matcher:
            for pos, block in enumerate(doc.blocks):
                rule = block_matcher.search(block.text, len(block.text.split()))
                if rule is not None:
                    for i in range(starts[pos], starts[pos + 1]):
                        verdict[i] = Verdict(rule.id, rule.reason, "drop_line")
        # A dump's first line is the page's <title>; the headline that repeats it starts the article.
        page_title = lines.key(0) if doc.content_type != "text/html" else ""
        total = sum(map(len, text)) + n
        offset = 0
        scan = line_matcher.scan(text, lines.words)
        for i in range(n):
            offset += len(text[i]) + 1
            if verdict[i] is not None:
                continue
            rule = scan.search(i)
            if rule is None:
                continue
            if rule.id.endswith("-date") and i > 0 and text[i - 1].endswith(":"):
                continue  # the value of a label ("Beginn:", "Date :"): an event's date, not the page's
            if rule.action == "caption" and _cites_source(lines, i, rule):
                continue
            if rule.action == "drop_rest":
                late = offset >= REST_AFTER * total
                if (late and _furniture_follows(lines, i, scan)) or _comments_follow(lines, i):
                    for rest in range(i, n):
                        verdict[rest] = verdict[rest] or Verdict(rule.id, rule.reason, "drop_line")
                    return
                if i + 1 < n and lines.prose(i + 1):
                    continue  # a section heading ("Réactions", "Comment"): the article goes on after it
            action: Action = "drop_line" if rule.action.startswith("drop_") else rule.action
            found = Verdict(rule.id, rule.reason, action)
            if rule.action == "drop_block":
                pos = lines.position[i]
                for other in range(starts[pos], starts[pos + 1]):
                    verdict[other] = verdict[other] or found
            elif rule.action == "drop_run":
                for j in range(i + 1, n):
                    if _article_resumes(lines, j) or _repeats_title(lines, j, page_title):
                        break
                    verdict[j] = verdict[j] or found
            verdict[i] = found

    def _edge_rules(self, lines: _Lines, span: range, scope: Literal["head", "tail"]) -> None:
        assert self._matchers is not None
        matcher = self._matchers[scope]
        if not matcher:
            return
        for i in span:
            if lines.verdict[i] is None:
                rule = matcher.search(lines.text[i], lines.words[i])
                if rule is not None:
                    lines.verdict[i] = Verdict(rule.id, rule.reason, rule.action)

    def _structure(self, doc: Document, lines: _Lines, first: int | None, last: int | None,
                   struct: set[str]) -> None:
        plain = doc.content_type != "text/html"
        text, verdict, words, sentence = lines.text, lines.verdict, lines.words, lines.sentence
        n = len(text)
        # A dump's first line is the page's <title>: known as such by a separator before the site name, or by
        # a headline before the article that repeats its beginning.
        whole = lines.key(0)
        page_title = 0 if plain and verdict[0] is None and not text[0].endswith(".") and (
            _TITLE_SEPARATOR.search(text[0])
            or any(_repeats_title(lines, i, whole) for i in range(1, first if first is not None else 0))) else None
        listed = _introduced_lists(lines, last) if last is not None else set()
        if "struct.outside" in struct and first is not None and last is not None:
            # Text between the headline (the last line before the article that repeats the page title) and the
            # article is its lead.
            lead = next((i for i in range(first - 1, 0, -1) if page_title is not None
                         and _repeats_title(lines, i, whole)), first)
            # Only lines before the lead and past the article's end are outside it.
            for i in itertools.chain(range(lead), range(last + TAIL_GRACE + 1, n)):
                outside = (i < lead and lines.content(i)) or i > last + TAIL_GRACE
                # Running text out there is removed on a second piece of evidence: it stands alone between
                # furniture (a teaser between links), where text of the article comes in paragraphs.
                if i != page_title and verdict[i] is None and outside and i not in listed \
                        and (not lines.prose(i) or _alone(lines, i)):
                    verdict[i] = Verdict("struct.outside", STRUCTURAL["struct.outside"], "drop_line")
        live = [i for i, found in enumerate(verdict) if found is None]
        title: int | None = None
        if first is not None and last is not None:
            # The live lines before the article's first content line, and those after its last (in order).
            head = live[: bisect.bisect_left(live, first)]
            after_last = live[bisect.bisect_right(live, last) :]
            title = _title(lines, head, page_title)
            # The page title goes only when the headline repeats it (two pieces of evidence: the site name
            # beside it, and the repeat); alone, it is the only headline the text has.
            if "struct.page-title" in struct and page_title is not None and title != page_title \
                    and title is not None:
                verdict[page_title] = Verdict("struct.page-title", STRUCTURAL["struct.page-title"], "drop_line")
            headline = text[title] if title is not None else doc.metadata.title
            for k, i in enumerate(head):
                if i == title or verdict[i] is not None:
                    continue
                if "struct.byline" in struct and _NAME.match(text[i]) and _beside(lines, head, k, headline):
                    verdict[i] = Verdict("struct.byline", STRUCTURAL["struct.byline"], "byline")
                elif "struct.head" in struct and not lines.prose(i) and (_is_tag(lines, i) or _label_row(lines, i) or (
                        (not sentence[i] or _slogan(lines, i)) and words[i] <= 15 and k < len(head) - 1)):
                    verdict[i] = Verdict("struct.head", STRUCTURAL["struct.head"], "drop_line")
            if "struct.tail" in struct:
                # `listed` holds the places of the lines of an introduced list (one place, one line).
                for line, after in itertools.zip_longest(after_last, after_last[1:]):
                    # A short line before running text is the heading of more article text.
                    if not sentence[line] and words[line] <= 12 \
                            and (after is None or not lines.prose(after)) and not _phrase(lines, line) \
                            and line not in listed:
                        verdict[line] = Verdict("struct.tail", STRUCTURAL["struct.tail"], "drop_line")
        if "struct.menu" in struct:
            self._menus(lines, [i for i in live if verdict[i] is None])
        if plain and first is not None and last is not None:
            _mark_structure(doc, lines, min(last + TAIL_GRACE + 1, n), title)

    def _menus(self, lines: _Lines, live: list[int]) -> None:
        words, sentence = lines.words, lines.sentence
        run: list[int] = []
        for i in [*live, None]:
            if i is not None and words[i] <= 5 and not sentence[i]:
                run.append(i)
                continue
            if len(run) >= self.config.menu_lines:
                for item in run:
                    lines.verdict[item] = Verdict("struct.menu", STRUCTURAL["struct.menu"], "drop_line")
            run = []

    def _apply(self, doc: Document, lines: _Lines) -> None:
        """Rebuild the blocks from the surviving lines and record every removal, a run of lines of one rule
        in one block as one record."""
        outcome = _Outcome()
        runs = _Runs(self.name)
        blocks: list[Block] = []
        text, verdict, kind, number, position, starts = (lines.text, lines.verdict, lines.kind, lines.number,
                                                           lines.position, lines.starts)
        # Most blocks lose no line and split off none: they stay as they are, without a look at their lines.
        touched = {position[i] for i, found in enumerate(verdict) if found is not None}
        touched.update(position[i] for i, found in enumerate(kind) if found is not None)
        for pos, block in enumerate(doc.blocks):
            if pos not in touched:
                blocks.append(block)
                continue
            kept: list[str] = []
            changed = False
            for i in range(starts[pos], starts[pos + 1]):
                found = verdict[i]
                if found is None:
                    own = kind[i]
                    if own is not None and own != block.kind:
                        _flush(blocks, block, kept)
                        blocks.append(dataclasses.replace(block, kind=own, text=text[i], segments=[]))
                        changed = True
                    else:
                        kept.append(text[i])
                    continue
                changed = True
                rule_id, reason, action = found
                if action == "caption" and self.config.captions == "keep":
                    _flush(blocks, block, kept)
                    blocks.append(dataclasses.replace(block, kind="caption", text=text[i]))
                    continue
                if action == "byline":
                    names = _byline_names(text[i])
                    outcome.authors += [name for name in names if name not in outcome.authors]
                    reason = f"{reason} (author: {'; '.join(names)})"
                elif rule_id.endswith("-date") and outcome.date is None:
                    outcome.date = iso_date(text[i])
                runs.add(rule_id, reason, text[i], block.index, number[i])
            if changed:
                _flush(blocks, block, kept)
            else:
                blocks.append(block)
        doc.blocks = blocks
        outcome.removed = runs.removals()
        doc.removed.extend(outcome.removed)
        if outcome.authors and doc.metadata.author is None:
            doc.metadata.author = "; ".join(outcome.authors)
        if outcome.date and doc.metadata.date is None:
            doc.metadata.date = outcome.date
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


class _Lines:
    """The lines of a document, each feature a flat list indexed by the line's place in the document: its
    stripped text, its block's position in `doc.blocks` (not `Block.index`), its number within the block,
    its words, whether it ends like a clause (`sentence`), its verdict, and the kind of block it becomes
    (title or heading). Computed once for the whole document, with one call per feature where it can be,
    and read by the phrase rules, the structure walk and `_apply` alike; `starts[p]` is the first line of
    block `p` (`starts[-1]` the number of lines). Whether a line reads as prose and its comparison key are
    found when first asked (`prose`, `key`): most lines are never asked."""

    __slots__ = ("text", "position", "number", "words", "sentence", "verdict", "kind", "starts", "_prose", "_key")

    def __init__(self, blocks: list[Block]) -> None:
        # The blocks' lines are the lines of their texts joined by line breaks, block after block.
        whole = "\n".join([block.text for block in blocks])
        text = list(map(str.strip, whole.split("\n")))
        sizes = [block.text.count("\n") + 1 for block in blocks]
        self.text, self.starts = text, [0, *itertools.accumulate(sizes)]
        self.position = list(itertools.chain.from_iterable(map(itertools.repeat, range(len(blocks)), sizes)))
        self.number = list(itertools.chain.from_iterable(map(range, sizes)))
        self.words = _word_counts(whole, text)
        self.sentence = texts.ends_clauses(text)
        self.verdict: list[Verdict | None] = [None] * len(text)
        self.kind: list[BlockKind | None] = [None] * len(text)  # title or heading: a block of its own
        self._prose: list[bool | None] = [None] * len(text)
        self._key: list[str | None] = [None] * len(text)

    def __len__(self) -> int:
        return len(self.text)

    def prose(self, i: int) -> bool:
        """Line `i` reads as a sentence of running text (see `stages.text.reads_as_sentence`)."""
        found = self._prose[i]
        if found is None:
            found = self._prose[i] = self.sentence[i] and texts.reads_as_sentence(self.text[i], self.words[i])
        return found

    def key(self, i: int) -> str:
        """Line `i`'s comparison key (`stages.text.key`): several checks compare a line with the page title."""
        found = self._key[i]
        if found is None:
            found = self._key[i] = texts.key(self.text[i])
        return found

    def has_key(self, i: int) -> bool:
        """Whether line `i`'s key is known."""
        return self._key[i] is not None

    def content(self, i: int) -> bool:
        """Line `i` is long and ends like a sentence: a line of the article's own text, wherever it stands."""
        return self.words[i] >= CONTENT_WORDS and self.sentence[i]


def _word_counts(whole: str, lines: list[str]) -> list[int]:
    """The words of each stripped line of `whole`. The words of scripts without spaces are looked for once in
    the whole text: their runs never cross a line break, so a text without them has none in any of its
    lines. Where every line is printable and holds no two spaces in a row, `len(line.split())` is its
    count of spaces and one: every other character that `split` breaks at is a control or separator,
    which `isprintable` rejects."""
    if texts.unspaced_words(whole) != 0:
        return list(map(texts.word_count, lines))
    if "  " not in "\n".join(lines) and all(map(str.isprintable, lines)):
        return [line.count(" ") + 1 if line else 0 for line in lines]
    return [len(line.split()) for line in lines]


def _main_span(lines: _Lines) -> tuple[int | None, int | None]:
    """Positions of the first and last content line (long and sentence-like, not removed) of the article:
    the cluster of content lines with the most text, clusters being split by `CLUSTER_GAP` of furniture, less
    a lone content line at its end beyond `ISLAND_GAP` removed lines."""
    verdict, text = lines.verdict, lines.text
    content = [i for i, found in enumerate(verdict) if found is None and lines.content(i)]
    if not content:
        return None, None
    clusters = [[content[0]]]
    for before, i in zip(content, content[1:], strict=False):
        gap = sum(1.0 if verdict[j] is not None else 0.5 for j in range(before + 1, i))
        if gap >= CLUSTER_GAP:
            clusters.append([i])
        else:
            clusters[-1].append(i)
    best = clusters[0] if len(clusters) == 1 else max(clusters, key=lambda cluster: sum(len(text[i]) for i in cluster))
    best = _trim_islands(lines, best)
    return best[0], best[-1]


def _trim_islands(lines: _Lines, cluster: list[int]) -> list[int]:
    """`cluster` without a lone content line at its end that `ISLAND_GAP` removed lines cut off from the rest
    (an author box or a teaser past the share buttons): the article's paragraphs come in a run. A lone line
    at the start stays: the article's lead often stands before a gallery, an ad or a paywall box."""
    verdict = lines.verdict
    parts = [[cluster[0]]]
    for before, i in itertools.pairwise(cluster):
        if i - before > ISLAND_GAP and sum(verdict[j] is not None for j in range(before + 1, i)) >= ISLAND_GAP:
            parts.append([i])
        else:
            parts[-1].append(i)
    while len(parts) > 1 and len(parts[-1]) == 1:
        parts.pop()
    return [i for part in parts for i in part]


def _is_label(lines: _Lines, i: int) -> bool:
    """A bare label ("Comments", "Réactions (3)", "Related News"): it may name a section of the article, where
    a phrase ("Leave a reply", "Kommentar schreiben") cannot."""
    return len(_WORD.findall(lines.text[i])) <= 2


def _keep_dates_of_the_article(lines: _Lines, first: int, last: int) -> None:
    """Bare dates inside the article (after its first content line, up to `TAIL_GRACE` lines past its last),
    two or more of them each heading running text, are the article's own (the days of a programme, the
    steps of a chronology), not the page's date: they stay."""
    verdict = lines.verdict
    dated = [i for i in range(first + 1, min(last + TAIL_GRACE + 1, len(lines) - 1))
             if (found := verdict[i]) is not None and found.rule.endswith(_BARE_DATE_RULES) and lines.prose(i + 1)]
    if len(dated) >= 2:
        for i in dated:
            verdict[i] = None


def _introduced_lists(lines: _Lines, last: int) -> set[int]:
    """The lines of a list that the article introduces: after a kept line of the article (up to `TAIL_GRACE`
    lines past its last content line) of three words or more that ends with a colon ("The tour dates:"; a
    one-word label such as "Teilen:" introduces a widget), the rest of its block, when no phrase rule took
    any of them for furniture (a share widget's buttons)."""
    text, verdict, words, starts, position = lines.text, lines.verdict, lines.words, lines.starts, lines.position
    listed: set[int] = set()
    for i in range(min(last + TAIL_GRACE + 1, len(text))):
        if verdict[i] is None and words[i] >= 3 and text[i].endswith(":") and i not in listed:
            block = range(i + 1, starts[position[i] + 1])
            if all(verdict[j] is None for j in block):
                listed.update(block)
    return listed


def _cites_source(lines: _Lines, i: int, rule: Rule) -> bool:
    """Whether the credit a caption rule found closes a sentence of the article rather than a caption: the
    line reads as a sentence and the credit stands inside it ("… sagte ein Sprecher (dpa)."), where a
    caption ends its sentence before the credit ("Polizisten vor dem Haus. (Foto: dpa)")."""
    text = lines.text[i]
    found = rule.compile().search(text)
    return found is not None and found.start() > 0 and lines.prose(i) \
        and not texts.ends_sentence(text[: found.start()])


def _furniture_follows(lines: _Lines, i: int, scan: Scan) -> bool:
    """Whether what follows the comment header `lines[i]` is a comment section, not more article: comment
    structure (dates, "says:", reply links, form labels, a comment count, another comment-form line) within
    the next lines, or no running text at all after it. Running text after a header without such structure
    is the article going on (a heading "Response", a table cell "Comment"), so it stays."""
    text = lines.text
    window = range(i + 1, min(i + 1 + COMMENT_WINDOW, len(text)))
    if any(_COMMENT_STRUCTURE.search(text[j]) for j in [i, *window]):
        return True
    if any(getattr(scan.search(j), "action", None) == "drop_rest" for j in window):
        return True
    if _is_label(lines, i) and window and lines.prose(window[0]):
        return False  # a section heading: the article goes on under it
    return not any(lines.prose(a) and lines.prose(b) for a, b in itertools.pairwise(range(i + 1, len(text))))


def _comments_follow(lines: _Lines, i: int) -> bool:
    """Comments, wherever the header stands: a commenter's name ("Anna says:") and a time stamp within the
    next lines, after an article of some length (two pieces of evidence besides the header)."""
    window = lines.text[i + 1 : i + 1 + COMMENT_WINDOW]
    return any(_COMMENTER.search(line) for line in window) \
        and any(_TIME_STAMP.search(line) for line in window) \
        and sum(lines.words[j] for j in range(i) if lines.prose(j)) >= COMMENTS_AFTER_WORDS


def _article_resumes(lines: _Lines, j: int) -> bool:
    """Whether the article goes on at `lines[j]`: a content line, or two lines of running text in a row (a
    teaser under a related link is one such line between links)."""
    return lines.content(j) or (lines.prose(j) and j + 1 < len(lines) and lines.prose(j + 1))


def _repeats_title(lines: _Lines, i: int, page_title: str) -> bool:
    """Whether line `i` is the headline as the page title (a key) states it, with the site name or author
    after it ("Mandarinen-Schmand-Kuchen" under "Mandarinen-Schmand-Kuchen von anna | Chefkoch"). Its key
    then starts with the page title's first word: a line whose first key word (`stages.text.key_start`, from
    its first characters) is another is none, and its whole key is not built."""
    if not lines.has_key(i) and texts.key_start(lines.text[i], 1) != page_title.partition(" ")[0]:
        return False
    own = lines.key(i)
    return len(own) >= 15 and (page_title == own or page_title.startswith(own + " "))


def _phrase(lines: _Lines, i: int) -> bool:
    """A line of eight words or more with three function words: a phrase of running text (a heading or a
    sentence without its full stop), not a label."""
    return lines.words[i] >= 8 and texts.has_function_words(lines.text[i], 3)


def _slogan(lines: _Lines, i: int) -> bool:
    """A short line that ends like a sentence but reads as none: under six words, fewer than two function
    words ("Klarmachen zum Ändern!", "Das Blog der Fehlfunktionen!"), where a short sentence of the article
    has them ("Zendaya is a fashion superstar.")."""
    return lines.words[i] < 6 and not texts.has_function_words(lines.text[i], 2)


def _alone(lines: _Lines, i: int) -> bool:
    """Neither neighbour of line `i` is running text."""
    return not any(lines.prose(j) for j in (i - 1, i + 1) if 0 <= j < len(lines))


def _label_row(lines: _Lines, i: int) -> bool:
    """Eight or more capitalised words run together without punctuation: the labels of a menu copied as one
    line ("World Business Politics Green Health Travel Culture Video"); a headline has lower-case words."""
    if lines.sentence[i]:
        return False
    words = lines.text[i].split()
    return len(words) >= 8 and all(_TITLE_CASE.match(w) for w in words)


def _is_tag(lines: _Lines, i: int) -> bool:
    return lines.words[i] <= 4 and not lines.sentence[i] and all(_TITLE_CASE.match(w) for w in lines.text[i].split())


def _title(lines: _Lines, head: list[int], page_title: int | None) -> int | None:
    """The headline among the lines before the article: the line that repeats the page title's headline
    part, else the page title itself, else the first line when it is title-like (3 or more words, no
    sentence end, not a name or a tag), else the last title-like line of at most 15 words (a longer one
    after the headline is its standfirst)."""
    words = lines.words
    if page_title is not None:
        parts = {texts.key(part) for part in _TITLE_SEPARATOR.split(lines.text[page_title])
                 if len(part.split()) >= 2}
        whole = lines.key(page_title)
        for i in head:
            if i != page_title and words[i] >= 2 and (lines.key(i) in parts or _repeats_title(lines, i, whole)):
                return i
        return page_title
    if head and _title_like(lines, head[0]) and words[head[0]] <= 30:
        return head[0]
    return next((i for i in reversed(head) if _title_like(lines, i) and words[i] <= 15), None)


def _title_like(lines: _Lines, i: int) -> bool:
    text = lines.text[i]
    return lines.words[i] >= 3 and not lines.sentence[i] and not text.endswith(",") and not _NAME.match(text) \
        and not _is_tag(lines, i) and not _label_row(lines, i)


def _mark_structure(doc: Document, lines: _Lines, end: int, title: int | None) -> None:
    """Plain text has no markup: the headline becomes a `title` block (and `metadata.title`), and a short
    title-like line after it and up to `end` (the end of the article: its last content line and
    `TAIL_GRACE` lines more), followed by running text, a `heading` block."""
    verdict, kind = lines.verdict, lines.kind
    if title is not None and verdict[title] is None:
        kind[title] = "title"
        if doc.metadata.title is None:
            text = lines.text[title]
            parts = [part.strip() for part in _TITLE_SEPARATOR.split(text)]
            doc.metadata.title = max(parts, key=len) if _TITLE_SEPARATOR.search(text) else text
    # Headings follow the headline; what stands before it is the page's, not the article's.
    start = title + 1 if title is not None and verdict[title] is None else 0
    live = [i for i in range(start, end) if verdict[i] is None]
    for this, after in itertools.pairwise(live):
        if kind[this] is None and _is_heading(lines, this) and (lines.prose(after) or lines.content(after)):
            kind[this] = "heading"


def _is_heading(lines: _Lines, i: int) -> bool:
    """A short line that names a section: 1 to 12 words, capitalised, no end punctuation, no bullet."""
    text = lines.text[i]
    return 1 <= lines.words[i] <= 12 and not lines.sentence[i] and text[-1] not in ",-–—" \
        and (text[0].isupper() or text[0].isdigit()) \
        and _LIST_START.match(text) is None and _HEADING_WORD.search(text) is not None


def _beside(lines: _Lines, head: list[int], k: int, headline: str | None) -> bool:
    neighbours = head[max(k - 1, 0) : k] + head[k + 1 : k + 2]
    return headline is not None and any(lines.text[i] == headline for i in neighbours)


def _byline_names(text: str) -> list[str]:
    """Every author a byline names ("Von Anna Schmidt und Jan Berg, Berlin" → both names, not the place)."""
    body = _BYLINE_END.sub("", _BYLINE_PREFIX.sub("", text)).strip()
    parts = [part.strip() for part in _BYLINE_SPLIT.split(body) if part.strip()]
    names = [part for part in parts if _NAME.match(part)]
    return names or [_BYLINE_CUT.sub("", body).strip() or text]


def iso_date(text: str) -> str | None:
    """The date a date line states, as YYYY-MM-DD (day-first numeric dates, as in French and German; day
    and month names of French, German and English); None when it states none plainly."""
    found = _ISO_DATE.search(text)
    if found:
        year, month, day = int(found["y"]), int(found["m"]), int(found["d"])
    elif found := _NUMERIC_DATE.search(text):
        day, month, year = int(found["d"]), int(found["m"]), int(found["y"])
        year += 2000 if year < 100 else 0
    elif found := _DAY_MONTH.search(text) or _MONTH_DAY.search(text):
        name = found["month"].lower().rstrip(".")
        month = _MONTHS.get(name[:4]) or _MONTHS.get(name[:3], 0)
        day, year = int(found["d"]), int(found["y"])
    else:
        return None
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1900 <= year <= 2100):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _flush(blocks: list[Block], block: Block, kept: list[str]) -> None:
    """The kept lines so far as a piece of `block` (same kind and index)."""
    if kept:
        blocks.append(dataclasses.replace(block, text="\n".join(kept), segments=[]))
        kept.clear()


class _Runs:
    """Removals in order, a run of consecutive lines of one rule and reason in one block as one record. The
    lines of a run are gathered and joined once, and its record made once: growing a record's text line by
    line, and counting its lines to place the next, cost time quadratic in the length of the run."""

    def __init__(self, stage: str) -> None:
        self._stage = stage
        # Per run: its rule, reason, block and first line, and its lines.
        self._runs: list[tuple[str, str, int, int, list[str]]] = []

    def add(self, rule: str, reason: str, text: str, block: int, line: int) -> None:
        if self._runs:
            last_rule, last_reason, last_block, last_line, lines = self._runs[-1]
            if last_rule == rule and last_reason == reason and last_block == block \
                    and line == last_line + len(lines):
                lines.append(text)
                return
        self._runs.append((rule, reason, block, line, [text]))

    def removals(self) -> list[Removal]:
        return [Removal(stage=self._stage, rule=rule, reason=reason, text="\n".join(lines), block=block, line=line)
                for rule, reason, block, line, lines in self._runs]
