"""Content safety: on article text with nothing to remove, the default pipeline removes (almost) nothing.

`fixtures/content_safety/mixed.jsonl` is article text only (see its README), so every removal there is a
false positive: none may be a line of 8 words or more, and only a handful may be shorter. Hand-made pages
in other languages and shapes (headings at the end, short paragraphs, scripts without spaces) join them.
"""

from __future__ import annotations

import json

import pytest

from pipeline import Document, load_config
from pipeline.runner import Pipeline
from tests.conftest import FIXTURES, ROOT

# The default pipeline without translation, which removes nothing and needs models.
STAGES = [spec.instance for spec in load_config(ROOT / "config.yaml").stages if spec.stage != "translate"]
MIXED = [json.loads(line)
         for line in (FIXTURES / "content_safety/mixed.jsonl").read_text(encoding="utf-8").splitlines()]
OWN = {
    "es-news": "El Gobierno aprobó el martes una subida de las pensiones del 2 % para el próximo año.\n\n"
               "La medida beneficiará a casi diez millones de jubilados, según el ministerio.\n\n"
               "Reacciones\n\nLos sindicatos la consideran insuficiente y piden nuevas negociaciones en enero.",
    "fr-ends-with-headings": "Le conseil municipal a adopté mardi soir le budget de la ville après un long débat "
                             "sur les écoles, les transports publics et la rénovation des piscines du centre.\n\n"
                             "Le maire a parlé d'un compromis équitable entre les quartiers, qui sera revu au "
                             "printemps prochain."
                             "\n\nLes étapes du projet de rénovation de la gare centrale\n\nCalendrier et coûts",
    "zh-news": "国家统计局周二公布的数据显示，今年前三个季度国内生产总值同比增长百分之五。\n\n"
               "专家表示，消费和投资的恢复是经济增长的主要动力。\n\n"
               "分析人士认为，第四季度经济将保持稳定增长的态势。",
}


@pytest.fixture(scope="module")
def outputs() -> list[Document]:
    pipe = Pipeline.from_config(load_config(ROOT / "config.yaml", [f"pipeline={json.dumps(STAGES)}"]))
    docs = [Document(id=d["id"], source=d["id"], raw=d["text"].encode()) for d in MIXED]
    docs += [Document(id=name, source=name, raw=text.encode()) for name, text in OWN.items()]
    out = pipe.process(docs)
    pipe.close()
    return out


def _removed_lines(docs: list[Document]) -> list[tuple[str, str, str]]:
    return [(doc.id, r.rule, line) for doc in docs for r in doc.removed for line in r.text.split("\n")]


def test_no_sentence_of_article_text_is_removed(outputs: list[Document]) -> None:
    assert [x for x in _removed_lines(outputs) if len(x[2].split()) >= 8] == []


def test_at_most_a_handful_of_short_lines_are_removed(outputs: list[Document]) -> None:
    assert len(_removed_lines(outputs)) <= 5, _removed_lines(outputs)


def test_every_document_comes_out_whole(outputs: list[Document]) -> None:
    assert [(doc.id, doc.status) for doc in outputs if doc.status != "ok"] == []
