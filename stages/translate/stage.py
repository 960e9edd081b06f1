"""translate: foreign segments marked `translate` → the document's main language (or `target`), offline.

Models are Argos Translate packages installed with `tamis models` (`stages.translate.models`). They are run
here directly with CTranslate2 and the package's own tokenizer (`stages.translate.tokenizers`: SentencePiece,
or Moses + BPE), with Argos's decoding rules (`replace_unknowns`, length penalty 0.2, the package's
`target_prefix` forced and left out of the text) but a beam of 2 by default (Argos: 4; about twice as fast,
for little loss; `beam_size: 4` decodes as Argos does). argostranslate itself is never imported: it costs
seconds and hundreds of MB (stanza, torch, spaCy), and its sentence splitter may try to download models.
Nothing is downloaded while translating.

Only segments whose `action` is `translate` are sent (`keep`, `drop`, `separate` are not: non-prose such as
code, URLs and reference lists is marked `keep` upstream). Each segment is split into sentences
(`stages.sentences`, the splitter `languages` uses). The sentences of a whole batch of documents go to a few
`translate_batch` calls, one per package, each distinct sentence once (a cache lives as long as the stage).
A pair with no package of its own is chained through English (de → en → fr), as Argos does. Blocks marked
`duplicate_of` are skipped: they are out of the main text.

Provenance: `Segment.translation` holds the text, the source and target language, the package(s) used as
`code@version` (`de_en@1.9+en_fr@1.9` for a pivot) and the language path (`[de, en, fr]`); the block
keeps the original text, and `doc.text` shows the translation.

Translated duplicates: a translated segment that says what a main-language block within
`duplicate_distance` blocks says is taken out of the main text (its action becomes `drop`) with a `Removal`
(rule `translation-duplicate`) naming both blocks: when the translation and the block have the same words
(the `dedupe` rule, `stages.dedupe.words`), or when the translation's chrF against the block, or against
the run of the block's sentences it matches best, reaches `duplicate_threshold` (`stages.transdup.chrf`).

No model for a pair (`on_missing`): `keep` leaves the segment as it is, with a `no-model` translation
record (its text is the original) and one warning per pair in each affected document's `warnings`; the
counter `warning:no model for <source> → <target>…` makes the runner log it once per run and pair. `error`
stops the run in `setup()`, before any document, when a pair among `languages` (into `target`, or each into
each when `target` is null) has no model, naming the commands that install it; a pair outside `languages`
met later fails only its document. Counters: `segments`, `sentences`, `cache_hits`, `translation-duplicate`,
`no_model:<source>-<target>`. Filters nothing.

"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from pipeline.document import Block, Document, Removal, Segment, StageWarning, Translation
from pipeline.errors import SetupError
from pipeline.stage import Stage
from pipeline.types import Fraction, LangCode, PositiveInt
from stages import text as texts
from stages.sentences import split_sentences
from stages.transdup import best_chrf
from stages.translate import models

PIVOT = "en"
LENGTH_PENALTY = 0.2  # Argos's value, so a package translates here as it does in Argos
CACHE_ENTRIES = 200_000  # sentences; a few tens of MB at most
ComputeType = Literal["int8", "int8_float32", "int16", "float32", "auto", "default"]  # CTranslate2's CPU types


@dataclass(frozen=True, kw_only=True)
class TranslateConfig:
    target: LangCode | None = field(default=None, metadata={
        "help": "language to translate into; null = each document's main language"})
    languages: tuple[LangCode, ...] = field(default=("fr", "de", "en"), metadata={
        "help": "with on_missing: error, every pair among these must have a model at start-up"})
    models_dir: str | None = field(default=None, metadata={
        "help": "Argos packages; null = argostranslate's (ARGOS_PACKAGES_DIR, else "
                "~/.local/share/argos-translate/packages)"})
    on_missing: Literal["keep", "error"] = field(default="keep", metadata={
        "help": "keep leaves the segment as it is (status no-model, one warning per pair); error stops before "
                "the first document, naming the install commands"})
    beam_size: PositiveInt = field(default=2, metadata={
        "help": "CTranslate2 beam; Argos uses 4 (about half the speed)"})
    compute_type: ComputeType = field(default="int8", metadata={"help": "CTranslate2's computation type on CPU"})
    threads: PositiveInt = field(default=1, metadata={
        "help": "CTranslate2 threads per worker (run.jobs already uses every core)"})
    batch_size: PositiveInt = field(default=32, metadata={"help": "sentences per CTranslate2 batch"})
    max_decoding_length: PositiveInt = field(default=256, metadata={"help": "tokens per translated sentence at most"})
    duplicate_threshold: Fraction = field(default=0.6, metadata={
        "help": "chrF from which a translation repeats a main-language block nearby (0 turns it off)"})
    duplicate_distance: PositiveInt = field(default=3, metadata={
        "help": "how many blocks away that main-language block may be"})


class Engine(Protocol):
    """What the stage needs of a loaded package: sentences in, translated sentences out."""

    def translate(self, texts: list[str]) -> list[str]: ...


@dataclass
class _Job:
    """A segment to translate: its sentences go along `route`, one package after the other."""

    doc: Document
    position: int  # of the block in `doc.blocks`
    block: Block
    segment: Segment
    source: str
    target: str
    route: list[models.Model]
    sentences: list[str]


class _CTranslate2Engine:
    """One loaded package: a CTranslate2 translator and the package's tokenizer."""

    def __init__(self, model: models.Model, config: TranslateConfig) -> None:
        import ctranslate2

        from stages.translate import tokenizers

        self.config = config
        self.prefix = model.target_prefix
        try:
            self.translator = ctranslate2.Translator(str(model.path / "model"), device="cpu",
                                                     compute_type=config.compute_type, inter_threads=1,
                                                     intra_threads=config.threads)
            path = model.path / model.tokenizer
            self.tokenizer: tokenizers.Tokenizer = (
                tokenizers.SentencePiece(path) if model.tokenizer == "sentencepiece.model"
                else tokenizers.MosesBPE(path, model.source, model.target))
        except (RuntimeError, ValueError, OSError) as exc:
            raise SetupError(f"translate: cannot load {model.label} from {model.path}: {exc}") from exc

    def translate(self, texts: list[str]) -> list[str]:
        tokens = self.tokenizer.encode(texts)
        results = self.translator.translate_batch(
            tokens,
            target_prefix=[[self.prefix]] * len(tokens) if self.prefix else None,
            beam_size=self.config.beam_size,
            max_batch_size=self.config.batch_size,
            max_decoding_length=self.config.max_decoding_length,
            replace_unknowns=True,
            length_penalty=LENGTH_PENALTY,
        )
        skip = 1 if self.prefix else 0  # CTranslate2 returns the target prefix as the first token
        decoded = self.tokenizer.decode([r.hypotheses[0][skip:] for r in results])
        return [text.strip() for text in decoded]


class Translate(Stage[TranslateConfig]):
    name = "translate"
    requires = ("segments",)

    def __init__(self, config: TranslateConfig) -> None:
        super().__init__(config)
        self._models: dict[tuple[str, str], models.Model] = {}
        self._engines: dict[Path, Engine] = {}
        self._cache: dict[tuple[Path, str], str] = {}

    def setup(self) -> None:
        try:
            import ctranslate2  # noqa: F401
            import sentencepiece  # noqa: F401
        except ImportError as exc:
            raise SetupError(f"translate: needs ctranslate2 and sentencepiece, which tamis installs ({exc}): "
                             f"reinstall it (pip install --force-reinstall tamis)") from None
        # Sorted by version, so the newest of two installed versions of a pair wins.
        self._models = {(m.source, m.target): m for m in models.installed(self.config.models_dir)}
        bpe = [m.label for m in self._models.values() if m.tokenizer == "bpe.model"]
        if bpe:
            try:
                import sacremoses  # noqa: F401
            except ImportError:
                raise SetupError(f"translate: {', '.join(bpe)} tokenise with Moses + BPE, which needs sacremoses: "
                                 f"pip install 'tamis[translate]'") from None
        if self.config.on_missing == "error":
            self._check_pairs()

    def machine_inputs(self) -> tuple[str, list[str]]:
        """The models directory `setup()` reads and the packages installed there."""
        root = models.models_dir(self.config.models_dir)
        return f"the models directory {root}", [m.label for m in models.installed(root)]

    def close(self) -> None:
        self._engines.clear()
        self._cache.clear()

    def process(self, doc: Document) -> Document:
        return self.process_batch([doc])[0]

    def process_batch(self, docs: list[Document]) -> list[Document]:
        jobs = [job for doc in docs for job in self._plan(doc)]
        outputs = self._run([s for job in jobs for s in job.sentences],
                            [job.route for job in jobs for _ in job.sentences])
        position = 0
        for job in jobs:
            translated = outputs[position : position + len(job.sentences)]
            position += len(job.sentences)
            job.segment.translation = Translation(
                text=" ".join(translated), source=job.source, target=job.target,
                package="+".join(m.label for m in job.route),
                pivot=[job.source] + [m.target for m in job.route])
            self._drop_if_duplicate(job)
        self.counters["segments"] += len(jobs)
        return docs

    def _plan(self, doc: Document) -> list[_Job]:
        """The document's segments to translate; segments with no model are settled here, by policy."""
        target = self.config.target or doc.lang
        if target is None:
            return []
        jobs: list[_Job] = []
        missing: Counter[str] = Counter()
        for position, block in enumerate(doc.blocks):
            if block.duplicate_of is not None:
                continue
            for seg in block.segments:
                if seg.action != "translate" or seg.lang == target:
                    continue
                original = block.text[seg.start : seg.end]
                sentences = [" ".join(original[s.start : s.end].split()) for s in split_sentences(original)]
                if not sentences:
                    continue
                route = self._route(seg.lang, target)
                if route is None:
                    self._no_model(seg.lang, target)
                    seg.translation = Translation(text=original, source=seg.lang, target=target, status="no-model")
                    missing[seg.lang] += 1
                    continue
                jobs.append(_Job(doc=doc, position=position, block=block, segment=seg, source=seg.lang,
                                 target=target, route=route, sentences=sentences))
        for source, count in sorted(missing.items()):
            doc.warnings.append(StageWarning(stage=self.name, message=(
                f"no model for {source} → {target}: {count} segment(s) left untranslated; "
                f"install with {models.install_hint(source, target)}")))
        return jobs

    def _drop_if_duplicate(self, job: _Job) -> None:
        """Take the translated segment out of the main text when it says what a nearby main-language block says."""
        translation = job.segment.translation
        if self.config.duplicate_threshold <= 0 or translation is None:
            return
        blocks, here = job.doc.blocks, job.position
        key = texts.key(translation.text)
        found: tuple[float, Block] | None = None
        for j in range(max(0, here - self.config.duplicate_distance),
                       min(len(blocks), here + self.config.duplicate_distance + 1)):
            other = blocks[j]
            if j == here or other.duplicate_of is not None or other.lang != job.target:
                continue
            text = other.main_text()
            score = 1.0 if key and texts.key(text) == key else best_chrf(translation.text, text)
            if score >= self.config.duplicate_threshold and (found is None or score > found[0]):
                found = (score, other)
        if found is None:
            return
        score, other = found
        seg = job.segment
        seg.action = "drop"
        self.counters["translation-duplicate"] += 1
        job.doc.removed.append(Removal(
            stage=self.name, rule="translation-duplicate", block=job.block.index,
            text=job.block.text[seg.start : seg.end],
            reason=f"its {job.source} → {job.target} translation repeats block {other.index} (chrF {score:.2f})"))

    def _route(self, source: str, target: str) -> list[models.Model] | None:
        """The package, or the two packages through English, that translate `source` into `target`."""
        direct = self._models.get((source, target))
        if direct is not None:
            return [direct]
        first, second = self._models.get((source, PIVOT)), self._models.get((PIVOT, target))
        return [first, second] if first is not None and second is not None else None

    def _no_model(self, source: str, target: str) -> None:
        hint = models.install_hint(source, target)
        if self.config.on_missing == "error":
            raise SetupError(f"translate: no model for {source} → {target} (on_missing: error); install with {hint}")
        self.counters[f"no_model:{source}-{target}"] += 1
        # One log line per run and pair: the runner logs each `warning:` counter once, whichever worker it came from.
        self.counters[f"warning:no model for {source} → {target} in {models.models_dir(self.config.models_dir)}; "
                      f"such segments stay untranslated; install with {hint}"] += 1

    def _check_pairs(self) -> None:
        """Fail before the first document when a pair the run may meet has no model."""
        langs = self.config.languages
        targets = (self.config.target,) if self.config.target else langs
        missing = [(s, t) for t in targets for s in langs if s != t and self._route(s, t) is None]
        if missing:
            pairs = ", ".join(f"{s} → {t}" for s, t in missing)
            raise SetupError(
                f"translate: on_missing is error, and these pairs have no model in "
                f"{models.models_dir(self.config.models_dir)}: {pairs}. Install them with `tamis models download "
                f"SOURCE TARGET` (two packages through English also do: `de en` and `en fr` for de → fr), "
                f"or set translate.on_missing: keep")

    def _run(self, texts: list[str], routes: list[list[models.Model]]) -> list[str]:
        """Each text along its route, leg by leg: one batched call per package and leg."""
        texts = list(texts)
        for leg in range(max((len(r) for r in routes), default=0)):
            groups: dict[models.Model, list[int]] = {}
            for i, route in enumerate(routes):
                if leg < len(route):
                    groups.setdefault(route[leg], []).append(i)
            for model, indices in groups.items():
                for i, out in zip(indices, self._translate(model, [texts[i] for i in indices]), strict=True):
                    texts[i] = out
        return texts

    def _translate(self, model: models.Model, texts: list[str]) -> list[str]:
        """`texts` through one package, each distinct text once, remembered across batches."""
        self.counters["sentences"] += len(texts)
        known = {t: self._cache[(model.path, t)] for t in dict.fromkeys(texts) if (model.path, t) in self._cache}
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        self.counters["cache_hits"] += len(texts) - len(todo)
        if todo:
            known.update(zip(todo, self.engine(model).translate(todo), strict=True))
            for text in todo:
                self._remember((model.path, text), known[text])
        return [known[t] for t in texts]

    def engine(self, model: models.Model) -> Engine:
        """The loaded package, loaded on first use. Tests replace it here, at the engine boundary."""
        if model.path not in self._engines:
            self._engines[model.path] = _CTranslate2Engine(model, self.config)
        return self._engines[model.path]

    def _remember(self, key: tuple[Path, str], value: str) -> None:
        if len(self._cache) >= CACHE_ENTRIES:
            del self._cache[next(iter(self._cache))]  # the oldest entry: dicts keep insertion order
        self._cache[key] = value
