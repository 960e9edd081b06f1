"""Translation speed on one Argos-sized model: the tamis stage vs raw CTranslate2 vs argostranslate per text.

    .venv/bin/python bench/translate.py /work/shared/eval/mixed [--segments 100] [--beam 2] [--repeat 3]

No real model can be downloaded here, so the model is built: 6+6 layers, d_model 512, 8 heads, FFN 2048,
a 32,000-token vocabulary, random weights, int8 — the shape and size of Argos's own packages. Its
SentencePiece model is trained on the eval texts (it comes out smaller than 32,000 pieces; the rest of the
vocabulary is filler). The end-of-sentence logit is pushed far down, so every sentence decodes exactly
`--tokens` tokens on all three paths: the work is the same, only the way it is done differs.

Segments are the paragraphs of the eval set's `docs.jsonl` (only `text` is read; the model is random, so
their language does not matter, only their length), distinct, split into sentences by `stages.sentences`
on every path. int8 and the thread count (`--threads`) are the same on the first four paths; tamis and raw
CTranslate2 use `--beam` (default: the stage's, 2), argostranslate its own (4), and tamis is also timed at
beam 4:
- **tamis**: the `translate` stage's `process_batch`, 32 one-segment documents at a time;
- **ctranslate2**: one `translate_batch` over every sentence, `max_batch_size` 32 sentences;
- **argostranslate**: `apply_packaged_translation` once per segment (what `translate()` does per text)
  with Argos's own batch setting (32 tokens); its sentence splitter, which would download a model, is
  replaced by `stages.sentences`, and its translator is wrapped only to pass the fixed output length.
Then the whole machine, each tool with its own defaults, as a user would run it:
- **tamis_all_cores**: the stage as `tamis run` runs it, one worker process per core (one CTranslate2
  thread each), worker start-up included;
- **argostranslate_own_threads**: the per-text path with Argos's own thread settings (`ARGOS_INTER_THREADS`
  1, `ARGOS_INTRA_THREADS` 0: CTranslate2 chooses).
Model loading and argostranslate's import are not timed otherwise. The paths run `--repeat` times, interleaved,
and the fastest run of each counts (the machine may be shared). Prints figures and ratios, writes JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from argostranslate import settings as argos_settings  # noqa: E402 - cheap: no stanza, torch or spaCy

from pipeline import runner  # noqa: E402
from pipeline.config import PipelineConfig, RunConfig, StageSpec  # noqa: E402
from pipeline.document import Block, Document, Segment  # noqa: E402
from stages.sentences import split_sentences  # noqa: E402
from stages.translate import models  # noqa: E402
from stages.translate.stage import LENGTH_PENALTY, Translate, TranslateConfig  # noqa: E402
from tests import tinymodels  # noqa: E402

ARGOS_SHAPE = tinymodels.Shape(layers=6, d_model=512, heads=8, ffn=2048, vocab_size=32_000, eos_bias=-1e4)
BATCH = TranslateConfig().batch_size  # the stage's default
ARGOS_BEAM = argos_settings.beam_size  # what argostranslate's translate() uses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("eval_dir", type=Path, help="directory with docs.jsonl (e.g. ../shared/eval/mixed)")
    parser.add_argument("--segments", type=int, default=100, help="distinct paragraphs to translate")
    parser.add_argument("--tokens", type=int, default=32, help="output length of every sentence")
    parser.add_argument("--threads", type=int, default=1, help="CTranslate2 intra-op threads, on every path")
    parser.add_argument("--beam", type=int, default=TranslateConfig().beam_size,
                        help="beam size of tamis and raw CTranslate2 (default: the stage's)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per path, interleaved; the fastest counts")
    parser.add_argument("--out", type=Path, default=Path("out/bench-translate.json"))
    args = parser.parse_args()

    texts = [json.loads(line)["text"] for line in (args.eval_dir / "docs.jsonl").open(encoding="utf-8")]
    paragraphs = list(dict.fromkeys(p.strip() for t in texts for p in t.split("\n\n") if p.strip()))
    segments = paragraphs[: args.segments]
    sentences = [s for segment in segments for s in _sentences(segment)]
    with tempfile.TemporaryDirectory() as work:
        started = time.perf_counter()
        archive = tinymodels.build_package(Path(work), "de", "fr", seed=0, shape=ARGOS_SHAPE,
                                           lines=tuple(paragraphs), quantization="int8")
        models.install(archive, directory=Path(work) / "models")
        [model] = models.installed(Path(work) / "models")
        jobs = runner.resolve_jobs(0)
        print(f"built and installed an Argos-sized model in {time.perf_counter() - started:.1f} s")
        print(f"{len(segments)} segments, {len(sentences)} sentences, {args.tokens} output tokens each, int8, "
              f"{args.threads} thread(s); beam {args.beam} (tamis, ctranslate2), {ARGOS_BEAM} (argostranslate)")
        paths: dict[str, Callable[[], float]] = {
            "tamis": lambda: _tamis(model, segments, args.tokens, args.threads, args.beam),
            "tamis_at_argos_beam": lambda: _tamis(model, segments, args.tokens, args.threads, ARGOS_BEAM),
            "ctranslate2": lambda: _ctranslate2(model, sentences, args.tokens, args.threads, args.beam),
            "argostranslate": lambda: _argostranslate(model, segments, args.tokens, 1, args.threads),
            "tamis_all_cores": lambda: _tamis_all_cores(model, segments, args.tokens, args.beam, jobs),
            "argostranslate_own_threads": lambda: _argostranslate(model, segments, args.tokens,
                                                                  argos_settings.inter_threads,
                                                                  argos_settings.intra_threads),
        }
        runs: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(args.repeat):  # interleaved, so a burst of load elsewhere does not favour one path
            for name, run in paths.items():
                runs[name].append(run())
                print(f"  {name}: {runs[name][-1]:.2f} s", flush=True)
    speed = {name: len(sentences) / min(seconds) for name, seconds in runs.items()}
    for name in paths:
        print(f"{name:>20}: {min(runs[name]):8.2f} s  {speed[name]:8.2f} sentences/s")
    ratios = {
        "tamis_vs_ctranslate2": round(speed["tamis"] / speed["ctranslate2"], 3),
        "tamis_vs_argostranslate": round(speed["tamis"] / speed["argostranslate"], 2),
        "tamis_at_argos_beam_vs_argostranslate": round(speed["tamis_at_argos_beam"] / speed["argostranslate"], 2),
        "all_cores_vs_argostranslate_own_threads": round(speed["tamis_all_cores"]
                                                         / speed["argostranslate_own_threads"], 2),
    }
    print(f"tamis / ctranslate2 = {ratios['tamis_vs_ctranslate2']:.3f}x (target >= 0.9x); "
          f"tamis / argostranslate = {ratios['tamis_vs_argostranslate']:.1f}x (target >= 10x); "
          f"at Argos's beam {ARGOS_BEAM}: {ratios['tamis_at_argos_beam_vs_argostranslate']:.1f}x")
    print(f"whole machine ({jobs} cores), each with its own defaults: tamis run / argostranslate per text = "
          f"{ratios['all_cores_vs_argostranslate_own_threads']:.1f}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"segments": len(segments), "cores": jobs, "sentences": len(sentences), "output_tokens": args.tokens,
              "beam_size": args.beam, "argos_beam_size": ARGOS_BEAM, "threads": args.threads, "compute_type": "int8",
              "shape": dataclasses.asdict(ARGOS_SHAPE), "seconds": runs,
              "sentences_per_second": {k: round(v, 2) for k, v in speed.items()}, "ratios": ratios}
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


def _sentences(text: str) -> list[str]:
    """As the stage splits a segment: `stages.sentences`, whitespace collapsed."""
    return [" ".join(text[s.start : s.end].split()) for s in split_sentences(text)]


def _tamis(model: models.Model, segments: list[str], tokens: int, threads: int, beam: int) -> float:
    """Seconds for the stage's `process_batch` over every segment, 32 one-segment documents at a time,
    with a fresh stage (an empty cache) whose model is loaded before the clock starts."""
    stage = Translate(TranslateConfig(models_dir=str(model.path.parent), beam_size=beam, compute_type="int8",
                                      threads=threads, batch_size=BATCH, max_decoding_length=tokens))
    stage.setup()
    stage.process(_document("warm-up", "Laden des Modells."))
    docs = [_document(str(i), segment) for i, segment in enumerate(segments)]
    started = time.perf_counter()
    for i in range(0, len(docs), BATCH):
        stage.process_batch(docs[i : i + BATCH])
    seconds = time.perf_counter() - started
    assert all(d.blocks[0].segments[0].translation is not None for d in docs)
    return seconds


def _tamis_all_cores(model: models.Model, segments: list[str], tokens: int, beam: int, jobs: int) -> float:
    """Seconds for the stage as `tamis run` runs it on the whole machine: `jobs` worker processes, one
    CTranslate2 thread each, 32 documents a batch. Worker start-up (imports, model loading) is timed."""
    stage = TranslateConfig(models_dir=str(model.path.parent), beam_size=beam, compute_type="int8", threads=1,
                            batch_size=BATCH, max_decoding_length=tokens)
    config = PipelineConfig(stages=(StageSpec(instance="translate", stage="translate", cls=Translate, config=stage),),
                            run=RunConfig(jobs=jobs, batch_size=BATCH), source="bench")
    docs = [_document(str(i), segment) for i, segment in enumerate(segments)]
    started = time.perf_counter()
    out = [doc for batch, _ in runner.process_stream(config, docs, jobs) for doc in batch]
    seconds = time.perf_counter() - started
    records = [json.loads(record.data) for record in out]  # a JSONL run: workers send encoded records
    assert all(r["status"] == "ok" and r["blocks"][0]["segments"][0]["translation"] for r in records), "untranslated"
    return seconds


def _document(doc_id: str, segment: str) -> Document:
    block = Block(kind="paragraph", text=segment, index=0,
                  segments=[Segment(start=0, end=len(segment), lang="de", action="translate")])
    return Document(id=doc_id, source="bench", blocks=[block], lang="fr")


def _ctranslate2(model: models.Model, sentences: list[str], tokens: int, threads: int, beam: int) -> float:
    """Seconds for tokenising, one `translate_batch` over every sentence, and detokenising."""
    import ctranslate2
    import sentencepiece

    translator = ctranslate2.Translator(str(model.path / "model"), device="cpu", compute_type="int8",
                                        inter_threads=1, intra_threads=threads)
    sp = sentencepiece.SentencePieceProcessor(model_file=str(model.path / "sentencepiece.model"))
    started = time.perf_counter()
    results = translator.translate_batch(sp.encode(sentences, out_type=str), beam_size=beam,
                                         max_batch_size=BATCH, max_decoding_length=tokens,
                                         replace_unknowns=True, length_penalty=LENGTH_PENALTY)
    sp.decode([r.hypotheses[0] for r in results])
    seconds = time.perf_counter() - started
    lengths = {len(r.hypotheses[0]) for r in results}
    assert lengths == {tokens}, f"output lengths vary: {sorted(lengths)}"
    return seconds


class _FixedLength:
    """argostranslate's translator with the bench's fixed output length; nothing else changes."""

    def __init__(self, translator: Any, tokens: int) -> None:
        self.translator = translator
        self.tokens = tokens

    def translate_batch(self, *args: Any, **kwargs: Any) -> Any:
        return self.translator.translate_batch(*args, max_decoding_length=self.tokens, **kwargs)


class _OfflineSplitter:
    """argostranslate's sentence-splitter interface over `stages.sentences`, which needs no download."""

    def split_sentences(self, text: str) -> list[str]:
        return _sentences(text)


def _argostranslate(model: models.Model, segments: list[str], tokens: int, inter_threads: int,
                    intra_threads: int) -> float:
    """Seconds for argostranslate's `apply_packaged_translation`, once per segment, as `translate()` runs
    (its own threads: `ARGOS_INTER_THREADS`, `ARGOS_INTRA_THREADS`; 0 lets CTranslate2 choose)."""
    import ctranslate2
    from argostranslate import package, translate

    pkg = package.Package(model.path)
    translator = ctranslate2.Translator(str(model.path / "model"), device="cpu", compute_type="int8",
                                        inter_threads=inter_threads, intra_threads=intra_threads)
    fixed, splitter = _FixedLength(translator, tokens), _OfflineSplitter()
    translate.apply_packaged_translation(pkg, "Laden des Modells.", fixed, splitter, 1)  # warm-up, untimed
    started = time.perf_counter()
    for segment in segments:
        translate.apply_packaged_translation(pkg, segment, fixed, splitter, 1)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
