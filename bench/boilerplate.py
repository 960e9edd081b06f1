"""Speed of the boilerplate stage on ~3 KB articles, and of extract (HTML) against trafilatura alone.

    python bench/boilerplate.py [HTML_DIR]

Times are CPU seconds of this process (`time.process_time`), which a busy shared machine disturbs far less
than wall-clock time. Boilerplate: the seed articles in fixtures/articles, extracted once, processed
repeatedly on one core (documents per second). Extract: every `*.html` / `*.html.gz` page of HTML_DIR (e.g.
an evaluation set's html folder), through the extract stage and through `trafilatura.extract` with the
same options (`stages.extract.trafilatura_options`); the ratio is extract time over trafilatura time. One
untimed pass of trafilatura over the pages comes first: its lazy start-up (dateparser compiles its locale
patterns on the first dates it meets, about a second) would otherwise be charged to whichever side runs
first.
"""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

from pipeline.document import Document
from stages.boilerplate import Boilerplate, BoilerplateConfig
from stages.extract import Extract, ExtractConfig, split_paragraphs, trafilatura_options

ROOT = Path(__file__).resolve().parent.parent


def boilerplate_rate(seconds: float = 3.0) -> float:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures/articles").glob("*.txt"))]
    split = [split_paragraphs(t) for t in texts]
    stage = Boilerplate(BoilerplateConfig())
    stage.setup()
    done, started = 0, time.process_time()
    while time.process_time() - started < seconds:
        # The stage never changes a block in place, so a fresh document over the same blocks is a fair input.
        for blocks in split:
            stage.process(Document(id="b", source="bench", blocks=list(blocks)))
        done += len(split)
    return done / (time.process_time() - started)


def extract_ratio(html_dir: Path) -> tuple[int, float, float]:
    import trafilatura

    pages = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") if p.suffix == ".gz"
             else p.read_text(encoding="utf-8", errors="replace") for p in sorted(html_dir.glob("*.htm*"))]
    config = ExtractConfig()
    options = trafilatura_options(config)
    stage = Extract(config)
    stage.setup()
    for html in pages:
        trafilatura.extract(html, **options)
    started = time.process_time()
    for html in pages:
        stage.process(Document(id="p", source="p", content_type="text/html", html=html))
    ours = time.process_time() - started
    started = time.process_time()
    for html in pages:
        trafilatura.extract(html, **options)
    theirs = time.process_time() - started
    return len(pages), ours, theirs


def main() -> int:
    texts = list((ROOT / "fixtures/articles").glob("*.txt"))
    size = sum(p.stat().st_size for p in texts) / len(texts)
    print(f"boilerplate: {boilerplate_rate():.0f} docs/s on one core (articles of {size / 1000:.1f} KB on average)")
    if len(sys.argv) > 1:
        n, ours, theirs = extract_ratio(Path(sys.argv[1]))
        print(f"extract: {n} pages, {ours:.2f} s; trafilatura.extract (same options): {theirs:.2f} s; "
              f"ratio {ours / theirs:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
