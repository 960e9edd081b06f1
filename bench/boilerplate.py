"""Speed of the boilerplate stage on ~3 KB articles, and of extract (HTML) against trafilatura alone.

    python bench/boilerplate.py [HTML_DIR]

Boilerplate: the seed articles in fixtures/articles, extracted once, processed repeatedly on one core
(documents per second). Extract: every `*.html` / `*.html.gz` page of HTML_DIR (e.g. an evaluation set's
html folder), through the extract stage and through `trafilatura.extract` with the same options; the
ratio is extract time over trafilatura time.
"""

from __future__ import annotations

import copy
import gzip
import sys
import time
from pathlib import Path

from pipeline.document import Document
from stages.boilerplate import Boilerplate, BoilerplateConfig
from stages.extract import Extract, ExtractConfig, split_paragraphs

ROOT = Path(__file__).resolve().parent.parent


def boilerplate_rate(seconds: float = 3.0) -> float:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures/articles").glob("*.txt"))]
    docs = [Document(id=str(i), source="bench", blocks=split_paragraphs(t)) for i, t in enumerate(texts)]
    stage = Boilerplate(BoilerplateConfig())
    stage.setup()
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for doc in docs:
            stage.process(copy.deepcopy(doc))
        done += len(docs)
    return done / (time.perf_counter() - started)


def extract_ratio(html_dir: Path) -> tuple[int, float, float]:
    import trafilatura

    pages = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") if p.suffix == ".gz"
             else p.read_text(encoding="utf-8", errors="replace") for p in sorted(html_dir.glob("*.htm*"))]
    stage = Extract(ExtractConfig())
    stage.setup()
    started = time.perf_counter()
    for html in pages:
        stage.process(Document(id="p", source="p", content_type="text/html", html=html))
    ours = time.perf_counter() - started
    started = time.perf_counter()
    for html in pages:
        trafilatura.extract(html, output_format="xml", with_metadata=True, include_comments=False)
    theirs = time.perf_counter() - started
    return len(pages), ours, theirs


def main() -> int:
    texts = list((ROOT / "fixtures/articles").glob("*.txt"))
    size = sum(p.stat().st_size for p in texts) / len(texts)
    print(f"boilerplate: {boilerplate_rate():.0f} docs/s on one core (articles of {size / 1000:.1f} KB on average, "
          f"including a deep copy per document)")
    if len(sys.argv) > 1:
        n, ours, theirs = extract_ratio(Path(sys.argv[1]))
        print(f"extract: {n} pages, {ours:.2f} s; trafilatura.extract(xml, metadata): {theirs:.2f} s; "
              f"ratio {ours / theirs:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
