"""The translate stage with real, tiny Argos packages (built by `tests.tinymodels`, installed by the real
installer): the output must be exactly what CTranslate2 computes, checked here with CTranslate2 itself."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from pipeline.config import build
from pipeline.document import Block, Document, Segment, Translation
from pipeline.errors import SetupError
from pipeline.runner import Pipeline
from stages.extract import split_paragraphs
from stages.translate import Translate, TranslateConfig, models
from tests import tinymodels
from tests.conftest import ARTICLES

# Seed 003: a French article whose standfirst is repeated in German, the French line right under it.
GERMAN = ["Nordkorea unterstützt Russland im Ukraine-Konflikt mit Truppen und Waffen.",
          "Neueste Entwicklungen und Verträge im Überblick."]
SEEDS = {("de", "fr"): 8, ("de", "en"): 2, ("en", "fr"): 1}


@pytest.fixture(scope="session")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`all`: de_fr, de_en, en_fr installed; `pivot`: de_en and en_fr only."""
    build = tmp_path_factory.mktemp("argosmodels")
    archives = {pair: tinymodels.build_package(build, *pair, seed=seed) for pair, seed in SEEDS.items()}
    out = {name: tmp_path_factory.mktemp(name) for name in ("all", "pivot")}
    for pair, archive in archives.items():
        models.install(archive, directory=out["all"])
        if pair != ("de", "fr"):
            models.install(archive, directory=out["pivot"])
    return out


def ctranslate2_output(package: Path, sentences: list[str], prefix: str = "") -> list[str]:
    """What Argos returns for `sentences` with CTranslate2 itself, argostranslate's own tokenizer classes
    (SentencePiece or Moses + BPE, as its `Package` picks them) and the stage's default decoding options,
    the target prefix left out. Argos decodes the prefix token with the rest and then removes the prefix
    from the text, which fails for `__fr__`-style prefixes because its SentencePiece decoding has turned `_`
    into spaces by then; the prefix token is left out before decoding here, which is what Argos means."""
    import ctranslate2
    from argostranslate.tokenizer import BPETokenizer, SentencePieceTokenizer

    meta = json.loads((package / "metadata.json").read_text(encoding="utf-8"))
    tokenizer = (SentencePieceTokenizer(package / "sentencepiece.model") if (package / "sentencepiece.model").exists()
                 else BPETokenizer(package / "bpe.model", meta["from_code"], meta["to_code"]))
    translator = ctranslate2.Translator(str(package / "model"), device="cpu", compute_type="int8")
    results = translator.translate_batch([tokenizer.encode(s) for s in sentences], beam_size=2,
                                         replace_unknowns=True, length_penalty=0.2,
                                         target_prefix=[[prefix]] * len(sentences) if prefix else None)
    outputs = []
    for result in results:
        tokens = result.hypotheses[0]
        assert not prefix or tokens[0] == prefix
        outputs.append(tokenizer.decode(tokens[1:] if prefix else tokens).strip())
    return outputs


def package_dir(directory: Path, source: str, target: str) -> Path:
    return directory / f"translate-{source}_{target}-1_0"


def seed_document(doc_id: str = "003") -> tuple[Document, Block]:
    """Seed 003 as `languages` leaves it: French, with the German line of one block marked `translate`."""
    path = next(ARTICLES.glob("003_*.txt"))
    blocks = split_paragraphs(path.read_text(encoding="utf-8"))
    block = next(b for b in blocks if b.text.startswith(GERMAN[0]))
    german_end = block.text.index("\n")
    block.segments = [Segment(start=0, end=german_end, lang="de", action="translate"),
                      Segment(start=german_end + 1, end=len(block.text), lang="fr")]
    return Document(id=doc_id, source=str(path), blocks=blocks, lang="fr"), block


def stage(directory: Path, **options: object) -> Translate:
    problems: list[str] = []
    config = build(TranslateConfig, {"models_dir": str(directory), **options}, "stages.translate", problems)
    assert problems == []
    translate = Translate(config)
    translate.setup()
    return translate


@pytest.mark.slow
def test_german_segment_is_replaced_by_the_ctranslate2_output(dirs: dict[str, Path]) -> None:
    doc, block = seed_document()
    original = block.text
    expected = " ".join(ctranslate2_output(package_dir(dirs["all"], "de", "fr"), GERMAN))
    [out] = Pipeline([stage(dirs["all"])]).process([doc])
    assert out.status == "ok"
    assert block.segments[0].translation == Translation(text=expected, source="de", target="fr",
                                                        package="de_fr@1.0", pivot=["de", "fr"])
    assert block.segments[1].translation is None
    assert block.text == original
    assert block.main_text() == expected + original[original.index("\n"):]
    assert expected in out.text and GERMAN[0] not in out.text


@pytest.mark.slow
def test_pivot_through_english_when_no_direct_package(dirs: dict[str, Path]) -> None:
    doc, block = seed_document()
    english = ctranslate2_output(package_dir(dirs["pivot"], "de", "en"), GERMAN)
    expected = " ".join(ctranslate2_output(package_dir(dirs["pivot"], "en", "fr"), english))
    stage(dirs["pivot"]).process(doc)
    assert block.segments[0].translation == Translation(text=expected, source="de", target="fr",
                                                        package="de_en@1.0+en_fr@1.0", pivot=["de", "en", "fr"])


@pytest.mark.slow
def test_the_package_target_prefix_is_forced_and_left_out(tmp_path: Path) -> None:
    archive = tinymodels.build_package(tmp_path, "de", "fr", seed=8, target_prefix="__fr__")
    models.install(archive, directory=tmp_path / "models")
    doc, block = seed_document()
    expected = ctranslate2_output(package_dir(tmp_path / "models", "de", "fr"), GERMAN, prefix="__fr__")
    stage(tmp_path / "models").process(doc)
    translation = block.segments[0].translation
    assert translation is not None and translation.text == " ".join(expected)


@pytest.mark.slow
def test_configured_target_overrides_the_main_language(dirs: dict[str, Path]) -> None:
    doc, block = seed_document()
    expected = " ".join(ctranslate2_output(package_dir(dirs["all"], "de", "en"), GERMAN))
    stage(dirs["all"], target="en").process(doc)
    translation = block.segments[0].translation
    assert translation is not None and (translation.text, translation.target) == (expected, "en")


@pytest.mark.slow
def test_repeated_sentences_are_translated_once_across_documents_and_batches(dirs: dict[str, Path]) -> None:
    translate = stage(dirs["all"])
    first, second, third = (seed_document(str(i)) for i in range(3))
    translate.process_batch([first[0], second[0]])
    assert (translate.counters["sentences"], translate.counters["cache_hits"]) == (4, 2)
    translate.process_batch([third[0]])
    assert (translate.counters["sentences"], translate.counters["cache_hits"]) == (6, 4)
    texts = {block.segments[0].translation.text for _, block in (first, second, third)}  # type: ignore[union-attr]
    assert len(texts) == 1


def foreign_document(doc_id: str, lang: str, texts: list[str], main: str | None = "fr") -> Document:
    """One block per text, each a single foreign segment marked `translate`."""
    blocks = [Block(kind="paragraph", text=t, index=i, segments=[Segment(start=0, end=len(t), lang=lang,
                                                                         action="translate")])
              for i, t in enumerate(texts)]
    return Document(id=doc_id, source="test", blocks=blocks, lang=main)


def test_missing_model_keeps_the_segment_with_one_warning_per_pair(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    translate = stage(tmp_path)
    docs = [foreign_document(str(i), "de", GERMAN) for i in range(2)]
    with caplog.at_level(logging.WARNING, logger="stages.translate"):
        out = translate.process_batch(docs)
    for doc in out:
        assert doc.text == "\n\n".join(GERMAN)
        assert [b.segments[0].translation for b in doc.blocks] == [
            Translation(text=t, source="de", target="fr", status="no-model") for t in GERMAN]
        assert len(doc.warnings) == 1
        assert doc.warnings[0].message.startswith("no model for de → fr: 2 segment(s) left untranslated")
        assert "tamis models download de fr" in doc.warnings[0].message
    assert translate.counters["no_model:de-fr"] == 4
    assert len(caplog.records) == 1


def test_on_missing_error_stops_at_setup_with_the_install_commands(tmp_path: Path) -> None:
    translate = Translate(TranslateConfig(models_dir=str(tmp_path), target="fr", on_missing="error"))
    with pytest.raises(SetupError) as info:
        translate.setup()
    assert str(info.value).startswith(f"translate: on_missing is error, and these pairs have no model in "
                                      f"{tmp_path}: de → fr, en → fr. Install them with `tamis models download "
                                      f"SOURCE TARGET`")


@pytest.mark.slow
def test_on_missing_error_accepts_a_pivot_and_fails_only_documents_of_unchecked_pairs(
        dirs: dict[str, Path]) -> None:
    translate = stage(dirs["pivot"], target="fr", languages=["de", "en"], on_missing="error")
    doc, block = seed_document()
    italian = foreign_document("it", "it", ["Buongiorno a tutti."])
    out = Pipeline([translate]).process([doc, italian])
    assert [d.status for d in out] == ["ok", "error"]
    assert "no model for it → fr" in (out[1].reason or "")
    assert block.segments[0].translation is not None


def test_segments_not_to_translate_are_left_alone(tmp_path: Path) -> None:
    translate = stage(tmp_path)
    kept = foreign_document("kept", "de", GERMAN)
    for b in kept.blocks:
        b.segments[0].action = "keep"
    main = foreign_document("main", "fr", ["Bonjour à tous."])
    duplicate = foreign_document("dup", "de", GERMAN)
    for b in duplicate.blocks:
        b.duplicate_of = 0
    unknown = foreign_document("nolang", "de", GERMAN, main=None)
    out = translate.process_batch([kept, main, duplicate, unknown])
    assert all(seg.translation is None for doc in out for b in doc.blocks for seg in b.segments)
    assert all(doc.warnings == [] for doc in out)
    assert translate.counters["segments"] == 0


@pytest.mark.parametrize(("options", "problem"), [
    ({"target": "French"}, "stages.translate.target: expected a language code or null, got 'French'"),
    ({"on_missing": "drop"}, "stages.translate.on_missing: expected one of 'keep', 'error', got 'drop'"),
    ({"compute_type": "int4"}, "stages.translate.compute_type: expected one of"),
    ({"beam_size": 0}, "stages.translate.beam_size: expected a positive integer, got 0"),
    ({"languages": ["de", 5]}, "stages.translate.languages[1]: expected a language code, got 5"),
])
def test_config_errors_are_reported_with_their_path(options: dict[str, object], problem: str) -> None:
    problems: list[str] = []
    assert build(TranslateConfig, options, "stages.translate", problems) is None
    assert len(problems) == 1 and problems[0].startswith(problem)


@pytest.mark.slow
def test_the_default_pipeline_translates_seed_003s_german_standfirst(dirs: dict[str, Path]) -> None:
    """The whole default pipeline from config.yaml, with translation duplicates off so the German is kept."""
    from pipeline import load_config, readers
    from tests.conftest import ROOT

    config = load_config(ROOT / "config.yaml", ["languages.duplicates=false", f"translate.models_dir={dirs['all']}"])
    [out] = Pipeline.from_config(config).process(list(readers.read([str(next(ARTICLES.glob("003_*.txt")))])))
    [block] = [b for b in out.blocks if b.lang == "de"]
    [segment] = block.segments
    expected = " ".join(ctranslate2_output(package_dir(dirs["all"], "de", "fr"), GERMAN))
    assert block.text == " ".join(GERMAN)
    assert segment.translation == Translation(text=expected, source="de", target="fr", package="de_fr@1.0",
                                              pivot=["de", "fr"])
    assert expected in out.text and GERMAN[0] not in out.text
