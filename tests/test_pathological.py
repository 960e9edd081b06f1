"""Pathological inputs, each with its exact outcome: one clear record, never a crash or a hang."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import pytest

from pipeline import Document, Stage, load_config, readers
from pipeline.document import Block
from pipeline.runner import Pipeline
from stages.boilerplate import Boilerplate, BoilerplateConfig
from stages.rulebook import Rule
from tests.conftest import ROOT, jsonl, tamis


@pytest.fixture(scope="module")
def pipe() -> Pipeline:
    p = Pipeline.from_config(load_config(ROOT / "config.yaml"))
    yield p
    p.close()


def outcome(pipe: Pipeline, raw: bytes, content_type: str = readers.UNKNOWN) -> tuple[str, str | None, str | None]:
    [doc] = pipe.process([Document(id="x", source="t", content_type=content_type, raw=raw)])
    return doc.status, doc.stage, doc.reason


def test_a_50_mb_single_line_is_refused_by_the_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as out:
        out.write(b"a" * (50 * 1024 * 1024))
    [doc] = readers.read([str(big)], max_bytes=load_config(ROOT / "config.yaml").run.max_bytes)
    assert (doc.status, doc.stage, doc.reason) == (
        "error", "read", "document is 52428800 bytes, over the limit run.max_bytes=20000000")
    assert doc.raw is None


def test_html_nested_10000_deep_is_filtered_without_crashing(pipe: Pipeline) -> None:
    html = "<html><body>" + "<div>" * 10_000 + "<p>Un paragraphe tout au fond de la page.</p>" + "</div>" * 10_000
    assert outcome(pipe, html.encode(), "text/html") == ("filtered", "extract", "no main text")


@pytest.mark.parametrize(("raw", "kind"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF document"),
    (b"PK\x03\x04\x14\x00\x00\x00", "zip archive"),
])
def test_binary_files_are_unsupported_content(pipe: Pipeline, raw: bytes, kind: str) -> None:
    assert outcome(pipe, raw) == ("filtered", "decode", f"unsupported content: {kind}")


@pytest.mark.parametrize("raw", [b"", b"  \n\t\n\xc2\xa0\n"])
def test_an_empty_file_is_filtered(pipe: Pipeline, raw: bytes) -> None:
    assert outcome(pipe, raw) == ("filtered", "extract", "empty document")


def test_a_file_of_only_boilerplate_is_filtered_with_its_removals(pipe: Pipeline) -> None:
    raw = "PUBLICITÉ\n\nPartager sur Facebook\n\nLaisser un commentaire\n".encode()
    [doc] = pipe.process([Document(id="x", source="t", raw=raw)])
    assert (doc.status, doc.stage, doc.reason) == ("filtered", "boilerplate", "only boilerplate")
    assert [r.text for r in doc.removed] == ["PUBLICITÉ", "Partager sur Facebook", "Laisser un commentaire"]


def test_invalid_utf8_and_non_json_lines_in_jsonl_are_error_records_and_the_rest_is_processed(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"text": "Premier article, en bon ordre."}\n{"text": "caf\xe9"}\n{oops\n'
                       b'{"text": "Dernier article, en bon ordre."}\n')
    done = tamis("run", str(source), "--jobs", "1")
    assert done.returncode == 1
    assert [(r["status"], r.get("reason")) for r in jsonl(done.stdout)] == [
        ("ok", None),
        ("error", "line 2: not valid UTF-8 (invalid continuation byte at byte 13)"),
        ("error", "line 3: not valid JSON (Expecting property name enclosed in double quotes at column 2)"),
        ("ok", None),
    ]


class Swallow(Stage):
    """A stage guarded as lxml and trafilatura guard their work: every `Exception` caught, and on it goes."""

    name = "swallow"

    def process(self, doc: Document) -> Document:
        end = time.monotonic() + 5
        while time.monotonic() < end:
            with contextlib.suppress(Exception):
                time.sleep(0.01)
        doc.extra["finished"] = True
        return doc


def test_the_time_limit_holds_in_code_that_catches_every_exception() -> None:
    [doc] = Pipeline([Swallow(None)], timeout=0.3).process([Document(id="x", source="t", plain_text="x")])
    assert (doc.status, doc.stage, doc.reason) == ("error", "swallow", "timed out after 0.3 s (run.timeout)")


class Stuck(Stage):
    """A batch stage that gets stuck on one document (`stuck` in its text) and records every call."""

    name = "stuck"
    calls: list[list[str]] = []

    def process(self, doc: Document) -> Document:
        return self.process_batch([doc])[0]

    def process_batch(self, docs: list[Document]) -> list[Document]:
        self.calls.append([d.id for d in docs])
        for doc in docs:
            doc.extra["seen"] = doc.extra.get("seen", 0) + 1
            if doc.plain_text == "stuck":
                time.sleep(30)
        return docs


def test_one_stuck_document_costs_a_batch_stage_one_limit_per_halving_not_the_limit_times_the_batch() -> None:
    stage = Stuck(None)
    stage.calls = []
    docs = [Document(id=str(i), source="t", plain_text="stuck" if i == 5 else "fine") for i in range(8)]
    out = Pipeline([stage], timeout=0.2).process(docs)
    assert [(d.status, d.reason) for d in out] == [("ok", None)] * 5 + [
        ("error", "timed out after 0.2 s (run.timeout)")] + [("ok", None)] * 2
    # The whole batch, then halves: the half without the stuck document is done once, and kept.
    assert stage.calls == [[str(i) for i in range(8)], ["0", "1", "2", "3"], ["4", "5", "6", "7"], ["4", "5"],
                           ["4"], ["5"], ["6", "7"]]
    assert [d.extra["seen"] for d in out if d.status == "ok"] == [1] * 7  # each retry ran on fresh copies


def test_a_runaway_user_rule_is_skipped_for_the_rest_of_the_document_with_one_warning() -> None:
    rule = Rule(id="my.runaway", pattern="(a|aa)+b", reason="runaway pattern")
    stage = Boilerplate(BoilerplateConfig(rules=(rule,), rule_timeout=0.02, structure="off"))
    stage.setup()
    lines = "\n".join("a" * 60 for _ in range(200))
    doc = stage.process(Document(id="x", source="t", blocks=[Block(kind="paragraph", text=lines, index=0)]))
    assert [w.message for w in doc.warnings] == [
        "rule my.runaway timed out (rule_timeout) and was skipped for the rest of the document"]
    assert doc.text == lines


def test_two_instances_of_one_stage_each_record_their_own_name(tmp_path: Path) -> None:
    config = tmp_path / "two.yaml"
    config.write_text(
        "pipeline: [decode, extract, strip, boilerplate]\n"
        "stages:\n"
        "  strip: {stage: boilerplate, languages: [], structure: 'off', rules: [{id: my.promo, pattern: '^code promo', "
        "reason: promotion}]}\n", encoding="utf-8")
    pipe = Pipeline.from_config(load_config(config))
    article = ("Le conseil municipal a voté mardi un budget qui augmente les dépenses pour les écoles et les "
               "transports publics de manière modeste sur les deux prochaines années.")
    [doc] = pipe.process([Document(id="x", source="t", raw=f"{article}\n\nCode promo : ETE\n\nPUBLICITÉ\n".encode())])
    assert [(r.stage, r.rule) for r in doc.removed] == [("strip", "my.promo"), ("boilerplate", "fr.ad-label")]
    assert doc.done == ["decode", "extract", "strip", "boilerplate"]
    stats = pipe.take_stats()
    assert (stats["strip"].counters, stats["boilerplate"].counters) == (
        {"removed:my.promo": 1}, {"removed:fr.ad-label": 1})


def test_running_tamis_over_its_own_output_changes_nothing(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(json.dumps({"id": "mixed", "text": (
        "Seules quelques familles oseront porter plainte pour la disparition de 353 personnes. Just don't go "
        "there, the lawyers said to all of them. Le procès a lieu à Brazzaville en 2005, devant une cour "
        "militaire, et il sera retransmis à la télévision pendant quelques semaines.")}) + "\n", encoding="utf-8")
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    env = {"ARGOS_PACKAGES_DIR": str(tmp_path / "no-models")}  # the translation is missing: a warning
    assert tamis("run", str(ROOT / "fixtures/articles"), str(mixed), "-o", str(first), "--jobs", "1",
                 env=env).returncode == 0
    assert [w["stage"] for w in jsonl(first)[-1]["warnings"]] == ["translate"]
    done = tamis("run", str(first), "-o", str(second), "--jobs", "1", env=env)
    assert done.returncode == 0, done.stderr
    assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
