"""The HTML audit report of `tamis explain FILE --html REPORT`: what tamis did to each document, for people.

Each document is shown as it was extracted: kept blocks in order, removed lines struck through and
labelled with their rule id at their place, foreign-language segments highlighted with their language and
confidence, blocks with translations shown side by side with their translated reading, duplicate blocks
marked. A table counts each rule's removals and changes over all documents. The page is one file with no
script and no network resource (its Content-Security-Policy forbids loading any); every value is escaped,
whatever its type: a record read back from JSONL may hold markup in any field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from html import escape

from pipeline.document import Block, Document, Removal, Segment

_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 75em; color: #222; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .2em .6em; text-align: left; vertical-align: top; }
td.n { text-align: right; }
article.doc { border-top: 3px solid #444; margin-top: 2.5em; padding-top: .5em; }
.status { padding: .1em .5em; border-radius: .3em; font-size: 85%; }
.status-ok { background: #d8f0d8; } .status-filtered { background: #f5e6b8; } .status-error { background: #f3c4c4; }
.block { margin: .6em 0; white-space: pre-wrap; }
.kind { color: #777; font-size: 75%; margin-right: .5em; }
.title { font-size: 130%; font-weight: bold; } .heading { font-weight: bold; }
.removed { color: #a33; margin: .2em 0; white-space: pre-wrap; }
.removed del { text-decoration-thickness: 2px; }
.rule { font: 75% monospace; background: #f3d6d6; border-radius: .3em; padding: 0 .4em; margin-right: .5em; }
.seg { background: #dde8fb; border-radius: .2em; }
.seg-drop, .seg-separate { background: #eee; text-decoration: line-through; }
.lang { font: 70% monospace; background: #3b5ea8; color: #fff; border-radius: .2em; padding: 0 .3em;
        margin-right: .2em; vertical-align: super; }
.side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.translation { background: #f4f8f0; border-left: 3px solid #7a5; padding-left: .5em; white-space: pre-wrap; }
.duplicate { opacity: .6; border-left: 3px dashed #999; padding-left: .5em; }
.dup-label { font: 75% monospace; background: #e4e4e4; border-radius: .3em; padding: 0 .4em; margin-right: .5em; }
.changes, .warnings { font-size: 85%; color: #555; }
"""


def render(docs: list[Document]) -> str:
    """A self-contained HTML page auditing `docs`: a summary per rule, then each document."""
    body = [
        "<h1>tamis audit report</h1>",
        _overview(docs),
        _rule_summary(docs),
        *(_document(doc, n) for n, doc in enumerate(docs)),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>tamis audit report: {len(docs)} documents</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _overview(docs: list[Document]) -> str:
    rows = "".join(
        f"<tr><td><a href=\"#doc-{n}\">{_text(doc.id)}</a></td><td>{_status(doc)}</td>"
        f"<td>{_text(doc.lang)}</td><td class=\"n\">{len(doc.removed)}</td>"
        f"<td class=\"n\">{sum(b.duplicate_of is not None for b in doc.blocks)}</td>"
        f"<td class=\"n\">{sum(1 for _ in _foreign(doc))}</td></tr>"
        for n, doc in enumerate(docs)
    )
    return ("<h2>Documents</h2>\n<table class=\"documents\"><tr><th>document</th><th>status</th><th>language</th>"
            f"<th>removals</th><th>duplicate blocks</th><th>foreign segments</th></tr>{rows}</table>")


def _rule_summary(docs: list[Document]) -> str:
    """Removals and changes per (stage, rule), with how many documents each rule touched."""
    removals: Counter[tuple[str, str]] = Counter()
    changes: Counter[tuple[str, str]] = Counter()
    touched: Counter[tuple[str, str]] = Counter()
    for doc in docs:
        for r in doc.removed:
            removals[r.stage, r.rule] += 1
        for c in doc.changes:
            changes[c.stage, c.rule] += 1
        for key in {(r.stage, r.rule) for r in doc.removed} | {(c.stage, c.rule) for c in doc.changes}:
            touched[key] += 1
    rows = "".join(
        f"<tr><td>{_text(stage)}</td><td><code>{_text(rule)}</code></td><td class=\"n\">{removals[stage, rule]}</td>"
        f"<td class=\"n\">{changes[stage, rule]}</td><td class=\"n\">{touched[stage, rule]}</td></tr>"
        for stage, rule in sorted(touched)
    )
    return ("<h2>Rules</h2>\n<table class=\"rules\"><tr><th>stage</th><th>rule</th><th>removals</th>"
            f"<th>changes</th><th>documents</th></tr>{rows}</table>")


def _document(doc: Document, n: int) -> str:
    reason = f": {_text(doc.stage)}: {_text(doc.reason)}" if doc.status != "ok" else ""
    details = ", ".join(f"{k}={_text(v)}" for k, v in
                        (("lang", doc.lang), ("encoding", doc.metadata.encoding), ("source", doc.source)) if v)
    parts = [f"<article class=\"doc\" id=\"doc-{n}\">",
             f"<h2>{_text(doc.id)} {_status(doc)}{reason}</h2>",
             f"<p class=\"meta\">{details}</p>"]
    parts.extend(_removal(r) for r in doc.removed if r.block is None)
    for pieces, removals in _by_index(doc):
        parts.extend(_interleave(pieces, removals, doc.lang))
    if doc.changes:
        items = "".join(f"<li><span class=\"rule\">{_text(c.stage)}:{_text(c.rule)}</span>"
                        f"{'block ' + _text(c.block) + ': ' if c.block is not None else ''}{_text(c.detail)}</li>"
                        for c in doc.changes)
        parts.append(f"<ul class=\"changes\">{items}</ul>")
    if doc.warnings:
        items = "".join(f"<li>{_text(w.stage)}: {_text(w.message)}</li>" for w in doc.warnings)
        parts.append(f"<ul class=\"warnings\">{items}</ul>")
    parts.append("</article>")
    return "\n".join(parts)


def _by_index(doc: Document) -> Iterator[tuple[list[Block], list[Removal]]]:
    """Kept blocks and removals grouped by `Block.index`, in extraction order: the pieces of a split block
    stay together, and a block removed whole still shows at its place."""
    pieces: dict[int, list[Block]] = {}
    removals: dict[int, list[Removal]] = {}
    for block in doc.blocks:
        pieces.setdefault(block.index, []).append(block)
    for r in doc.removed:
        if r.block is not None:
            removals.setdefault(r.block, []).append(r)
    for index in sorted(pieces.keys() | removals.keys()):
        yield pieces.get(index, []), removals.get(index, [])


def _interleave(pieces: list[Block], removals: list[Removal], doc_lang: str | None) -> list[str]:
    """The kept pieces of one extracted block with its removed lines at their original place.

    `Removal.line` numbers the lines of the block as extracted; kept lines fill the numbers removals do not
    use. A removal without a line (the whole block) comes first.
    """
    pending = sorted(removals, key=lambda r: -1 if r.line is None else r.line)

    def take(position: int) -> list[str]:
        taken: list[str] = []
        while pending and (pending[0].line is None or pending[0].line <= position + len(taken)):
            taken.append(_removal(pending.pop(0)))
        return taken

    out: list[str] = []
    position = 0
    for piece in pieces:
        before = take(position)
        out.extend(before)
        position += len(before) + 1
        inside: list[tuple[int, list[str]]] = []  # (line of the piece, removals shown before it)
        for line in range(1, piece.text.count("\n") + 1):
            taken = take(position)
            if taken:
                inside.append((line, taken))
            position += len(taken) + 1
        out.append(_block(piece, doc_lang, inside))
    out.extend(_removal(r) for r in pending)
    return out


def _removal(r: Removal) -> str:
    where = f"block {r.block}" + (f" line {r.line}" if r.line is not None else "") if r.block is not None else ""
    return (f"<div class=\"removed\" data-rule=\"{_text(r.rule)}\" title=\"{_text(r.reason)}"
            f"{' (' + _text(where) + ')' if where else ''}\"><span class=\"rule\">{_text(r.stage)}:{_text(r.rule)}"
            f"</span><del>{_text(r.text)}</del></div>")


def _block(block: Block, doc_lang: str | None, inside: list[tuple[int, list[str]]]) -> str:
    foreign = block.lang is not None and doc_lang is not None and block.lang != doc_lang
    classes = _text(f"block {block.kind}" + (" duplicate" if block.duplicate_of is not None else "")
                    + (" foreign" if foreign else ""))
    labels = f"<span class=\"kind\">{_text(block.index)} {_text(block.kind)}</span>"
    if foreign:
        labels += f"<span class=\"lang\">{_text(block.lang)}</span>"
    if block.duplicate_of is not None:
        labels += f"<span class=\"dup-label\">duplicate of block {_text(block.duplicate_of)}</span>"
    lang = f" data-lang=\"{_text(block.lang)}\"" if block.lang else ""
    text = labels + _lines(block, doc_lang or block.lang, inside)
    if any(s.translation is not None for s in block.segments):
        return (f"<div class=\"{classes} side-by-side\"{lang}><div class=\"original\">{text}</div>"
                f"<div class=\"translation\">{escape(block.main_text())}</div></div>")
    return f"<div class=\"{classes}\"{lang}>{text}</div>"


def _lines(block: Block, main_lang: str | None, inside: list[tuple[int, list[str]]]) -> str:
    """The block text, with removed lines put back before the lines they preceded (each removal is its own
    line, so it replaces the line break there)."""
    starts = [0] + [i + 1 for i, c in enumerate(block.text) if c == "\n"]
    out: list[str] = []
    low = 0
    for line, removals in inside:
        out.append(_segmented(block, main_lang, low, starts[line] - 1))
        out.extend(removals)
        low = starts[line]
    out.append(_segmented(block, main_lang, low, len(block.text)))
    return "".join(out)


def _segmented(block: Block, main_lang: str | None, low: int, high: int) -> str:
    """`block.text[low:high]` with each segment that is not plain kept text in the main language
    highlighted."""
    out: list[str] = []
    cursor = low
    for seg in sorted(block.segments, key=lambda s: s.start):
        start, end = max(seg.start, low), min(seg.end, high)
        if start >= end or not _notable(seg, main_lang):
            continue
        out.append(escape(block.text[cursor:start]))
        translated = f" → {seg.translation.target} ({seg.translation.status})" if seg.translation else ""
        confidence = f"{seg.confidence:.2f}" if isinstance(seg.confidence, float | int) else seg.confidence
        out.append(f"<span class=\"seg seg-{_text(seg.action)}\" data-lang=\"{_text(seg.lang)}\" "
                   f"title=\"{_text(seg.lang)} {_text(confidence)} {_text(seg.action)}{_text(translated)}\">"
                   f"<span class=\"lang\">{_text(seg.lang)}</span>{escape(block.text[start:end])}</span>")
        cursor = end
    out.append(escape(block.text[cursor:high]))
    return "".join(out)


def _notable(seg: Segment, main_lang: str | None) -> bool:
    return seg.lang != main_lang or seg.action != "keep" or seg.translation is not None


def _foreign(doc: Document) -> Iterator[Segment]:
    for block in doc.blocks:
        yield from (s for s in block.segments if _notable(s, doc.lang or block.lang))


def _status(doc: Document) -> str:
    return f"<span class=\"status status-{_text(doc.status)}\">{_text(doc.status)}</span>"


def _text(value: object) -> str:
    """Any value as escaped text (quotes too, for attributes): a record read back from JSONL may hold
    anything in any field, not only the types the document declares."""
    return "" if value is None else escape(str(value))
