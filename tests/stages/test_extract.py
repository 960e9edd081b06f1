import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pipeline.document import Document
from stages.decode import Decode, DecodeConfig
from stages.extract import Extract, ExtractConfig, _clean, load_html, split_paragraphs

ROOT = Path(__file__).resolve().parents[2]
DATA = yaml.safe_load((ROOT / "fixtures/cases/extract.yaml").read_text(encoding="utf-8"))
CASES = DATA["cases"]


def extract_html(raw: bytes, **options: Any) -> Document:
    doc = Decode(DecodeConfig()).process(Document(id="p", source="p.html", content_type="text/html", raw=raw))
    return Extract(ExtractConfig(**options)).process(doc)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_plain_text_paragraphs(case: dict[str, Any]) -> None:
    blocks = split_paragraphs(case["input"])
    assert [b.text for b in blocks] == case["blocks"]
    assert [b.index for b in blocks] == list(range(len(blocks)))
    assert {b.kind for b in blocks} <= {"paragraph"}


@given(st.lists(st.sampled_from(["Le mot.", "x", "", " ", "\t", "\xa0", "\u2028", "\x1c", "\n", "\r", "\r\n",
                                  "\n\n", " \n", "\n ", "«\u202f»"]), max_size=12).map("".join))
def test_plain_text_paragraphs_are_the_non_blank_lines_stripped_at_the_end(text: str) -> None:
    """Each chunk between blank lines is its lines stripped at the end, the empty ones left out, whether
    `split_paragraphs` takes it as it is or cuts it into lines."""
    chunks = re.split(r"\n(?:[^\S\n]*\n)+", text.replace("\r\n", "\n").replace("\r", "\n"))
    expected = [body for chunk in chunks
                if (body := "\n".join(line.rstrip() for line in chunk.split("\n") if line.strip()))]
    assert [b.text for b in split_paragraphs(text)] == expected


def test_html_gives_typed_blocks_and_metadata() -> None:
    doc = extract_html((ROOT / "fixtures/html/mieter_de.html").read_bytes())
    assert doc.status == "ok" and doc.html is None
    assert doc.metadata.encoding == "cp1252"  # declared ISO-8859-1, read as browsers do
    assert (doc.metadata.title, doc.metadata.author, doc.metadata.date, doc.metadata.site) == (
        "Neue Regeln für Mieter", "Anna Schmidt", "2024-03-05", "Tageblatt Beispiel")
    kinds = [(b.kind, b.text[:25]) for b in doc.blocks]
    assert ("heading", "Was sich ändert") in kinds
    assert ("list_item", "Abrechnungen müssen inner") in kinds
    assert ("list_item", "Belege können digital ein") in kinds
    assert ("quote", "Das ist ein guter Tag für") in kinds
    last = doc.blocks[-1]
    assert last.kind == "paragraph" and last.text.endswith("Bürokratie.\nDas Gesetz tritt im Sommer in Kraft.")
    assert "Startseite" not in doc.text and "Impressum" not in doc.text
    assert [b.index for b in doc.blocks] == list(range(len(doc.blocks)))


def test_html_without_main_text_is_filtered() -> None:
    doc = extract_html(b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    assert (doc.status, doc.reason) == ("filtered", "no main text")


def test_plain_text_path_unchanged_by_html_options() -> None:
    doc = Document(id="t", source="t.txt", plain_text="Eins.\n\nZwei.")
    doc = Extract(ExtractConfig(favor="precision", comments=True)).process(doc)
    assert [b.text for b in doc.blocks] == ["Eins.", "Zwei."] and doc.plain_text is None


@pytest.mark.parametrize("case", DATA["empty"], ids=[c["id"] for c in DATA["empty"]])
def test_empty_document_is_filtered(case: dict[str, Any]) -> None:
    doc = Document(id="e", source="e", content_type=case["content_type"], raw=case["raw"].encode())
    doc = Extract(ExtractConfig()).process(Decode(DecodeConfig()).process(doc))
    assert (doc.status, doc.stage, doc.reason, doc.blocks) == ("filtered", "extract", "empty document", [])


def test_extracted_record_read_back_passes_through() -> None:
    blocks = split_paragraphs("Eins.\n\nZwei.")
    doc = Extract(ExtractConfig()).process(Document(id="r", source="r", blocks=list(blocks)))
    assert (doc.status, doc.blocks) == ("ok", blocks)


def page(body: str, head: str = "") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


LONG = ("The committee met on Tuesday to discuss the budget for the coming year, and its members agreed on "
        "most of the points that had divided them for months.")


def test_text_after_an_element_is_kept_in_order() -> None:
    body = (f"<article><h1>Golf leaders after the first round</h1><p>By John Smith<span>, The Sports Network</span>"
            f"</p>More than 60 players took part in the opening round of the championship on Thursday, and the "
            f"course played hard all day for everyone in the field.<p>{LONG}</p></article>")
    doc = extract_html(page(body))
    assert [(b.kind, b.text[:30]) for b in doc.blocks] == [
        ("title", "Golf leaders after the first r"), ("paragraph", "By John Smith, The Sports Netw"),
        ("paragraph", "More than 60 players took part"), ("paragraph", "The committee met on Tuesday t")]
    assert [b.index for b in doc.blocks] == [0, 1, 2, 3]


def test_headline_is_a_title_block_first() -> None:
    head = "<title>Budget agreed | Example Times</title><meta property='og:title' content='Budget agreed at last'>"
    doc = extract_html(page(f"<article><h1>Budget agreed at last</h1><p>{LONG}</p><p>{LONG}</p></article>", head))
    assert [(b.kind, b.text) for b in doc.blocks[:2]] == [("title", "Budget agreed at last"), ("paragraph", LONG)]
    assert doc.metadata.title == "Budget agreed at last"


def test_metadata_title_becomes_the_title_block_when_the_body_has_none() -> None:
    head = "<meta property='og:title' content='Budget agreed at last'>"
    doc = extract_html(page(f"<article><p>{LONG}</p><p>{LONG} Again.</p></article>", head))
    assert [b.kind for b in doc.blocks] == ["title", "paragraph", "paragraph"]
    assert doc.blocks[0].text == "Budget agreed at last"


BRIEF = "<p>Le gouvernement a annoncé mardi une hausse des pensions.</p>"


@pytest.mark.parametrize(("html", "path"), [
    (BRIEF, ["extract.fragment"]),  # trafilatura refuses a fragment as a page; read as a body, it finds the text
    (f"<html><body>{BRIEF}</body></html>", []),  # trafilatura's own path
])
def test_one_paragraph_brief_is_kept_and_its_path_recorded(html: str, path: list[str]) -> None:
    doc = extract_html(html.encode())
    assert doc.status == "ok"
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("paragraph", "Le gouvernement a annoncé mardi une hausse des pensions.")]
    assert [c.rule for c in doc.changes] == path


@pytest.mark.parametrize("body", [
    "<div>Brève : <a href='/x'>lien</a> la séance est levée.</div>",  # trafilatura hands back the <div> ...
    "<nav><a href='/'>Accueil</a></nav><form>Votre e-mail <button>OK</button></form>"  # ... or the page's text
    "<div>Brève : <a href='/x'>lien</a> la séance est levée.</div><footer>© Journal</footer>"
    "<div><a href='/a'>Politique</a> | <a href='/b'>Sport</a></div>",
])
def test_fallback_reads_the_visible_text_without_menus_and_forms(body: str) -> None:
    doc = extract_html(page(body))
    assert [b.text for b in doc.blocks] == ["Brève : lien la séance est levée."]
    assert [c.rule for c in doc.changes] == ["extract.fallback"]


def test_readme_bonjour_runs_end_to_end() -> None:
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "-", "--set", "run.jobs=1"],
                          input=b"<p>Bonjour</p>\n", capture_output=True, check=True, cwd=ROOT)
    record = json.loads(done.stdout)
    assert (record["status"], record["text"]) == ("ok", "Bonjour")


def test_many_attributes_are_capped_before_parsing() -> None:
    attributes = " ".join(f"data-x{i}='{i}'" for i in range(140_000))
    html = page(f"<div {attributes}><p>{LONG}</p></div><article><p>{LONG}</p><p>{LONG} Twice.</p></article>")
    assert len(html) > 1_300_000
    started = time.process_time()
    doc = extract_html(html)
    assert time.process_time() - started < 10  # uncapped: minutes, parsing is quadratic in the attribute count
    assert doc.status == "ok" and LONG in doc.text
    assert [c.detail for c in doc.changes] == ["<div> had 140000 attributes: kept the first 256"]


def test_without_metadata_the_title_block_is_the_pages_h1() -> None:
    head = "<meta property='og:title' content='Budget agreed at last'><meta name='author' content='Ann Lee'>"
    doc = extract_html(page(f"<article><h1>Budget agreed</h1><p>{LONG}</p><p>{LONG} Again.</p></article>", head),
                       metadata=False)
    assert (doc.metadata.title, doc.metadata.author) == (None, None)
    assert [(b.kind, b.text) for b in doc.blocks[:1]] == [("title", "Budget agreed")]


PARSE_CASES = {
    "utf-8 page": (ROOT / "fixtures/html/mieter_de.html").read_bytes().decode("cp1252"),
    "doctype with a slash": '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN">\n<html><body><p>Un.</p></body></html>',
    "self-closing html": '<html lang="fr"/>\n<head><title>T</title></head><body><p>Texte.</p></body>',
    "xml declaration": '<?xml version="1.0" encoding="utf-8"?>\n<html><body><p>Texte.</p><p>Encore.</p></body></html>',
    "controls refused by XML": "<html><body><p>Te\x0bx\x01te.</p><p>\ufffeEncore\x1f.</p></body></html>",
    "no html tag": "<div><p>Un.</p><p>Deux.</p></div>",
    "one element": "<p>Bonjour</p>",
    "comment only": "<!-- rien -->",
    "text only": "juste du texte",
}


@pytest.mark.parametrize("html", PARSE_CASES.values(), ids=PARSE_CASES.keys())
def test_parse_gives_trafilaturas_tree(html: str) -> None:
    """extract's parse skips a scan trafilatura makes, and must still give the very tree trafilatura gives."""
    from lxml.html import tostring
    from trafilatura.utils import load_html as trafilaturas

    ours, theirs = load_html(html), trafilaturas(html)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert tostring(ours, encoding="unicode") == tostring(theirs, encoding="unicode")


@given(st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000ab"))
def test_block_text_has_spaces_collapsed_and_tabs_kept(text: str) -> None:
    """A block's text: each line's runs of spaces (any Unicode space but the tab) as one space, the line
    stripped, blank lines dropped."""
    lines = (re.sub(r"[^\S\n\t]+", " ", line).strip() for line in text.split("\n"))
    assert _clean(text) == "\n".join(line for line in lines if line)


def test_without_metadata_no_metadata_reader_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """`metadata: false` is the fast path: neither tamis's reader nor trafilatura's nor htmldate runs."""
    import htmldate
    import trafilatura.core
    import trafilatura.metadata

    import stages.extract

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a metadata reader ran")

    for module, name in ((stages.extract, "page_metadata"), (htmldate, "find_date"),
                         (trafilatura.metadata, "extract_metadata"), (trafilatura.core, "extract_metadata")):
        monkeypatch.setattr(module, name, forbidden)
    head = ("<meta property='og:title' content='Budget agreed'>"
            "<meta property='article:published_time' content='2024-03-05'>")
    doc = extract_html(page(f"<article><p>{LONG}</p><p>{LONG} Again.</p></article>", head), metadata=False)
    assert doc.status == "ok" and LONG in doc.text
    assert (doc.metadata.title, doc.metadata.date) == (None, None)
    with pytest.raises(AssertionError, match="a metadata reader ran"):
        extract_html(page(f"<article><p>{LONG}</p><p>{LONG} Again.</p></article>", head))


STANDFIRST = (ROOT / "fixtures/html/standfirst_fr.html").read_bytes()
_LEAD = ("Le gouvernement relève les retraites de base de 2,2 % au 1er mars, une hausse plus faible que l’inflation"
         " de l’an dernier.")


def test_standfirst_shown_under_the_headline_is_kept() -> None:
    """trafilatura takes the article body and leaves out the standfirst printed between the headline and
    it; the page says what that line is: it is the page's own description, shown after the <h1>."""
    doc = extract_html(STANDFIRST)
    assert [(b.kind, b.text[:30]) for b in doc.blocks] == [
        ("title", "Les pensions augmentent en mar"), ("paragraph", _LEAD[:30]),
        ("paragraph", "La revalorisation annoncée mar"), ("paragraph", "Les syndicats jugent la mesure"),
        ("paragraph", "Le ministre a répondu que l’in"), ("paragraph", "Les pensions complémentaires, ")]
    assert doc.blocks[1].text == _LEAD
    assert [c.detail for c in doc.changes if c.rule == "extract.standfirst"] == [
        "the page's description, shown under its <h1>, was left out by trafilatura: kept as the first paragraph"]


def test_description_not_shown_on_the_page_is_not_added() -> None:
    doc = extract_html(STANDFIRST.replace(b'<span class="chapo">', b'<span class="chapo">En bref : '))
    assert _LEAD not in doc.text and "En bref" not in doc.text
    assert [c.rule for c in doc.changes if c.rule == "extract.standfirst"] == []


def test_description_already_in_the_text_is_not_repeated() -> None:
    first = "La revalorisation annoncée mardi par le ministre du Travail concerne quatorze millions de retraités"
    page = STANDFIRST.replace(_LEAD.encode(), first.encode() + b" du r\xc3\xa9gime g\xc3\xa9n\xc3\xa9ral, qui verront "
                              b"leur pension progresser d\xc3\xa8s le versement d\xe2\x80\x99avril.")
    doc = extract_html(page)
    assert doc.text.count(first) == 1
    assert [c.rule for c in doc.changes if c.rule == "extract.standfirst"] == []


SPLIT_BODY = (ROOT / "fixtures/html/split_body_fr.html").read_bytes()
_CONTINUED = ["Le maire a rappelé mardi", "Les opposants demandent", "Une réunion publique est prévue",
              "D’ici là, la chambre de commerce"]


def test_body_cut_into_containers_is_read_to_its_end() -> None:
    """The site cuts the article body into three elements of one tag and class with an ad and a picture
    between; trafilatura takes the first. The other two continue it: no heading, only a label between."""
    doc = extract_html(SPLIT_BODY)
    texts = [b.text for b in doc.blocks if b.kind == "paragraph"]
    assert len(texts) == 7 and [t for t in texts if t.startswith(tuple(_CONTINUED))] == texts[3:]
    assert [c.rule for c in doc.changes if c.rule == "extract.continuation"] == ["extract.continuation"]


@pytest.mark.parametrize("change", [
    (b'<div class="ad-slot">', b'<h2>Autres nouvelles</h2><div class="ad-slot">'),  # a heading between
    (b'<span>Publicit\xc3\xa9</span>', b'<p>' + "Abonnez-vous à notre lettre du matin pour recevoir l’essentiel de "
     "l’actualité régionale chaque jour, et nos dossiers du week-end. ".encode() * 3 + b'</p>'),  # text between
    (b'<div class="story-body"><div class="inner">', b'<article class="story">'),  # articles: whole compositions
])
def test_body_is_not_continued_across_a_heading_text_or_another_article(change: tuple[bytes, bytes]) -> None:
    page = SPLIT_BODY.replace(*change)
    if change[1].startswith(b"<article"):
        page = page.replace(b"</div></div></div>", b"</article></div>")
    doc = extract_html(page)
    assert not any(b.text.startswith(tuple(_CONTINUED)) for b in doc.blocks)
    assert [c.rule for c in doc.changes if c.rule == "extract.continuation"] == []
