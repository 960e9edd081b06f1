"""Growth of the time per document with its size, on the inputs that used to take quadratic time, and the
cost of the per-document time limit on normal pages.

    .venv/bin/python bench/scaling.py [--sizes 1000,10000,100000,1000000] [--budget 60] [--articles DIR]

1. For each case, one document of each size (characters) through the code that used to be quadratic; the
   table gives seconds per document (the best of the runs that fit in one second) and, after each size, the
   factor from the size before: about 10 for every tenfold size is linear, about 100 quadratic. A size that
   runs past `--budget` is killed (and the larger ones skipped): a quadratic path at 1M characters runs for
   hours.
   - `dots`, `bangs`: a run of `.` or `!` in the sentence splitter;
   - `token+stops`: a long token, then many short sentences (`'x'*N + ' ' + ('y'*40 + '. A ')*K`);
   - `bullets`: one block of short bullet lines, removed together as a menu by `boilerplate`;
   - `attributes`: one HTML element with a huge number of attributes through `extract` (trafilatura).
2. The articles of `--articles` (default fixtures/articles) through the default pipeline without its
   translate stage, with and without `run.timeout`: milliseconds per document and the ratio (best of
   `--rounds`, alternating).
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import load_config  # noqa: E402
from pipeline.document import Block, Document  # noqa: E402
from pipeline.runner import Pipeline  # noqa: E402
from stages.boilerplate import Boilerplate, BoilerplateConfig  # noqa: E402
from stages.extract import Extract, ExtractConfig  # noqa: E402
from stages.sentences import split_sentences  # noqa: E402


def dots(n: int) -> str:
    return "Le texte commence ici. " + "." * n


def bangs(n: int) -> str:
    return "Le texte commence ici ! " + "!" * n


def token_stops(n: int) -> str:
    return "x" * (n // 2) + " " + ("y" * 40 + ". A ") * (n // 2 // 44)


def bullets(n: int) -> str:
    return "".join(f"• item {i}\n" for i in range(n // 10))


def attributes(n: int) -> str:
    attrs = " ".join(f'a{i}="v"' for i in range(n // 10))
    body = f"<div {attrs}><p>Un paragraphe assez long pour être gardé par l'extraction.</p></div>"
    return f"<html><body>{body}</body></html>"


def _boilerplate() -> Callable[[str], Any]:
    stage = Boilerplate(BoilerplateConfig(structure="on"))
    stage.setup()
    return lambda text: stage.process(Document(id="b", source="bench",
                                               blocks=[Block(kind="paragraph", text=text, index=0)]))


def _extract() -> Callable[[str], Any]:
    stage = Extract(ExtractConfig())
    stage.setup()
    return lambda html: stage.process(Document(id="h", source="bench", content_type="text/html", html=html))


CASES: list[tuple[str, Callable[[int], str], Callable[[], Callable[[str], Any]]]] = [
    ("dots", dots, lambda: split_sentences),
    ("bangs", bangs, lambda: split_sentences),
    ("token+stops", token_stops, lambda: split_sentences),
    ("bullets", bullets, _boilerplate),
    ("attributes", attributes, _extract),
]


def timed(case: int, size: int, budget: float) -> float | None:
    """Seconds one document of `size` takes in case number `case`, None past `budget`. Measured in a forked
    process that is killed at the budget: a quadratic path may sit in C code (lxml, `re`) where no signal
    handler runs, so nothing in-process could stop it."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_measure, args=(case, size, send), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(600) or receive.recv() != "ready" or not receive.poll(budget):
            return None
        seconds: float = receive.recv()
        return seconds
    finally:
        child.kill()
        child.join()


def _measure(case: int, size: int, send: Any) -> None:
    _, make, runner = CASES[case]
    run, text = runner(), make(size)
    run(make(100))  # first calls warm caches up (trafilatura's above all): not the growth being measured
    send.send("ready")
    best, spent, runs = float("inf"), 0.0, 0
    while runs == 0 or (spent < 1.0 and runs < 20):  # the best of the runs that fit in a second: less noise
        started = time.perf_counter()
        run(text)
        seconds = time.perf_counter() - started
        best, spent, runs = min(best, seconds), spent + seconds, runs + 1
    send.send(best)


def scaling(sizes: list[int], budget: float) -> None:
    print(f"{'case':<12}" + "".join(f"{size:>22,}" for size in sizes) + "   (seconds per document, ×growth)")
    for case, (name, _, _) in enumerate(CASES):
        cells: list[str] = []
        before: float | None = None
        stopped = False
        for size in sizes:
            seconds = None if stopped else timed(case, size, budget)
            if seconds is None:
                cells.append(f"{'skipped' if stopped else f'> {budget:g} s':>22}")
                stopped = True
                continue
            growth = f" ×{seconds / before:.0f}" if before else ""
            cells.append(f"{seconds:>14.4f}{growth:>8}")
            before = max(seconds, 1e-6)
        print(f"{name:<12}" + "".join(cells), flush=True)


def limit_cost(articles: Path, rounds: int, copies: int) -> None:
    config = load_config(None, ["pipeline=[decode, extract, repair, normalise, boilerplate, languages, dedupe]"])
    texts = [p.read_bytes() for p in sorted(articles.iterdir()) if p.suffix in (".txt", ".html")]
    with_limit = Pipeline.from_config(config)
    without = Pipeline.from_config(config)
    without.limits = dataclasses.replace(without.limits, timeout=None)
    best = {"with": float("inf"), "without": float("inf")}
    for _ in range(rounds):
        for label, pipe in (("with", with_limit), ("without", without)):
            docs = [Document(id=str(i), source=f"bench{i}", raw=texts[i % len(texts)]) for i in range(copies)]
            started = time.perf_counter()
            for start in range(0, len(docs), 32):
                pipe.process(docs[start : start + 32])
            best[label] = min(best[label], time.perf_counter() - started)
    per = {k: 1000 * v / copies for k, v in best.items()}
    print(f"\nrun.timeout on {copies} normal documents ({len(texts)} articles cycled), best of {rounds}: "
          f"{per['with']:.3f} ms/doc with the limit, {per['without']:.3f} ms/doc without, "
          f"ratio {per['with'] / per['without']:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds one measurement may take")
    parser.add_argument("--articles", type=Path, default=Path(__file__).resolve().parents[1] / "fixtures/articles")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=500)
    parser.add_argument("--skip-limit-cost", action="store_true")
    args = parser.parse_args()
    scaling([int(s) for s in args.sizes.split(",")], args.budget)
    if not args.skip_limit_cost:
        limit_cost(args.articles, args.rounds, args.copies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
