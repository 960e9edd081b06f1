"""Language detectors behind one small interface, for the `languages` stage, and their registry.

A detector is built for a language set and answers `detect(text)` (or `detect_many(texts)`) with a
`Guess`: a probability for each language of the set (summing to 1, as if the detector knew only those) and
the probability mass the unrestricted detector gives to languages outside the set, which is how `other` is
recognised. `table(texts)` gives a batch's guesses as arrays (`Guesses`), which is how `languages` reads
them: it decides most sentences with numpy, and makes a `Guess` only for the few that need one. Models
ship inside the packages; nothing is downloaded. Each detector is deterministic: langdetect's sampling is
seeded.

- `py3langid`: naive Bayes over byte n-grams (97 languages), probabilities tempered by the text length as
  py3langid's `norm_probs` does; scored a batch at a time with numpy (`stages.langid_batch`), the
  unrestricted model only where a cheap bound cannot rule `other` out. Fast; the default.
- `langdetect`: the port of Google's language-detection (55 languages), seed 0.
- `lingua`: lingua-language-detector, restricted to the set; it cannot see `other` (mass always 0). An
  optional dependency (`pip install 'tamis[lingua]'`).

Detectors are pluggable like stages: a `Detector` subclass published in the `tamis.detectors` entry-point
group (tamis registers its own three there) is a valid `languages.detector`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, NamedTuple

import numpy as np

from pipeline import registry
from pipeline.errors import SetupError
from pipeline.types import Check

ENTRY_POINT_GROUP = "tamis.detectors"


class Guess(NamedTuple):
    """`probs`: language → probability within the language set. `outside`: the unrestricted probability
    of all languages outside the set. A named tuple, cheap to make: `Guesses` makes one for each text asked
    about."""

    probs: dict[str, float]
    outside: float = 0.0

    @property
    def lang(self) -> str:
        """The most likely language of the set; ties go to the set's order, so the answer is stable."""
        return max(self.probs, key=self.probs.__getitem__)

    def log_odds(self, lang: str, against: str) -> float:
        """Evidence for `lang` over `against`, in nats, floored so that a zero probability stays finite."""
        return math.log(max(self.probs.get(lang, 0.0), _FLOOR) / max(self.probs.get(against, 0.0), _FLOOR))


_FLOOR = 1e-9  # the probability a zero counts as in `log_odds`


def rows_beat_all(probs: np.ndarray, label: np.ndarray, nats: float) -> np.ndarray:
    """Per row of `probs` (one column per language of the set), whether the language whose column is the
    row's `label` beats every other language of the set by `nats`, as `Guess.log_odds` measures it (False
    where the label is negative, no language). The same floats: numpy's quotients are Python's, and where
    numpy's logarithm lies too close to `nats` for its last bit not to matter, `math.log` decides."""
    inside = label >= 0
    rows = np.arange(len(label))
    own = np.maximum(probs[rows, np.where(inside, label, 0)], _FLOOR)
    quotient = own[:, None] / np.maximum(probs, _FLOOR)
    odds = np.log(quotient)
    close = np.abs(odds - nats) < 1e-9
    for i, j in zip(*np.nonzero(close), strict=True):
        odds[i, j] = math.log(float(quotient[i, j]))
    short = odds < nats
    short[rows, np.where(inside, label, 0)] = False  # no language is its own rival
    result: np.ndarray = inside & ~short.any(axis=1)
    return result


@dataclass(frozen=True)
class Guesses:
    """The guesses of a batch as arrays: row `i` of `probs` (one column per language of the set, in its
    order) and `outside[i]` are text `i`'s `Guess`, the very same floats."""

    languages: tuple[str, ...]
    probs: np.ndarray  # (texts, languages), float64
    outside: np.ndarray  # (texts,), float64

    @classmethod
    def of(cls, languages: tuple[str, ...], guesses: Sequence[Guess]) -> Guesses:
        probs = np.array([[g.probs.get(lang, 0.0) for lang in languages] for g in guesses], dtype=np.float64)
        return cls(languages, probs.reshape(len(guesses), len(languages)),
                   np.array([g.outside for g in guesses], dtype=np.float64))

    def __len__(self) -> int:
        return len(self.outside)

    def __getitem__(self, i: int) -> Guess:
        return Guess(dict(zip(self.languages, self.probs[i].tolist(), strict=True)), float(self.outside[i]))

    def __iter__(self) -> Iterator[Guess]:
        for row, outside in zip(self.probs.tolist(), self.outside.tolist(), strict=True):
            yield Guess(dict(zip(self.languages, row, strict=True)), outside)


class Detector(ABC):
    """A language identifier restricted to `languages` (ISO 639-1 codes, in order of preference)."""

    name: ClassVar[str]

    def __init__(self, languages: tuple[str, ...]) -> None:
        self.languages = languages

    @abstractmethod
    def detect(self, text: str) -> Guess:
        """The guess for `text`; text without letters gets a flat guess."""

    def detect_many(self, texts: Sequence[str], other_share: float = 0.0) -> list[Guess]:
        """The guesses for `texts`, as `detect` gives them, except that `outside` is only exact from
        `other_share` up: below, a detector may give 0.0 once it has proved the mass smaller, which spares
        it the unrestricted model (the caller only asks whether the mass reaches `other_share`)."""
        return [self.detect(text) for text in texts]

    def table(self, texts: Sequence[str], other_share: float = 0.0) -> Guesses:
        """`detect_many`'s guesses as arrays. A detector that computes them as arrays overrides it, and a
        batch then makes no Python object per text."""
        return Guesses.of(self.languages, self.detect_many(texts, other_share))

    def _guess(self, scores: dict[str, float]) -> Guess:
        """Restrict an unrestricted distribution `scores` (summing to about 1) to the language set."""
        inside = {lang: scores.get(lang, 0.0) for lang in self.languages}
        total = sum(inside.values())
        if total <= 0.0:
            return self.flat()
        return Guess(probs={lang: p / total for lang, p in inside.items()}, outside=max(0.0, 1.0 - total))

    def flat(self) -> Guess:
        share = 1.0 / len(self.languages)
        return Guess(probs=dict.fromkeys(self.languages, share))


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
            raise SetupError("detector 'lingua' needs the lingua extra: pip install 'tamis[lingua]'") from exc
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


@registry.cached
def available() -> dict[str, str]:
    """Every registered detector name and the `module:Class` that implements it."""
    return registry.names(ENTRY_POINT_GROUP, "detector")


class _Registered(Mapping[str, type[Detector]]):
    """The detectors by name, each imported when it is looked up."""

    def __getitem__(self, name: str) -> type[Detector]:
        return registry.load(available(), name, "detector")

    def __contains__(self, name: object) -> bool:
        return name in available()

    def __iter__(self) -> Iterator[str]:
        return iter(available())

    def __len__(self) -> int:
        return len(available())


DETECTORS: Mapping[str, type[Detector]] = _Registered()
DetectorName = Annotated[str, Check("one of the registered detectors (tamis registers py3langid, langdetect, lingua)",
                                    lambda v: v in DETECTORS)]
