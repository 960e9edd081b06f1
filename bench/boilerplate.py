"""Speed of the boilerplate stage on ~3 KB articles, and of extract (HTML) against trafilatura alone.

    python bench/boilerplate.py [HTML_DIR] [--parts TEXT_DIR]

Times are CPU seconds of this process (`time.process_time`), which a busy shared machine disturbs far less
than wall-clock time. Boilerplate: the seed articles in fixtures/articles, extracted once, processed
repeatedly on one core (documents per second). Extract: every `*.html` / `*.html.gz` page of HTML_DIR (e.g.
an evaluation set's html folder), through the extract stage and through `trafilatura.extract` with the
same options (`stages.extract.trafilatura_options`); the ratio is extract time over trafilatura time. One
untimed pass of trafilatura over the pages comes first: its lazy start-up (dateparser compiles its locale
patterns on the first dates it meets, about a second) would otherwise be charged to whichever side runs
first.
`--parts TEXT_DIR` (e.g. the `text` folder that `bench/corpus.py --out` writes): the documents of TEXT_DIR are
decoded, extracted and repaired once, then boilerplate runs over them in batches of 32 (as the runner does),
best of three, with CPU timers around its parts (the document's line features, the phrase rules and of them
the rule scan, the article's span, the structure walk, rebuilding the blocks): ms per document each.
"""

from __future__ import annotations

import argparse
import gzip
import pickle
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def boilerplate_parts(text_dir: Path) -> dict[str, float]:
    """CPU ms per document of boilerplate's parts over the documents of `text_dir` (see the module's doc)."""
    from pipeline import config
    from pipeline.runner import Pipeline
    from stages import boilerplate, rulebook

    cfg = config.load(None, ["pipeline=[decode, extract, repair]"])
    before = Pipeline([s.cls(s.config) for s in cfg.stages], names=[s.instance for s in cfg.stages])
    before.setup()
    files = sorted(text_dir.rglob("*.txt"))
    blob = pickle.dumps(before.process([Document(id=f.name, source=str(f), raw=f.read_bytes()) for f in files]))
    stage = Boilerplate(BoilerplateConfig())
    stage.setup()
    spent: dict[str, float] = defaultdict(float)
    timed = [(boilerplate, "_Lines", "lines"), (Boilerplate, "_phrase_rules", "phrase rules"),
             (rulebook.Matcher, "scan", "  of which the rule scan"), (boilerplate, "_main_span", "article span"),
             (Boilerplate, "_structure", "structure"), (Boilerplate, "_apply", "apply")]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in timed]

    def timer(call: Callable[..., Any], part: str) -> Callable[..., Any]:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return call(*args, **kwargs)
            finally:
                spent[part] += time.process_time() - started
        return timed_call

    best: dict[str, float] = {}
    try:
        for (owner, name, call), (_, _, part) in zip(originals, timed, strict=True):
            setattr(owner, name, timer(call, part))
        for _ in range(3):
            docs = pickle.loads(blob)
            spent.clear()
            started = time.process_time()
            for i in range(0, len(docs), 32):
                stage.process_batch(docs[i : i + 32])
            spent["whole stage"] = time.process_time() - started
            if not best or spent["whole stage"] < best["whole stage"]:
                best = dict(spent)
    finally:
        for owner, name, call in originals:
            setattr(owner, name, call)
    return {part: 1000 * best.get(part, 0.0) / len(files) for part in [*(part for _, _, part in timed), "whole stage"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("html_dir", nargs="?", type=Path)
    parser.add_argument("--parts", type=Path, metavar="TEXT_DIR")
    args = parser.parse_args()
    texts = list((ROOT / "fixtures/articles").glob("*.txt"))
    size = sum(p.stat().st_size for p in texts) / len(texts)
    print(f"boilerplate: {boilerplate_rate():.0f} docs/s on one core (articles of {size / 1000:.1f} KB on average)")
    if args.html_dir is not None:
        n, ours, theirs = extract_ratio(args.html_dir)
        print(f"extract: {n} pages, {ours:.2f} s; trafilatura.extract (same options): {theirs:.2f} s; "
              f"ratio {ours / theirs:.3f}")
    if args.parts is not None:
        for part, ms in boilerplate_parts(args.parts).items():
            print(f"boilerplate {part}: {ms:.3f} ms/doc")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
