"""`languages.policy: {de: separate}` with `--format md/txt`: the German leaves the document's file and goes to a
sibling file per language (`<stem>.de.md`), listed in `index.jsonl`, never lost and never overwriting a name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import jsonl, tamis

FRENCH = ["Le gouvernement a présenté son plan hier soir devant les députés de l'Assemblée nationale.",
          "Les syndicats ont annoncé une grève pour la semaine prochaine dans tout le pays.",
          "Le ministre a répondu que le texte serait discuté au Sénat avant la fin du mois de juin, puis voté "
          "en seconde lecture par les deux chambres du Parlement."]
GERMAN = "Die Regierung hat am Montag neue Maßnahmen für die Wirtschaft des ganzen Landes angekündigt."
MIXED = "\n\n".join([FRENCH[0], GERMAN, FRENCH[1], FRENCH[2]]) + "\n"
PLAIN = "\n\n".join(FRENCH) + "\n"
SEPARATE = ("--jobs", "1", "--set", "pipeline=[decode, extract, languages]", "--set", "languages.policy.de=separate")


def files(out: Path, fmt: str) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.iterdir()) if p.suffix == f".{fmt}"}


def inputs(folder: Path, texts: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("fmt", ["md", "txt"])
def test_separated_german_goes_to_a_sibling_file_listed_in_the_index(tmp_path: Path, fmt: str) -> None:
    source = inputs(tmp_path / "in", {"article.txt": MIXED, "plain.txt": PLAIN})
    out = tmp_path / "out"
    done = tamis("run", str(source), "--format", fmt, "-o", str(out), *SEPARATE)
    assert done.returncode == 0, done.stderr
    assert files(out, fmt) == {f"article.{fmt}": PLAIN, f"article.de.{fmt}": f"{GERMAN}\n", f"plain.{fmt}": PLAIN}
    assert jsonl(out / "index.jsonl") == [
        {"id": "article.txt", "status": "ok", "file": f"article.{fmt}", "separated": {"de": f"article.de.{fmt}"}},
        {"id": "plain.txt", "status": "ok", "file": f"plain.{fmt}"}]


@pytest.mark.parametrize("order", ["sibling first", "document first"])
def test_a_sibling_name_and_a_document_name_never_collide(tmp_path: Path, order: str) -> None:
    records = [{"id": "x", "text": MIXED}, {"id": "x.de.txt", "text": PLAIN}]
    if order == "sibling first":
        records.reverse()
    source = tmp_path / "dump.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out"
    done = tamis("run", str(source), "--format", "md", "-o", str(out), *SEPARATE)
    assert done.returncode == 0, done.stderr
    written = files(out, "md")
    index = {e["id"]: e for e in jsonl(out / "index.jsonl")}
    mixed, plain = index["x"], index["x.de.txt"]
    assert len(written) == 3
    assert written[mixed["file"]] == PLAIN and written[plain["file"]] == PLAIN
    assert written[mixed["separated"]["de"]] == f"{GERMAN}\n"
    assert mixed["separated"]["de"] == mixed["file"].removesuffix(".md") + ".de.md"  # the same stem


def test_one_file_output_writes_the_sibling_beside_it(tmp_path: Path) -> None:
    source = inputs(tmp_path / "in", {"article.txt": MIXED})
    out = tmp_path / "one.md"
    done = tamis("run", str(source / "article.txt"), "--format", "md", "-o", str(out), *SEPARATE)
    assert done.returncode == 0, done.stderr
    assert files(tmp_path, "md") == {"one.md": PLAIN, "one.de.md": f"{GERMAN}\n"}


def test_a_new_run_removes_the_previous_runs_siblings(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = inputs(tmp_path / "first", {"article.txt": MIXED})
    assert tamis("run", str(first), "--format", "md", "-o", str(out), *SEPARATE).returncode == 0
    assert set(files(out, "md")) == {"article.md", "article.de.md"}
    second = inputs(tmp_path / "second", {"article.txt": PLAIN})
    assert tamis("run", str(second), "--format", "md", "-o", str(out), *SEPARATE).returncode == 0
    assert files(out, "md") == {"article.md": PLAIN}


def test_resume_writes_the_siblings_of_the_documents_it_completes(tmp_path: Path) -> None:
    source = inputs(tmp_path / "in", {"a.txt": MIXED, "b.txt": MIXED, "c.txt": PLAIN})
    full, cut = tmp_path / "full", tmp_path / "cut"
    for out in (full, cut):
        assert tamis("run", str(source), "--format", "md", "-o", str(out), *SEPARATE).returncode == 0
    index = (cut / "index.jsonl").read_text().splitlines(keepends=True)
    (cut / "index.jsonl").write_text(index[0] + index[1][:10])  # torn, as after a crash
    for name in ("b.md", "b.de.md", "c.md"):
        (cut / name).unlink()
    done = tamis("run", str(source), "--format", "md", "-o", str(cut), "--resume", *SEPARATE)
    assert done.returncode == 0, done.stderr
    assert files(cut, "md") == files(full, "md")
    assert set(files(full, "md")) == {"a.md", "a.de.md", "b.md", "b.de.md", "c.md"}
    assert (cut / "index.jsonl").read_bytes() == (full / "index.jsonl").read_bytes()


def test_a_new_one_file_run_removes_the_previous_runs_siblings(tmp_path: Path) -> None:
    source = inputs(tmp_path / "in", {"mixed.txt": MIXED, "plain.txt": PLAIN})
    out = tmp_path / "one.md"
    assert tamis("run", str(source / "mixed.txt"), "--format", "md", "-o", str(out), *SEPARATE).returncode == 0
    assert set(files(tmp_path, "md")) == {"one.md", "one.de.md"}
    (tmp_path / "one.old.md").write_text("the user's own file\n", encoding="utf-8")
    done = tamis("run", str(source / "plain.txt"), "--format", "md", "-o", str(out), *SEPARATE)
    assert done.returncode == 0, done.stderr
    assert files(tmp_path, "md") == {"one.md": PLAIN, "one.old.md": "the user's own file\n"}
