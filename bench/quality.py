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

    python bench/quality.py /path/to/eval/html --ext /path/to/eval/ext [--rules] [--structure]

The text-dump part also runs in-process, scored with the same `score.py` functions, per set (trafilatura,
scrapinghub, and ext when `--ext` is given), strict and `--fold`, on all pages and on two site-disjoint
halves (by registered domain: a rule that helps one half and hurts the other is tuned, not general).
`--rules` adds, per rule, how many lines it removed from the text dumps and how many of them were gold text
(a line of 12+ characters found in the gold, or holding or held by a "with" snippet): its precision.
`--structure` compares the structure recovered from each dump with that of the same page's HTML (the
`heading` blocks extract gives from trafilatura's `<head>` elements, and the page title): precision and
recall of heading lines, and the share of dumps whose title is right.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
WANTED = ("decode", "extract", "repair", "boilerplate", "normalise", "dedupe")
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
    """`A` or `B`, fixed by the page's registered domain (`half`), as the text-dump report splits them: the
    two halves share no site."""
    return "AB"[half(case.url or f"https://{case.id}.invalid/")]


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
    parser.add_argument("--ext", type=Path, help="the ext dev set (cases.json, text/, score.py): HTML and text "
                        "dumps scored in-process")
    parser.add_argument("--rules", action="store_true", help="per-rule removals and gold text removed (text dumps)")
    parser.add_argument("--structure", action="store_true", help="headings and titles of dumps against the HTML")
    parser.add_argument("--text-only", action="store_true", help="only the text-dump report (in-process)")
    parser.add_argument("--html-only", action="store_true", help="with --ext: only the HTML report (in-process)")
    parser.add_argument("--save", type=Path, help="with --ext: write each page's tamis output to DIR/<set>.jsonl")
    args = parser.parse_args(argv)
    if not (args.eval_dir / "score.py").is_file():
        parser.error(f"{args.eval_dir}: no score.py there")
    if args.text_only:
        return text_report(args.eval_dir, args.ext, args.rules, args.structure, args.limit)
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
    return text_report(args.eval_dir, args.ext, args.rules, args.structure, args.limit)


# ---------------------------------------------------------------------------------------------- text dumps


def _scorer(eval_dir: Path) -> Any:
    """The set's `score.py` as a module (its loaders and metrics; nothing re-implemented here)."""
    spec = importlib.util.spec_from_file_location("html_score", eval_dir / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["html_score"] = module
    spec.loader.exec_module(module)
    return module


def half(url: str | None) -> int:
    """The site-disjoint half of a page: by a hash of its registered domain (last two labels, three under
    co./com./org./gov./ac.)."""
    labels = urlparse(url or "none.none").netloc.lower().removeprefix("www.").split(".")
    keep = 3 if len(labels) > 2 and labels[-2] in ("co", "com", "org", "gov", "ac") else 2
    return int(hashlib.sha256(".".join(labels[-keep:]).encode()).hexdigest(), 16) % 2


def dev_cases(S: Any, eval_dir: Path, ext: Path | None, limit: int | None) -> dict[str, list[Any]]:
    """The text-dump cases of each set, as `score.py` Cases (ext's gold text in `gold`, its HTML in `src`)."""
    sets = {"trafilatura": S.load_trafilatura(eval_dir, input_="text")[0],
            "scrapinghub": S.load_scrapinghub(eval_dir, input_="text")[0]}
    if ext is not None:
        sets["ext"] = [S.Case("ext", c["id"], ext / c["file"], c["id"] + ".txt", url=c.get("url") or "",
                              gold=c["text"], lang=c.get("lang"), txt=ext / "text" / f"{c['id']}.txt")
                       for c in json.loads((ext / "cases.json").read_text(encoding="utf-8"))]
    return {name: cases[:limit] if limit else cases for name, cases in sets.items()}


def _run(pipeline: Any, data: bytes, content_type: str) -> Any:
    from pipeline import Document

    [out] = pipeline.process([Document(id="page", source="page", content_type=content_type, raw=data)])
    return out


def text_report(eval_dir: Path, ext: Path | None, rules: bool, structure: bool, limit: int | None) -> int:
    from pipeline import Pipeline, load_config

    S = _scorer(eval_dir)
    sets = dev_cases(S, eval_dir, ext, limit)
    pipeline = Pipeline.from_config(load_config(None, [f"pipeline={json.dumps(stage_names())}"]))
    docs: dict[str, Any] = {}
    for cases in sets.values():
        for case in cases:
            docs[case.id] = out = _run(pipeline, case.txt.read_bytes(), "text/plain")
            case.text = out.text if out.status == "ok" else ""
    print("\ntext dumps, in-process; F1 on all pages [half A | half B] (site-disjoint halves)")
    for fold in (False, True):
        S._FOLD = fold
        row = []
        for name, cases in sets.items():
            scores = [_f1(S, name, [c for c in cases if part is None or half(c.url) == part]) for part in (None, 0, 1)]
            row.append(f"{name} {scores[0]:.4f} [{scores[1]:.4f} | {scores[2]:.4f}]")
        print(f"  {'fold' if fold else 'strict':<7} " + "   ".join(row), flush=True)
    if rules:
        rule_report(S, sets, docs)
    if structure:
        structure_report(sets, docs)
    return 0


def _f1(S: Any, name: str, cases: list[Any]) -> float:
    if not cases:
        return float("nan")
    result = S.score_trafilatura(cases) if name == "trafilatura" else S.score_scrapinghub(cases, 4, 0)
    return float(result["f1"])


def _gold_line(S: Any, case: Any, gold: str, line: str) -> bool:
    """Whether a removed line is article text by the gold (lines under 12 characters are not judged)."""
    text = S.norm(line)
    if len(text) < 12:
        return False
    if case.set == "trafilatura":
        return any(S.norm(w) in text or text in S.norm(w) for w in case.with_)
    return text in gold


def rule_report(S: Any, sets: dict[str, list[Any]], docs: dict[str, Any]) -> None:
    """Per rule and set: lines removed, gold lines among them, their words, and the rule's precision."""
    S._FOLD = False
    counts: dict[str, Counter[str]] = {}
    for name, cases in sets.items():
        for case in cases:
            gold = S.norm(case.gold)
            for removal in docs[case.id].removed:
                for line in removal.text.split("\n"):
                    found = _gold_line(S, case, gold, line)
                    c = counts.setdefault(removal.rule, Counter())
                    c["lines"] += 1
                    c[f"{name}:lines"] += 1
                    c["gold"] += found
                    c[f"{name}:gold"] += found
                    c["gold words"] += len(line.split()) if found else 0
    names = list(sets)
    print("\nper rule on the text dumps: lines removed / gold lines among them (precision = 1 - gold/lines)")
    print(f"  {'rule':<28} {'lines':>6} {'gold':>5} {'words':>6} {'precision':>9}  " +
          "  ".join(f"{n[:11]:>11}" for n in names))
    for rule, c in sorted(counts.items(), key=lambda kv: (-kv[1]["gold words"], -kv[1]["lines"])):
        per_set = "  ".join(f"{c[f'{n}:gold']:>4}/{c[f'{n}:lines']:<6}" for n in names)
        print(f"  {rule:<28} {c['lines']:>6} {c['gold']:>5} {c['gold words']:>6} "
              f"{1 - c['gold'] / c['lines']:>9.4f}  {per_set}")


def structure_report(sets: dict[str, list[Any]], docs: dict[str, Any]) -> None:
    """Heading lines and titles recovered from the dumps against those of the same page's HTML."""
    from pipeline import Pipeline, load_config
    from stages.text import key

    html = Pipeline.from_config(load_config(None, ['pipeline=["decode", "extract"]']))
    print("\nstructure of the dumps against the HTML (trafilatura's <head> elements and page title)")
    for name, cases in sets.items():
        found = wanted = right = hits = titled = titles = 0
        for case in cases:
            if case.src is None or not case.src.is_file():
                continue
            page = _run(html, _read(case.src), "text/html")
            truth = {key(b.text) for b in page.blocks if b.kind == "heading"} - {""}
            ours = {key(b.text) for b in docs[case.id].blocks if b.kind == "heading"} - {""}
            found, wanted, hits = found + len(ours), wanted + len(truth), hits + len(ours & truth)
            title = page.metadata.title
            if title:
                titles += 1
                mine = next((b.text for b in docs[case.id].blocks if b.kind == "title"), None)
                titled += mine is not None
                right += mine is not None and _same_title(key(mine), key(title))
        print(f"  {name:<12} headings: precision {hits / max(found, 1):.4f} ({hits}/{found}) recall "
              f"{hits / max(wanted, 1):.4f} ({hits}/{wanted});  titles: right {right}/{titles} = "
              f"{right / max(titles, 1):.4f} (a title block in {titled})")


def _same_title(ours: str, theirs: str) -> bool:
    """One title holds the other (a page title adds the site name; a headline may drop a kicker)."""
    return bool(ours and theirs) and (ours in theirs or theirs in ours)


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


if __name__ == "__main__":
    raise SystemExit(main())
