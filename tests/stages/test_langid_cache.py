"""The arrays derived from py3langid's model are kept in the user's cache directory and memory-mapped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import SetupError
from stages import langid_batch
from stages.detectors import Guess

LANGUAGES = ("fr", "de", "en")
TEXTS = ["Der Bundestag hat am Donnerstag ein neues Gesetz beschlossen.",
         "Le maire a inauguré la nouvelle bibliothèque samedi matin.",
         "El gobierno anunció ayer nuevas medidas para la economía del país y los trabajadores.", "Kim", ""]


def _forget() -> None:
    """What a new process starts with: nothing loaded (py3langid's own model may stay, it is not derived)."""
    for function in (langid_batch._classes, langid_batch._automaton, langid_batch._scorer):
        function.cache_clear()


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _forget()
    yield tmp_path
    _forget()


def _guesses() -> list[Guess]:
    return langid_batch.Py3langid(LANGUAGES).detect_many(TEXTS, other_share=0.99)


def test_a_second_process_memory_maps_what_the_first_stored(fresh: Path) -> None:
    computed = _guesses()
    folder = langid_batch.cache_dir()
    assert folder.parent == fresh / "tamis" and folder.name.startswith("py3langid-0.")
    assert sorted(p.name for p in folder.iterdir()) == [
        "automaton", "classes", "scorer-fr-de-en-groups24-features5000-coarse6"]
    _forget()
    automaton, scorer = langid_batch.warm(LANGUAGES)
    assert isinstance(automaton.step.base, np.memmap) and isinstance(scorer.full_table.base, np.memmap)
    assert _guesses() == computed


def test_warm_is_loaded_once_per_process(fresh: Path) -> None:
    first = langid_batch.warm(LANGUAGES)
    assert langid_batch.warm(LANGUAGES) is not first  # a new tuple, of the very same arrays
    assert all(a is b for a, b in zip(langid_batch.warm(LANGUAGES), first, strict=True))


def test_an_unwritable_cache_directory_only_costs_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    _forget()
    try:
        with_cache_blocked = _guesses()
        assert blocker.read_text() == ""
    finally:
        _forget()
    assert with_cache_blocked[0].lang == "de" and with_cache_blocked[1].lang == "fr"
    assert with_cache_blocked[2].outside >= 0.99


def test_an_unreadable_cache_is_computed_again_with_a_warning(fresh: Path) -> None:
    computed = _guesses()
    broken = langid_batch.cache_dir() / "automaton" / "step.npy"
    broken.write_bytes(b"not an array")
    _forget()
    with pytest.warns(UserWarning, match="unreadable language-model cache"):
        again = _guesses()
    assert again == computed
    _forget()
    assert _guesses() == computed  # and stored again, whole
    assert np.load(broken).dtype == np.uint16


def test_an_unknown_language_is_refused_before_anything_is_built(fresh: Path) -> None:
    with pytest.raises(SetupError, match="py3langid does not know language"):
        langid_batch.warm(("fr", "xx"))
    assert not (langid_batch.cache_dir() / "scorer-fr-xx-groups24-features5000-coarse6").exists()
