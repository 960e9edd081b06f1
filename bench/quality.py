"""Main-text quality of the tamis pipeline on an HTML evaluation set, from the HTML and from text dumps.

    python bench/quality.py /path/to/eval/html [--sets trafilatura,scrapinghub] [--limit N]
    python bench/quality.py /path/to/eval/html --ext /path/to/eval/ext --html-only [--save DIR]

With `--ext`, HTML input is scored in-process on the three HTML dev sets (trafilatura-set, scrapinghub-set and
ext) with the sets' own scorers (`score.py` of each directory, imported), strict and fold, for the whole set
and for two site-disjoint halves (a page's half is fixed by a hash of its site, the host name without
`www.`, or the publisher for ext's fundus pages), next to `trafilatura.extract` with tamis's own extract
options (text output, no metadata header). A rule that helps one half and hurts the other is tuning.
`--save DIR` writes each page's output (JSONL: id, text) for comparing two versions.

The set's own scorer (`score.py` in that directory, see its README) runs four times: HTML and text-dump
input, each with strict and `--fold` matching. The pipeline is decode → extract → repair → boilerplate →
normalise, leaving out the stages that are not installed; it is called in-process through `clean_file`.
The project never reads the evaluation data at run time: the directory is an argument.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
WANTED = ("decode", "extract", "repair", "boilerplate", "normalise")
_F1 = re.compile(r"^F1 trafilatura-set=(\S+) scrapinghub-set=(\S+)$", re.MULTILINE)
_pipeline: Any = None


def stage_names() -> list[str]:
    """The wanted stages that can be imported now (others may still be being written)."""
    from pipeline import registry

    names = []
    for name in WANTED:
        try:
            registry.get(name)
        except (ImportError, registry.RegistryError):
            continue
        names.append(name)
    return names


def clean_file(path: str) -> str:
    """The clean main text of one page (HTML or text dump), as `score.py --py` expects."""
    global _pipeline
    from pipeline import Document, Pipeline, load_config

    if _pipeline is None:
        _pipeline = Pipeline.from_config(load_config(None, [f"pipeline={json.dumps(stage_names())}"]))
    content_type = "text/html" if path.endswith((".html", ".htm")) else "text/plain"
    doc = Document(id=path, source=path, content_type=content_type, raw=Path(path).read_bytes())
    [out] = _pipeline.process([doc])
    return out.text if out.status == "ok" else ""


def score(eval_dir: Path, text_input: bool, fold: bool, extra: list[str]) -> tuple[str, str]:
    cmd = [sys.executable, "score.py", "--py", "bench.quality:clean_file", "--jobs", "1", "--bootstrap", "0",
           "--input", "text" if text_input else "html", *(["--fold"] if fold else []), *extra]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(cmd, cwd=eval_dir, env=env, capture_output=True, text=True, check=True)
    found = _F1.search(done.stdout)
    if found is None:
        raise RuntimeError(f"score.py printed no F1 line:\n{done.stdout}\n{done.stderr[-2000:]}")
    return found.group(1), found.group(2)


def _module(path: Path, name: str) -> Any:
    """An evaluation directory's `score.py`, imported under `name` (ext's imports html's as `html_score`)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = sys.modules[name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def site_half(case: Any) -> str:
    """`A` or `B`, fixed by the page's site: the two halves share no site."""
    site = getattr(case, "publisher", None) or (urlsplit(case.url).hostname or case.id).removeprefix("www.")
    return "AB"[hashlib.sha256(site.encode()).digest()[0] % 2]


def html_cases(html_dir: Path, ext_dir: Path | None) -> dict[str, list[Any]]:
    """The HTML dev cases by set, loaded by the sets' own scorers."""
    scorer = _module(html_dir / "score.py", "html_score")
    sets = {"trafilatura": scorer.load_trafilatura(html_dir)[0], "scrapinghub": scorer.load_scrapinghub(html_dir)[0]}
    if ext_dir is not None:
        ext = _module(ext_dir / "score.py", "ext_score")
        publishers = {c["id"]: c.get("publisher") for c in json.loads((ext_dir / "cases.json").read_text("utf-8"))}
        sets["ext"] = ext.load_cases(ext_dir, "html")[0]
        for case in sets["ext"]:
            case.publisher = publishers.get(case.id)
    return sets


def tamis_text(raw: bytes, name: str) -> str:
    """The clean main text of one HTML page through the quality pipeline."""
    global _pipeline
    from pipeline import Document, Pipeline, load_config

    if _pipeline is None:
        _pipeline = Pipeline.from_config(load_config(None, [f"pipeline={json.dumps(stage_names())}"]))
    [out] = _pipeline.process([Document(id=name, source=name, content_type="text/html", raw=raw)])
    return str(out.text) if out.status == "ok" else ""


def trafilatura_text(raw: bytes, name: str) -> str:
    """`trafilatura.extract` with tamis's extract options, as text (no metadata header)."""
    import trafilatura

    from stages.extract import ExtractConfig, trafilatura_options

    options = {**trafilatura_options(ExtractConfig()), "output_format": "txt", "with_metadata": False}
    return trafilatura.extract(raw, **options) or ""


def set_f1(scorer: Any, name: str, cases: list[Any], texts: dict[str, str], fold: bool) -> float:
    """The set's own F1 of `texts` over `cases` (the trafilatura-set's snippets, else 4-gram shingles)."""
    scorer._FOLD = fold
    try:
        for case in cases:
            case.text = scorer.norm(texts[case.id]) if fold and name != "trafilatura" else texts[case.id]
        if name == "trafilatura":
            return float(scorer.score_trafilatura(cases)["f1"])
        if fold and name == "ext":
            for case in cases:
                case.fold_gold = getattr(case, "fold_gold", None) or scorer.norm(case.gold)
            saved = [case.gold for case in cases]
            for case in cases:
                case.gold = case.fold_gold
            try:
                return float(scorer.score_scrapinghub(cases, 4, 0)["f1"])
            finally:
                for case, gold in zip(cases, saved, strict=True):
                    case.gold = gold
        return float(scorer.score_scrapinghub(cases, 4, 0)["f1"])
    finally:
        scorer._FOLD = False


def html_report(html_dir: Path, ext_dir: Path | None, save: Path | None) -> None:
    """Print F1 of tamis and of trafilatura (tamis's options) per HTML dev set and site-disjoint half."""
    scorer = _module(html_dir / "score.py", "html_score")
    print(f"HTML input; pipeline: {' → '.join(stage_names())}; trafilatura: extract() with tamis's options")
    print(f"{'set':<12} {'part':<5} {'pages':>5}  {'tamis strict':>12} {'fold':>6}  {'trafilatura strict':>18} "
          f"{'fold':>6}  {'diff strict':>11} {'fold':>6}")
    for name, cases in html_cases(html_dir, ext_dir).items():
        outputs: dict[str, dict[str, str]] = {"tamis": {}, "trafilatura": {}}
        for case in cases:
            raw = scorer.read_html_bytes(case.src)
            outputs["tamis"][case.id] = tamis_text(raw, case.name)
            outputs["trafilatura"][case.id] = trafilatura_text(raw, case.name)
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            with (save / f"{name}.jsonl").open("w", encoding="utf-8") as out:
                for case in cases:
                    out.write(json.dumps({"id": case.id, "half": site_half(case), "text": outputs["tamis"][case.id]},
                                         ensure_ascii=False) + "\n")
        for part in ("all", "A", "B"):
            chosen = [c for c in cases if part == "all" or site_half(c) == part]
            f1 = {(tool, fold): set_f1(scorer, name, chosen, texts, fold)
                  for tool, texts in outputs.items() for fold in (False, True)}
            print(f"{name:<12} {part:<5} {len(chosen):>5}  {f1['tamis', False]:>12.4f} {f1['tamis', True]:>6.4f}  "
                  f"{f1['trafilatura', False]:>18.4f} {f1['trafilatura', True]:>6.4f}  "
                  f"{f1['tamis', False] - f1['trafilatura', False]:>+11.4f} "
                  f"{f1['tamis', True] - f1['trafilatura', True]:>+6.4f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("eval_dir", type=Path, help="directory holding score.py, e.g. .../eval/html")
    parser.add_argument("--sets", help="passed to score.py (trafilatura,scrapinghub)")
    parser.add_argument("--limit", type=int, help="passed to score.py: first N cases of each set")
    parser.add_argument("--ext", type=Path, help="the ext dev set (cases.json, score.py): HTML scored in-process")
    parser.add_argument("--html-only", action="store_true", help="leave out the text-dump input")
    parser.add_argument("--save", type=Path, help="with --ext: write each page's tamis output to DIR/<set>.jsonl")
    args = parser.parse_args(argv)
    if not (args.eval_dir / "score.py").is_file():
        parser.error(f"{args.eval_dir}: no score.py there")
    if args.ext is not None:
        html_report(args.eval_dir, args.ext, args.save)
        if args.html_only:
            return 0
    extra = [*(["--sets", args.sets] if args.sets else []), *(["--limit", str(args.limit)] if args.limit else [])]
    print(f"pipeline: {' → '.join(stage_names())}")
    print(f"{'input':<6} {'match':<7} {'trafilatura-set F1':>19} {'scrapinghub-set F1':>19}")
    for text_input in (False, True):
        for fold in (False, True):
            tf, sh = score(args.eval_dir, text_input, fold, extra)
            kind, match = "text" if text_input else "html", "fold" if fold else "strict"
            print(f"{kind:<6} {match:<7} {tf:>19} {sh:>19}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
