"""Property tests: whatever comes in, the run goes on and every input yields exactly one record.

A short campaign for CI; `bench/fuzz.py` runs a long one.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import load_config, readers
from pipeline.document import Document
from pipeline.runner import Pipeline
from tests.conftest import ROOT

TAGS = ["p", "div", "h1", "h2", "li", "ul", "a", "span", "script", "style", "table", "td", "br", "article", "nav"]


@pytest.fixture(scope="module")
def pipe() -> Pipeline:
    p = Pipeline.from_config(load_config(ROOT / "config.yaml", ["run.timeout=30"]))
    p.setup()
    yield p
    p.close()


def check_one_record_each(pipe: Pipeline, docs: list[Document]) -> None:
    out = pipe.process(docs)
    assert [d.id for d in out] == [d.id for d in docs]
    for doc in out:
        assert doc.status in ("ok", "filtered"), (doc.stage, doc.reason)
        line = json.dumps(doc.to_json(), ensure_ascii=False).encode("utf-8")
        assert Document.from_json(json.loads(line)).to_json() == doc.to_json()


def html_soup() -> st.SearchStrategy[str]:
    leaf = st.text(max_size=40)
    return st.recursive(
        leaf,
        lambda inner: st.builds(lambda tag, kids: f"<{tag}>{''.join(kids)}</{tag}>" if kids else f"<{tag}>",
                                st.sampled_from(TAGS), st.lists(inner, max_size=4)),
        max_leaves=30,
    )


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=3000), content_type=st.sampled_from(["text/plain", "text/html", readers.UNKNOWN]))
def test_arbitrary_bytes(pipe: Pipeline, data: bytes, content_type: str) -> None:
    check_one_record_each(pipe, [Document(id="b", source="fuzz", content_type=content_type, raw=data)])


@FUZZ
@given(text=st.text(alphabet=st.characters(codec=None), max_size=2000))
def test_arbitrary_unicode_in_jsonl(pipe: Pipeline, text: str) -> None:
    line = json.dumps({"id": "u", "text": text}).encode("ascii")  # escapes lone surrogates as JSON allows
    check_one_record_each(pipe, [readers.from_line(line, 1, "u", "fuzz")])


@FUZZ
@given(soup=html_soup())
def test_random_html_soup(pipe: Pipeline, soup: str) -> None:
    raw = soup.encode("utf-8", "surrogatepass")
    check_one_record_each(pipe, [Document(id="h", source="fuzz", content_type="text/html", raw=raw)])


@FUZZ
@given(record=st.dictionaries(st.sampled_from(["id", "text", "html", "url", "x"]),
                              st.one_of(st.none(), st.integers(), st.text(max_size=200), st.lists(st.text(max_size=5))),
                              max_size=5))
def test_random_jsonl_records(pipe: Pipeline, record: dict) -> None:
    line = json.dumps(record).encode("ascii")
    [doc] = [readers.from_line(line, 7, "r", "fuzz")]
    out = pipe.process([doc])
    assert len(out) == 1
    json.dumps(out[0].to_json(), ensure_ascii=False).encode("utf-8")


def test_hostile_unicode_survives(pipe: Pipeline) -> None:
    text = ("\u202eRTL override\u202c " + "e\u0301" * 50 + " \u200b\u200d\ufeff " + "x" * 100_000 + "\n\n"
            + "Paragraphe\u00ad normal.")
    check_one_record_each(pipe, [Document(id="h", source="fuzz", plain_text=text)])
