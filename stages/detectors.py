"""Language detectors behind one small interface, for the `languages` stage.

A detector is built for a language set and answers `detect(text)` with a `Guess`: a probability for each
language of the set (summing to 1, as if the detector knew only those) and the probability mass the
unrestricted detector gives to languages outside the set, which is how `other` is recognised. Models ship
inside the packages; nothing is downloaded. Each detector is deterministic: langdetect's sampling is
seeded.

- `py3langid`: naive Bayes over byte n-grams (97 languages), probabilities tempered by the text length as
  py3langid's `norm_probs` does. Fast; the default.
- `langdetect`: the port of Google's language-detection (55 languages), seed 0.
- `lingua`: lingua-language-detector, restricted to the set; it cannot see `other` (mass always 0). An
  optional dependency (`pip install lingua-language-detector`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from pipeline.errors import SetupError


@dataclass(frozen=True, slots=True)
class Guess:
    """`probs`: language → probability within the language set. `outside`: the unrestricted probability
    of all languages outside the set, `outside_lang` the most likely of them."""

    probs: dict[str, float]
    outside: float = 0.0
    outside_lang: str | None = None

    @property
    def lang(self) -> str:
        """The most likely language of the set; ties go to the set's order, so the answer is stable."""
        return max(self.probs, key=self.probs.__getitem__)

    @property
    def confidence(self) -> float:
        return self.probs[self.lang]

    def log_odds(self, lang: str, against: str) -> float:
        """Evidence for `lang` over `against`, in nats, floored so that a zero probability stays finite."""
        return math.log(max(self.probs.get(lang, 0.0), 1e-9) / max(self.probs.get(against, 0.0), 1e-9))


class Detector(ABC):
    """A language identifier restricted to `languages` (ISO 639-1 codes, in order of preference)."""

    name: ClassVar[str]

    def __init__(self, languages: tuple[str, ...]) -> None:
        self.languages = languages

    @abstractmethod
    def detect(self, text: str) -> Guess:
        """The guess for `text`; text without letters gets a flat guess."""

    def _guess(self, scores: dict[str, float]) -> Guess:
        """Restrict an unrestricted distribution `scores` (summing to about 1) to the language set."""
        inside = {lang: scores.get(lang, 0.0) for lang in self.languages}
        total = sum(inside.values())
        if total <= 0.0:
            return self.flat()
        outside = {lang: p for lang, p in scores.items() if lang not in inside}
        best = max(sorted(outside), key=outside.__getitem__) if outside else None
        return Guess(probs={lang: p / total for lang, p in inside.items()},
                     outside=max(0.0, 1.0 - total), outside_lang=best)

    def flat(self) -> Guess:
        share = 1.0 / len(self.languages)
        return Guess(probs=dict.fromkeys(self.languages, share))


class Py3langid(Detector):
    name = "py3langid"

    def __init__(self, languages: tuple[str, ...]) -> None:
        super().__init__(languages)
        self._model = _py3langid_model()
        classes = list(self._model.nb_classes)
        unknown = set(languages) - set(classes)
        if unknown:
            raise SetupError(f"py3langid does not know language(s) {', '.join(sorted(unknown))}")
        self._classes = classes
        self._inside = [classes.index(lang) for lang in languages]

    def detect(self, text: str) -> Guess:
        if not any(c.isalpha() for c in text):
            return self.flat()
        # `_decide` is what `rank` calls: the same tempered probabilities, without building and sorting a
        # 97-language list per sentence, which cost a third of the stage's time.
        scores = self._model._decide(text)
        inside = scores[self._inside]
        total = float(inside.sum())
        if total <= 0.0:
            return self.flat()
        outside = max(0.0, 1.0 - total)
        best = None
        if outside > 0.5:  # only then can `other` be decided, so only then is its name worth finding
            masked = scores.copy()
            masked[self._inside] = -1.0
            best = self._classes[int(masked.argmax())]
        probs = {lang: float(p) / total for lang, p in zip(self.languages, inside.tolist(), strict=True)}
        return Guess(probs=probs, outside=outside, outside_lang=best)


class Langdetect(Detector):
    name = "langdetect"
    SEED: ClassVar[int] = 0

    def __init__(self, languages: tuple[str, ...]) -> None:
        super().__init__(languages)
        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

        self._factory = DetectorFactory()
        self._factory.load_profile(PROFILES_DIRECTORY)
        self._factory.set_seed(self.SEED)
        unknown = set(languages) - set(self._factory.get_lang_list())
        if unknown:
            raise SetupError(f"langdetect does not know language(s) {', '.join(sorted(unknown))}")

    def detect(self, text: str) -> Guess:
        from langdetect.lang_detect_exception import LangDetectException

        detector = self._factory.create()
        detector.append(text)
        try:
            ranked = detector.get_probabilities()
        except LangDetectException:  # no letters: nothing to judge
            return self.flat()
        return self._guess({r.lang: r.prob for r in ranked})


class Lingua(Detector):
    name = "lingua"

    def __init__(self, languages: tuple[str, ...]) -> None:
        super().__init__(languages)
        try:
            import lingua
        except ImportError as exc:
            raise SetupError("detector 'lingua' needs: pip install lingua-language-detector") from exc
        unknown = [lang for lang in languages if not hasattr(lingua.IsoCode639_1, lang.upper())]
        if unknown:
            raise SetupError(f"lingua does not know language(s) {', '.join(unknown)}")
        codes = [getattr(lingua.IsoCode639_1, lang.upper()) for lang in languages]
        self._lingua: Any = (lingua.LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
                             .with_preloaded_language_models().build())

    def detect(self, text: str) -> Guess:
        values = self._lingua.compute_language_confidence_values(text)
        scores = {v.language.iso_code_639_1.name.lower(): v.value for v in values}
        return self._guess(scores) if sum(scores.values()) > 0 else self.flat()


@cache
def _py3langid_model() -> Any:
    """One unrestricted model per process, shared by every stage instance (loading takes half a second);
    it is never restricted in place, so sharing it is safe."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


DETECTORS: dict[str, type[Detector]] = {cls.name: cls for cls in (Py3langid, Langdetect, Lingua)}
