from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.document import Block, Document, Metadata
from stages.dedupe import Dedupe, DedupeConfig, _repeats_by_nature

CASES = yaml.safe_load((Path(__file__).parents[2] / "fixtures" / "cases" / "dedupe.yaml").read_text(encoding="utf-8"))


def _doc(blocks: list[list[str]], title: str | None = None, content_type: str = "text/plain") -> Document:
    return Document(id="d", source="case", metadata=Metadata(title=title), content_type=content_type,
                    blocks=[Block(kind=kind, text=text, index=i) for i, (kind, text) in enumerate(blocks)])  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_dedupe_case(case: dict[str, Any]) -> None:
    doc = _doc(case["blocks"], case.get("title"), case.get("content_type", "text/plain"))
    out = Dedupe(DedupeConfig(**case.get("config", {}))).process(doc)
    assert [b.index for b in out.blocks] == case["expected"]["kept"]
    assert [[r.rule, r.block] for r in out.removed] == case["expected"]["removed"]
    assert all(r.stage == "dedupe" and r.text == case["blocks"][r.block][1] for r in out.removed)


def test_reason_names_the_kept_block() -> None:
    out = Dedupe(DedupeConfig()).process(_doc([["paragraph", "Titre"], ["paragraph", "Répété ici."],
                                               ["paragraph", "répété, ici"], ["paragraph", "Titre"]]))
    assert [r.reason for r in out.removed] == [
        "same words as block 1, differing only in case, spacing or punctuation", "repeats the title (block 0)"]


def test_mark_only_keeps_blocks_out_of_the_text() -> None:
    out = Dedupe(DedupeConfig(mark_only=True)).process(_doc([["paragraph", "Titre"], ["paragraph", "Texte."],
                                                              ["paragraph", "Texte."]]))
    assert [(b.index, b.duplicate_of) for b in out.blocks] == [(0, None), (1, None), (2, 1)]
    assert [r.rule for r in out.removed] == ["repeated_paragraph"]
    assert out.text == "Titre\n\nTexte."


def test_seed_003_title_and_paragraph_repeats_are_removed() -> None:
    from stages.extract import split_paragraphs
    from stages.normalise import Normalise, NormaliseConfig
    from stages.repair import Repair, RepairConfig

    path = next((Path(__file__).parents[2] / "fixtures" / "articles").glob("003_*.txt"))
    repair = Repair(RepairConfig())
    repair.setup()
    doc = Document(id="003", source=str(path), blocks=split_paragraphs(path.read_text(encoding="utf-8")))
    out = Dedupe(DedupeConfig()).process(Normalise(NormaliseConfig()).process(repair.process(doc)))
    assert [(r.rule, r.block) for r in out.removed] == [("repeated_paragraph", 3), ("repeated_title", 4)]
    assert len({b.text for b in out.blocks}) == len(out.blocks)


_TUTORIAL = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Partager un dépôt</title></head><body>
<nav><a href="/">Accueil</a> <a href="/docs">Documentation</a> <a href="/blog">Blog</a></nav><article>
<h1>Partager un dépôt</h1>
<p>Ce guide montre comment deux personnes travaillent sur le même dépôt sans serveur central, en tirant les
modifications l’une de l’autre à tour de rôle.</p>
<p>Alice clone d’abord le dépôt public dans son répertoire de travail et vérifie son état.</p>
<pre>$ hg pull -u</pre>
<p>Elle modifie ensuite un fichier et enregistre le changement dans son propre dépôt local.</p>
<pre>$ hg commit -m "Correction"</pre>
<p>Bob fait de même de son côté, puis récupère les changements publiés entre-temps par Alice.</p>
<pre>$ hg pull -u</pre>
<p>Il corrige à son tour une autre partie du code et enregistre ce second changement.</p>
<pre>$ hg commit -m "Correction"</pre>
<h2>Les composants</h2>
<p>Le service se compose de trois éléments qui communiquent par messages :</p>
<ul><li>Frontal</li><li>File d’attente</li></ul>
<h3>Frontal</h3>
<p>Le frontal reçoit les requêtes des clients, les valide et les range dans la file d’attente avec leur priorité.</p>
<h3>File d’attente</h3>
<p>La file garde les tâches jusqu’à ce qu’un exécuteur soit libre, puis les lui remet dans l’ordre des priorités.</p>
<p>Ce guide montre comment deux personnes travaillent sur le même dépôt sans serveur central, en tirant les
modifications l’une de l’autre à tour de rôle.</p>
</article><footer><p>© 2024 Exemple</p></footer></body></html>"""


def test_tutorial_page_keeps_its_recurring_commands_and_headings() -> None:
    """A tutorial repeats its commands, and names its parts in a list and again as section headings: all of
    that is the article's text. The copied paragraph at the end is still removed, as is nothing else."""
    from pipeline import Pipeline, load_config

    stages = "pipeline=[decode,extract,repair,boilerplate,normalise,dedupe]"
    pipeline = Pipeline.from_config(load_config(None, [stages]))
    [out] = pipeline.process([Document(id="tuto", source="tuto", content_type="text/html", raw=_TUTORIAL.encode())])
    texts = [b.text for b in out.blocks]
    assert texts.count("$ hg pull -u") == 2 and texts.count('$ hg commit -m "Correction"') == 2
    assert [(b.kind, b.text) for b in out.blocks if b.text in ("Frontal", "File d’attente")] == [
        ("list_item", "Frontal"), ("list_item", "File d’attente"),
        ("heading", "Frontal"), ("heading", "File d’attente")]
    assert [(r.stage, r.rule, r.text[:17]) for r in out.removed] == [
        ("dedupe", "repeated_paragraph", "Ce guide montre c")]


def _reference_removals(doc: Document, near: bool) -> list[tuple[str, int]]:
    """The repeats by brute force: every block's whole key compared with those of the blocks kept before it."""
    from stages import text

    seen: list[tuple[str, str, Block]] = []  # (text, key, block) of first occurrences
    titles = {text.key(doc.metadata.title)} if doc.metadata.title else set()
    removed = []
    for position, block in enumerate(doc.blocks):
        key = text.key(block.text)
        if not key:
            continue
        first = next((b for t, _, b in seen if t == block.text), None)
        is_near = first is None and near and any(k == key for _, k, _ in seen)
        if is_near:
            first = next(b for _, k, b in seen if k == key)
        if first is None:
            seen.append((block.text, key, block))
            if position == 0 or block.kind in ("title", "heading"):
                titles.add(key)
            continue
        if key not in titles and _repeats_by_nature(block.text, False):
            continue
        rule = "near_duplicate" if is_near else "repeated_title" if key in titles else "repeated_paragraph"
        removed.append((rule, block.index))
    return removed


@pytest.mark.parametrize("near", [True, False])
def test_repeats_found_as_by_comparing_every_key(near: bool) -> None:
    # Blocks that start alike (the groups keys are built in) and differ later, or only in case and punctuation.
    import random

    rng = random.Random(7)
    words = ["Le", "la", "président", "Kiev", "a", "dit", "«", "»", ",", "-", "LE", "…", "1 000"]
    for _ in range(300):
        blocks = [["title" if rng.random() < 0.1 else "paragraph",
                   " ".join(rng.choice(words) for _ in range(rng.randint(0, 6)))] for _ in range(rng.randint(1, 9))]
        doc = _doc(blocks, title=rng.choice([None, "Le président", "la"]))
        expected = _reference_removals(doc, near)
        out = Dedupe(DedupeConfig(near=near)).process(doc)
        assert [(r.rule, r.block) for r in out.removed] == expected
