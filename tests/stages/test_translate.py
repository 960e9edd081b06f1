"""The translate stage with real, tiny Argos packages (built by `tests.tinymodels`, installed by the real
installer): the output must be exactly what CTranslate2 computes, checked here with CTranslate2 itself."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pipeline.config import build
from pipeline.document import Block, Document, Removal, Segment, Translation
from pipeline.errors import SetupError
from pipeline.runner import Pipeline
from stages.extract import split_paragraphs
from stages.sentences import split_sentences
from stages.translate import models
from stages.translate.stage import Translate, TranslateConfig
from tests import tinymodels
from tests.conftest import ARTICLES, ROOT

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

    argos = pytest.importorskip("argostranslate.tokenizer", reason="the independent check uses Argos's tokenizers")
    BPETokenizer, SentencePieceTokenizer = argos.BPETokenizer, argos.SentencePieceTokenizer  # noqa: N806

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


def test_missing_model_keeps_the_segment_with_one_warning_per_pair(tmp_path: Path) -> None:
    translate = stage(tmp_path)
    docs = [foreign_document(str(i), "de", GERMAN) for i in range(2)]
    out = translate.process_batch(docs)
    for doc in out:
        assert doc.text == "\n\n".join(GERMAN)
        assert [b.segments[0].translation for b in doc.blocks] == [
            Translation(text=t, source="de", target="fr", status="no-model") for t in GERMAN]
        assert len(doc.warnings) == 1
        assert doc.warnings[0].message.startswith("no model for de → fr: 2 segment(s) left untranslated")
        assert "tamis models download de fr" in doc.warnings[0].message
    assert translate.counters["no_model:de-fr"] == 4
    [log_line] = [key for key in translate.counters if key.startswith("warning:")]
    assert log_line.startswith(f"warning:no model for de → fr in {tmp_path}; such segments stay untranslated")


@pytest.mark.slow
def test_the_no_model_warning_is_logged_once_per_run_not_once_per_worker(
        tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    """Two workers both meet German text with no de → fr model: one log line for the run (in this process or
    printed by a worker), one warning per record."""
    from pipeline import load_config, runner

    for i in range(4):
        (tmp_path / f"{i}.txt").write_text(f"Le gouvernement a présenté son plan numéro {i} hier soir devant les "
                                           f"députés de l'Assemblée.\n\n{GERMAN[0]}\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    config = load_config(ROOT / "config.yaml", [f"run.output={out}", "run.jobs=2", "run.batch_size=1",
                                f"translate.models_dir={tmp_path / 'models'}"])
    runner.run(config, [str(tmp_path / f"{i}.txt") for i in range(4)])
    lines = [r.getMessage() for r in caplog.records] + capfd.readouterr().err.splitlines()
    lines = [line for line in lines if "no model for de → fr" in line]
    assert len(lines) == 1 and lines[0].startswith("translate: no model for de → fr in ")
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    warnings = [[w["message"][:35] for w in r["warnings"]] for r in records]
    assert warnings == [["no model for de → fr: 1 segment(s) "]] * 4


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
    """Only `translate` segments are sent: `keep` (non-prose such as code or URLs is marked so), `drop`
    and `separate` are not, and neither are duplicates, main-language text or documents of no language."""
    translate = stage(tmp_path)
    kept = foreign_document("kept", "de", GERMAN + GERMAN)
    for b, action in zip(kept.blocks, ("keep", "drop", "separate", "keep"), strict=True):
        b.segments[0].action = action  # type: ignore[assignment]
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


def test_bpe_codes_are_applied_as_subword_nmt_applies_them(tmp_path: Path) -> None:
    """`BPECodes` against argostranslate's own copy of subword-nmt's `apply_bpe`, on the codes of a built package."""
    import zipfile

    from stages.translate.tokenizers import BPECodes

    BPE = pytest.importorskip("argostranslate.apply_bpe").BPE  # noqa: N806

    archive = tinymodels.build_package(tmp_path, "de", "fr", seed=3, tokenizer="bpe", shape=BPE_SHAPE)
    with zipfile.ZipFile(archive) as zf:
        codes = zf.read("translate-de_fr-1_0/bpe.model").decode()
    (tmp_path / "codes").write_text(codes, encoding="utf-8")
    with (tmp_path / "codes").open(encoding="utf-8") as f:
        reference = BPE(f)
    words = " ".join(tinymodels.LINES + ("Unbekannte Wörter, x, Überblick!", "a b c")).split()
    assert BPECodes(codes).segment(words) == reference.segment_tokens(words)
    assert BPECodes("#version: 0.1\na b\nab c\n").segment(["abc", "a"]) == ["abc", "a"]


def test_moses_bpe_tokenizer_encodes_and_decodes_as_argos(tmp_path: Path) -> None:
    from stages.translate.tokenizers import MosesBPE

    BPETokenizer = pytest.importorskip("argostranslate.tokenizer").BPETokenizer  # noqa: N806

    archive = tinymodels.build_package(tmp_path, "de", "fr", seed=3, tokenizer="bpe", shape=BPE_SHAPE)
    models.install(archive, directory=tmp_path / "models")
    path = package_dir(tmp_path / "models", "de", "fr") / "bpe.model"
    ours, argos = MosesBPE(path, "de", "fr"), BPETokenizer(path, "de", "fr")
    texts = [*GERMAN, "« Ça coûte 1,5 million d'euros », a-t-il dit : c'est l'été & <pas> \"cher\"…"]
    tokens = ours.encode(texts)
    assert tokens == [argos.encode(t) for t in texts]
    assert ours.decode(tokens) == [argos.decode(t) for t in tokens]


BPE_SHAPE = tinymodels.Shape(vocab_size=240)


@pytest.mark.slow
@pytest.mark.parametrize("tokenizer", ["sentencepiece", "bpe"])
def test_tamis_run_translates_with_either_kind_of_package(tokenizer: str, tmp_path: Path) -> None:
    """Seed 003 through `tamis run` (the default pipeline) with one de → fr package of each kind: the German
    standfirst's translation is what CTranslate2 returns for that package with Argos's tokenizer."""
    import shutil

    if tokenizer == "bpe":
        pytest.importorskip("sacremoses", reason="Moses + BPE needs it (pip install 'tamis[translate]')")

    from pipeline import cli

    shape = BPE_SHAPE if tokenizer == "bpe" else tinymodels.Shape()
    archive = tinymodels.build_package(tmp_path, "de", "fr", seed=8, shape=shape,
                                       tokenizer=tokenizer)  # type: ignore[arg-type]
    models.install(archive, directory=tmp_path / "models")
    article = tmp_path / "003.txt"
    shutil.copy(next(ARTICLES.glob("003_*.txt")), article)
    out = tmp_path / "out.jsonl"
    assert cli.main(["run", str(article), "-o", str(out), "-j", "1", "--set", "languages.duplicates=false",
                     "--set", "translate.duplicate_threshold=0", "--set",
                     f"translate.models_dir={tmp_path / 'models'}"]) == 0
    [record] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    [segment] = [s for b in record["blocks"] for s in b["segments"] if s["lang"] == "de"]
    expected = " ".join(ctranslate2_output(package_dir(tmp_path / "models", "de", "fr"), GERMAN))
    assert segment["translation"] == {"text": expected, "source": "de", "target": "fr", "package": "de_fr@1.0",
                                      "pivot": ["de", "fr"], "status": "ok"}
    assert expected in record["text"] and GERMAN[0] not in record["text"]


PUD = [json.loads(line) for line in (ROOT / "fixtures" / "transdup" / "pud_pairs.jsonl").read_text(
    encoding="utf-8").splitlines()]
PAIRS = {("de", "fr"): 8, ("en", "fr"): 1, ("fr", "de"): 4, ("en", "de"): 5}


@pytest.fixture(scope="module")
def pud_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build, root = tmp_path_factory.mktemp("pudbuild"), tmp_path_factory.mktemp("pudmodels")
    for pair, seed in PAIRS.items():
        models.install(tinymodels.build_package(build, *pair, seed=seed), directory=root)
    return root


def pud_document(case: dict[str, object]) -> Document:
    """A fixture document as `languages` leaves it: one block per paragraph, the gold language, the foreign
    paragraph marked `translate`."""
    blocks = []
    for i, para in enumerate(case["paragraphs"]):  # type: ignore[attr-defined]
        foreign = para["role"] == "foreign"
        blocks.append(Block(kind="paragraph", text=para["text"], index=i, lang=para["lang"], segments=[
            Segment(start=0, end=len(para["text"]), lang=para["lang"], action="translate" if foreign else "keep")]))
    return Document(id=str(case["id"]), source="pud", blocks=blocks, lang=str(case["main_lang"]))


class GoldTranslation:
    """A test double at the engine boundary: the human translation of each sentence where the set has it,
    the sentence itself (an engine that cannot translate it) where it has not."""

    def __init__(self, translations: dict[str, str]) -> None:
        self.translations = translations

    def translate(self, texts: list[str]) -> list[str]:
        return [self.translations.get(t, t) for t in texts]


@pytest.mark.slow
def test_a_translation_that_repeats_a_nearby_block_is_dropped_naming_both_blocks(pud_models: Path) -> None:
    """Real PUD pairs: each positive whose foreign sentences all have a human translation is dropped with a
    Removal naming its original (adjacent, far, or a partial translation); no negative, no host block."""
    translations = {k: v for case in PUD for k, v in case["translations"].items()}
    translate = stage(pud_models)
    translate.engine = lambda model: GoldTranslation(translations)  # type: ignore[method-assign]
    docs = translate.process_batch([pud_document(case) for case in PUD])
    got, want = {}, {}
    for case, doc in zip(PUD, docs, strict=True):
        [foreign] = [i for i, p in enumerate(case["paragraphs"]) if p["role"] == "foreign"]
        sentences = len(split_sentences(case["paragraphs"][foreign]["text"]))
        if case["original"] is not None and len(case["translations"]) == sentences:
            want[case["id"]] = [("translation-duplicate", foreign, case["original"])]
        found = [(r.rule, r.block, int(r.reason.split("repeats block ")[1].split()[0])) for r in doc.removed]
        if found:
            got[case["id"]] = found
        assert all(s.action == "keep" for i, b in enumerate(doc.blocks) if i != foreign for s in b.segments)
        assert [s.action for s in doc.blocks[foreign].segments] == ["drop" if found else "translate"]
    assert got == want
    assert sorted({case["kind"] for case in PUD if case["id"] in got}) == [
        "pos_de", "pos_en", "pos_far", "pos_partial"]


@pytest.mark.slow
def test_nonsense_translations_drop_nothing(pud_models: Path) -> None:
    """The same documents through the tiny models themselves: their output resembles no block."""
    docs = stage(pud_models).process_batch([pud_document(case) for case in PUD])
    assert [r for doc in docs for r in doc.removed] == []
    assert all(s.translation is not None and s.translation.status == "ok"
               for doc in docs for b in doc.blocks for s in b.segments if s.action == "translate")


def test_a_translation_with_the_same_words_as_a_block_is_dropped_by_the_dedupe_rule(tmp_path: Path) -> None:
    archive = tinymodels.build_package(tmp_path, "de", "fr", seed=8)
    models.install(archive, directory=tmp_path / "models")
    translate = stage(tmp_path / "models")
    french = "Le gouvernement a annoncé de nouvelles mesures, lundi."
    translate.engine = lambda model: GoldTranslation(  # type: ignore[method-assign]
        {GERMAN[0]: "le gouvernement a annoncé de nouvelles mesures lundi"})
    doc = Document(id="d", source="t", lang="fr", blocks=[
        Block(kind="paragraph", text=french, index=0, lang="fr",
              segments=[Segment(start=0, end=len(french), lang="fr")]),
        Block(kind="paragraph", text=GERMAN[0], index=1, lang="de",
              segments=[Segment(start=0, end=len(GERMAN[0]), lang="de", action="translate")])])
    [out] = translate.process_batch([doc])
    assert out.text == french
    assert out.removed == [Removal(stage="translate", rule="translation-duplicate", block=1, text=GERMAN[0],
                                   reason="its de → fr translation repeats block 0 (chrF 1.00)")]


def test_a_bpe_package_without_sacremoses_fails_at_setup_naming_the_extra(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sacremoses", reason="building the BPE package needs it (pip install 'tamis[translate]')")
    archive = tinymodels.build_package(tmp_path, "de", "fr", seed=3, tokenizer="bpe", shape=BPE_SHAPE)
    models.install(archive, directory=tmp_path / "models")
    monkeypatch.setitem(sys.modules, "sacremoses", None)  # type: ignore[arg-type]
    with pytest.raises(SetupError, match=r"translate: de_fr@1\.0 tokenise with Moses \+ BPE, which needs "
                                         r"sacremoses: pip install 'tamis\[translate\]'"):
        Translate(TranslateConfig(models_dir=str(tmp_path / "models"))).setup()
