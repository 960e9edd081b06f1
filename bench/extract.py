"""Speed of the HTML path against `trafilatura.extract`, where the time goes, and metadata accuracy.

    python bench/extract.py /path/to/eval/html /path/to/eval/ext [--limit N]

Every page of the sets (`*/html/*.html.gz` under the first directory, `html/*.html.gz` under the second), as
bytes, in one process and one run. Times are CPU seconds of this process (`time.process_time`), and the
tools being compared are timed page by page in alternation, so that the machine's load and the process's
drift weigh on all of them alike: compare the ratios, which hold from run to run better than the rates. First
the whole pipeline's first two pages right after `setup()` (a worker's warm-up: lazy imports, patterns
compiled on first use); then one untimed pass of each tool. Printed, in pages per second:

- the extract stage alone (decoded pages in), with metadata and with `metadata: false`;
- the whole default pipeline of `config.yaml` on the bytes, in-process, one document at a time (`--jobs 1`);
- `trafilatura.extract(html)` with its defaults (no metadata), and with tamis's options (metadata on);
- the ratios, the target being the whole pipeline at 0.9x or more of `trafilatura.extract`'s defaults, and
  the whole pipeline's CPU time per stage, with what the pipeline's rate would be without `languages`;
- the extract stage's parts: decoding (the stage before), the attribute cap, parsing, metadata
  (`stages.metadata`, and trafilatura's own `extract_metadata` for comparison), trafilatura's main-text
  extraction (with the copy of the tree it makes), tamis's tree walk.

Figures, all 370 pages (191 KB a page), on the 2-core machine when it was otherwise idle (load about 1),
four runs: whole default pipeline / `trafilatura.extract` defaults 0.92 (`--limit 150`), 0.91, 0.90, 0.91
(e.g. 20.6 against 22.7 pages/s); the extract stage alone 1.18 to 1.22 times `trafilatura.extract`, because
the furniture pre-clean (`stages.html_furniture`, about 7 ms a page) leaves trafilatura a smaller tree (its
main pass about 17 ms instead of 33); without `languages` the ratio would be 1.06 to 1.11. When other jobs
loaded the machine (load 7 to 12) the same runs read 0.86 to 0.89: compare figures taken at the same load.
Parts, ms per page (`--limit 150`, idle): attribute cap 1.2, parse 3.0, metadata 3.4 (trafilatura's
`extract_metadata` 14.4 on the same trees), main text without the pre-clean 32.9, tree walk and title 0.9.
Metadata accuracy is the same as before this round's speed-ups: author 41/70, date 94/99, url 129/150.

Metadata accuracy, for tamis's reader and trafilatura's `extract_metadata` on the same trees, against what
the pages declare: the ext set's titles (`cases.json`), the sets' URLs, and the publication date and author
that the page states in `<meta>` or JSON-LD (`article:published_time`, `datePublished`, `author`) where it
states one. A value is right when it matches after folding case and spaces (dates: the day; URLs: without
scheme, `www.`, query and trailing slash; authors: the declared name is in the found one).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline import Document, Pipeline, load_config
from stages.decode import Decode, DecodeConfig
from stages.extract import Extract, ExtractConfig, parse_html, trafilatura_options, tree_parts, with_title
from stages.html_clean import cap_attributes
from stages.metadata import page_metadata

ROOT = Path(__file__).resolve().parent.parent
_DATE_META = ("article:published_time", "datePublished", "date", "dc.date", "publishdate", "pubdate")


def load_pages(html_dir: Path, ext_dir: Path, limit: int | None) -> list[dict[str, Any]]:
    """Each page's bytes with what its set declares about it (url, and ext's title)."""
    pages: list[dict[str, Any]] = []
    urls = {c["file"].split("/")[-1].split(".")[0]: c.get("url")
            for c in json.loads((html_dir / "trafilatura/cases.json").read_text("utf-8"))}
    for key, item in json.loads((html_dir / "scrapinghub/ground-truth.json").read_text("utf-8")).items():
        urls[key] = item.get("url")
    for path in sorted(html_dir.glob("*/html/*.html.gz")):
        pages.append({"raw": gzip.decompress(path.read_bytes()), "url": urls.get(path.name.split(".")[0])})
    for case in json.loads((ext_dir / "cases.json").read_text("utf-8")):
        raw = gzip.decompress((ext_dir / case["file"]).read_bytes())
        pages.append({"raw": raw, "url": case.get("url"), "title": case.get("title")})
    return pages[:limit] if limit else pages


def declared(tree: Any) -> dict[str, str]:
    """The date and author the page states in <meta> or JSON-LD, where it states them."""
    out: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip()
        value = (meta.get("content") or "").strip()
        if key in _DATE_META and re.match(r"\d{4}-\d\d-\d\d", value):
            out.setdefault("date", value[:10])
        if key in ("author", "article:author") and value and not value.startswith("http"):
            out.setdefault("author", value)
    for script in tree.iter("script"):
        if script.get("type") == "application/ld+json" and script.text:
            try:
                data = json.loads(script.text)
            except ValueError:
                continue
            for item in _items(data):
                if isinstance(item.get("datePublished"), str) and re.match(r"\d{4}-\d\d-\d\d", item["datePublished"]):
                    out.setdefault("date", item["datePublished"][:10])
                author = item.get("author")
                author = author[0] if isinstance(author, list) and author else author
                name = author.get("name") if isinstance(author, dict) else author
                if isinstance(name, str) and name.strip():
                    out.setdefault("author", name.strip())
    return out


def _items(data: Any) -> list[dict[str, Any]]:
    items = data if isinstance(data, list) else [data]
    found = [item for item in items if isinstance(item, dict)]
    return found + [g for item in found for g in item.get("@graph", []) if isinstance(g, dict)]


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _url(url: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", url.split("?")[0].split("#")[0]).rstrip("/").casefold()


def right(field: str, truth: str, found: str | None) -> bool:
    if not found:
        return False
    if field == "url":
        return _url(truth) == _url(found)
    if field == "author":
        return _fold(truth) in _fold(found)
    return _fold(truth) == _fold(found)


def accuracy(pages: list[dict[str, Any]], trees: list[Any]) -> dict[str, dict[str, tuple[int, int]]]:
    """(right, pages with a declared value) per field, for tamis's reader and trafilatura's."""
    from trafilatura.metadata import extract_metadata

    scores: dict[str, dict[str, list[int]]] = {tool: {} for tool in ("tamis", "trafilatura")}
    for page, tree in zip(pages, trees, strict=True):
        truth = {**declared(tree), **{k: page[k] for k in ("url", "title") if page.get(k)}}
        ours = page_metadata(tree, None)
        theirs = extract_metadata(tree)
        found = {"tamis": ours, "trafilatura": {"title": theirs.title, "author": theirs.author,
                                                 "date": theirs.date, "url": theirs.url}}
        for tool, values in found.items():
            for field, value in truth.items():
                counts = scores[tool].setdefault(field, [0, 0])
                counts[0] += right(field, value, values.get(field))
                counts[1] += 1
    return {tool: {f: (c[0], c[1]) for f, c in fields.items()} for tool, fields in scores.items()}


def interleaved(tools: dict[str, tuple[list[Any], Callable[[Any], object]]]) -> dict[str, float]:
    """CPU seconds each tool (its inputs, one per page, and its work) spends on the pages, timed call by call
    in alternation (the order rotating from page to page), so that the machine's load and the process's
    drift weigh on every tool alike."""
    spent = dict.fromkeys(tools, 0.0)
    names = list(tools)
    for i in range(min(len(items) for items, _ in tools.values())):
        for name in names[i % len(names):] + names[:i % len(names)]:
            items, work = tools[name]
            started = time.process_time()
            work(items[i])
            spent[name] += time.process_time() - started
    return spent


def stage_times(whole: Pipeline, raws: list[bytes]) -> dict[str, float]:
    """CPU seconds each stage of `whole` spends on the pages, a page at a time through every stage (the
    runner's own stats are wall-clock time, which a loaded machine inflates)."""
    spent = dict.fromkeys(whole.names, 0.0)
    for raw in raws:
        doc = Document(id="p", source="p.html", content_type="text/html", raw=raw)
        for name, stage in zip(whole.names, whole.stages, strict=True):
            if doc.status != "ok":
                break
            started = time.process_time()
            doc = stage.process(doc)
            spent[name] += time.process_time() - started
    return spent


def main(argv: list[str] | None = None) -> int:
    import trafilatura
    from trafilatura.metadata import extract_metadata

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("html_dir", type=Path, help="the html dev set (trafilatura/, scrapinghub/)")
    parser.add_argument("ext_dir", type=Path, help="the ext dev set (cases.json, html/)")
    parser.add_argument("--limit", type=int, help="the first N pages only")
    args = parser.parse_args(argv)
    pages = load_pages(args.html_dir, args.ext_dir, args.limit)
    raws = [page["raw"] for page in pages]
    whole = Pipeline.from_config(load_config(ROOT / "config.yaml", []))
    whole.setup()

    def run_whole(raw: bytes) -> None:
        whole.process([Document(id="p", source="p.html", content_type="text/html", raw=raw)])

    first = [time.process_time()]
    for raw in raws[:2]:  # a worker's first pages: lazy imports and patterns compiled on first use
        run_whole(raw)
        first.append(time.process_time())
    decode = Decode(DecodeConfig())
    htmls = [decode.process(Document(id="p", source="p", content_type="text/html", raw=raw)).html for raw in raws]
    stages = {metadata: Extract(ExtractConfig(metadata=metadata)) for metadata in (True, False)}
    for stage in stages.values():
        stage.setup()

    def run_stage(metadata: bool) -> Callable[[str], object]:
        return lambda html: stages[metadata].process(Document(id="p", source="p", content_type="text/html", html=html))

    options = trafilatura_options(ExtractConfig())
    trees = [parse_html(cap_attributes(html)[0])[0] for html in htmls]
    for raw in raws:  # warm-up: lazy imports and compiled patterns on both sides
        trafilatura.extract(raw, **options)
        run_whole(raw)
    warm = interleaved({"whole": (raws[:2], run_whole)})["whole"] / 2
    print(f"{len(pages)} pages, {sum(map(len, raws)) / len(raws) / 1000:.0f} KB on average; CPU time of one process,"
          " the tools timed page by page in alternation")
    print(f"the whole pipeline's first two pages after setup: {1000 * (first[1] - first[0]):.0f} ms and"
          f" {1000 * (first[2] - first[1]):.0f} ms; the same pages warm: {1000 * warm:.0f} ms each")
    tools: dict[str, tuple[list[Any], Callable[[Any], object]]] = {
        "tamis extract stage": (htmls, run_stage(True)),
        "tamis extract stage, metadata: false": (htmls, run_stage(False)),
        "tamis default pipeline (whole, --jobs 1)": (raws, run_whole),
        "trafilatura.extract(html) defaults": (raws, trafilatura.extract),
        "trafilatura.extract, tamis's options": (raws, lambda raw: trafilatura.extract(raw, **options)),
    }
    spent = interleaved(tools)
    figures = {name: len(pages) / seconds for name, seconds in spent.items()}
    for name, value in figures.items():
        print(f"  {name:<44} {value:7.1f} pages/s")
    base = figures["trafilatura.extract(html) defaults"]
    whole_rate = figures["tamis default pipeline (whole, --jobs 1)"]
    print(f"ratio whole pipeline / trafilatura.extract defaults: {whole_rate / base:.2f} (target 0.90)")
    print(f"ratio extract stage / trafilatura.extract defaults: {figures['tamis extract stage'] / base:.2f}")
    print("the whole pipeline's time per stage (ms per page, CPU, each stage's `process` on one document):")
    split = stage_times(whole, raws)
    print("  " + "  ".join(f"{name} {1000 * seconds / len(raws):.1f}" for name, seconds in split.items()))
    if "languages" in split:  # the stage that decides the ratio besides extract: what the rest comes to
        rest = 1 / whole_rate - split["languages"] / len(raws)
        print(f"the whole pipeline less its languages stage (estimated from the split): {1 / rest:.1f} pages/s,"
              f" ratio {1 / rest / base:.2f}")
    print("where the extract stage's time goes (ms per page):")
    walked = [0.0]

    def main_text(tree: Any) -> None:
        result = trafilatura.bare_extraction(tree, **{**options, "with_metadata": False})
        if result is not None:
            start = time.process_time()
            with_title(tree_parts(result.body), None)
            walked[0] += time.process_time() - start

    parts: dict[str, tuple[list[Any], Callable[[Any], object]]] = {
        "decode (the stage before)": (raws, lambda raw: decode.process(
            Document(id="p", source="p", content_type="text/html", raw=raw))),
        "attribute cap": (htmls, cap_attributes),
        "parse": ([cap_attributes(html)[0] for html in htmls], parse_html),
        "metadata (stages.metadata)": (trees, lambda tree: page_metadata(tree, None)),
        "metadata (trafilatura extract_metadata)": (trees, extract_metadata),
        "main text (trafilatura, no metadata)": (trees, main_text),
    }
    spent = interleaved(parts)
    spent["main text (trafilatura, no metadata)"] -= walked[0]
    spent["tamis tree walk and title"] = walked[0]
    for name, seconds in spent.items():
        print(f"  {name:<44} {1000 * seconds / len(pages):7.2f}")
    print("metadata accuracy against what the pages declare (right / pages declaring it):")
    for tool, fields in accuracy(pages, trees).items():
        print(f"  {tool:<12} " + "  ".join(f"{f} {r}/{n} ({r / n:.0%})" for f, (r, n) in sorted(fields.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
