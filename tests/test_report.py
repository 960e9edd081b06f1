"""The HTML audit report: its structure and escaping, and how a real headless Chromium renders it."""

from __future__ import annotations

import os
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline import report
from pipeline.document import Block, Change, Document, Removal, Segment, Translation

CHROMIUM = Path("/usr/bin/chromium")


def _sample() -> list[Document]:
    """One document with each thing the report shows, and one filtered document."""
    german = "Das ist ein Satz."
    mixed = f"Le ministre a dit : {german} Puis il est parti."
    start = mixed.index(german)
    doc = Document(
        id="a<1>.txt", source="in/a.txt", lang="fr",
        blocks=[
            Block(kind="title", text="Titre & <b>sous-titre</b>", index=0),
            Block(kind="paragraph", text="Ligne un\nLigne trois", index=1),
            Block(kind="paragraph", text=mixed, index=3, lang="fr", segments=[
                Segment(start=0, end=start, lang="fr", confidence=0.99),
                Segment(start=start, end=start + len(german), lang="de", confidence=0.97, action="translate",
                        translation=Translation(text="C'est une phrase.", source="de", target="fr")),
                Segment(start=start + len(german), end=len(mixed), lang="fr", confidence=0.98),
            ]),
            Block(kind="paragraph", text="Ligne un\nLigne trois", index=4, duplicate_of=1),
        ],
        removed=[
            Removal(stage="boilerplate", rule="share-buttons", reason="site furniture", text="Partager <Facebook>",
                    block=1, line=1),
            Removal(stage="boilerplate", rule="newsletter", reason="call to action", text="Abonnez-vous", block=2),
            Removal(stage="decode", rule="bom", reason="byte-order mark", text="\ufeff"),
        ],
        changes=[Change(stage="repair", rule="mojibake", detail="Ã© → é", block=1)],
    )
    filtered = Document(id="b.txt", source="in/b.txt", status="filtered", stage="languages", reason="not fr/de/en",
                        blocks=[Block(kind="paragraph", text="Texto", index=0)],
                        removed=[Removal(stage="boilerplate", rule="share-buttons", reason="site furniture",
                                         text="Compartir", block=0, line=0)])
    return [doc, filtered]


class _Outline(HTMLParser):
    """The report's elements of interest, in document order: (class, attribute, text) per element."""

    WATCHED = ("removed", "block", "seg", "translation", "dup-label")

    def __init__(self) -> None:
        super().__init__()
        self.items: list[list[str]] = []
        self.tags: list[str] = []
        self.open: list[tuple[int, list[str]]] = []  # depth at which a watched element opened, its item
        self.rules: list[list[str]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.links.extend(v for k, v in a.items() if k in ("src", "href"))
        self.tags.append(tag)
        classes = a.get("class", "").split()
        kind = next((c for c in self.WATCHED if c in classes), None)
        if kind is not None:
            item = [kind, a.get("data-rule") or a.get("data-lang") or "", ""]
            self.items.append(item)
            self.open.append((len(self.tags), item))
        if tag == "tr":
            self.rules.append([])

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open[-1][0] >= len(self.tags):
            self.open.pop()
        self.tags.pop()

    def handle_data(self, data: str) -> None:
        for _, item in self.open:
            item[2] += data
        if self.rules and "td" in self.tags:
            self.rules[-1].append(data)


def _outline(page: str) -> _Outline:
    parser = _Outline()
    parser.feed(page)
    return parser


def test_removed_lines_are_struck_at_their_place() -> None:
    items = [(k, attr) for k, attr, _ in _outline(report.render(_sample()[:1])).items if k in ("removed", "block")]
    assert items == [("removed", "bom"), ("block", ""), ("block", ""), ("removed", "share-buttons"),
                     ("removed", "newsletter"), ("block", "fr"), ("block", "")]
    texts = [text for k, _, text in _outline(report.render(_sample()[:1])).items if k == "block"]
    assert texts[1] == "1 paragraphLigne unboilerplate:share-buttonsPartager <Facebook>Ligne trois"
    page = report.render(_sample()[:1])
    assert "<span class=\"rule\">boilerplate:share-buttons</span><del>Partager &lt;Facebook&gt;</del>" in page


def test_removed_lines_between_the_pieces_of_a_split_block() -> None:
    def cut(line: int) -> Removal:
        return Removal(stage="boilerplate", rule=f"r{line}", reason="test", text=f"removed {line}", block=0, line=line)

    doc = Document(id="d", source="d", blocks=[Block(kind="paragraph", text="a1\na2", index=0),
                                               Block(kind="list_item", text="b1", index=0)],
                   removed=[cut(5), cut(0), cut(2)])
    items = [(k, text) for k, _, text in _outline(report.render([doc])).items if k in ("removed", "block")]
    assert items == [("removed", "boilerplate:r0removed 0"),
                     ("block", "0 paragrapha1boilerplate:r2removed 2a2"), ("removed", "boilerplate:r2removed 2"),
                     ("block", "0 list_itemb1"),
                     ("removed", "boilerplate:r5removed 5")]


def test_foreign_segment_and_translation_side_by_side() -> None:
    outline = _outline(report.render(_sample()[:1]))
    segs = [(attr, text) for k, attr, text in outline.items if k == "seg"]
    assert segs == [("de", "deDas ist ein Satz.")]
    translations = [text for k, _, text in outline.items if k == "translation"]
    assert translations == ["Le ministre a dit : C'est une phrase. Puis il est parti."]


def test_duplicates_are_marked() -> None:
    labels = [text for k, _, text in _outline(report.render(_sample()[:1])).items if k == "dup-label"]
    assert labels == ["duplicate of block 1"]


def test_summary_table_counts_each_rule() -> None:
    rows = _outline(report.render(_sample())).rules
    assert ["boilerplate", "share-buttons", "2", "0", "2"] in rows
    assert ["boilerplate", "newsletter", "1", "0", "1"] in rows
    assert ["repair", "mojibake", "0", "1", "1"] in rows


def test_everything_is_escaped_and_nothing_is_fetched() -> None:
    page = report.render(_sample())
    assert "<b>sous-titre</b>" not in page and "Titre &amp; &lt;b&gt;sous-titre&lt;/b&gt;" in page
    assert "a&lt;1&gt;.txt" in page
    assert "<script" not in page
    assert all(link.startswith("#doc-") for link in _outline(page).links)
    assert "default-src 'none'" in page


def test_filtered_document_shows_its_reason() -> None:
    page = report.render(_sample()[1:])
    assert "<span class=\"status status-filtered\">filtered</span>: languages: not fr/de/en" in page


def test_no_documents() -> None:
    outline = _outline(report.render([]))
    assert outline.items == []
    assert outline.rules == [[], []]  # the two header rows


# Run in the page by the browser test only: the report itself has no script. It writes what the browser
# computed into the DOM, which `--dump-dom` prints.
_PROBE = """<script>
const q = s => Array.from(document.querySelectorAll(s));
const cols = getComputedStyle(q('.side-by-side')[0]).gridTemplateColumns.split(' ').length;
document.body.insertAdjacentHTML('beforeend', '<pre id="probe">' + JSON.stringify({
  struck: q('.removed del').map(e => getComputedStyle(e).textDecorationLine),
  columns: cols,
  segments: q('.seg').map(e => e.dataset.lang),
  duplicates: q('.duplicate').length,
  rules: q('table.rules tr').length - 1,
  documents: q('article.doc').length,
}) + '</pre>');
</script>"""


@pytest.mark.browser
def test_chromium_renders_the_report(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium: the browser test cannot be skipped there")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    page = report.render(_sample())
    (tmp_path / "report.html").write_text(page, encoding="utf-8")
    allow_probe = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
    probed = page.replace("default-src 'none'; style-src 'unsafe-inline'", allow_probe)
    probed = probed.replace("</body>", _PROBE + "</body>")
    (tmp_path / "probe.html").write_text(probed, encoding="utf-8")

    dom = _chromium(tmp_path, "--dump-dom", tmp_path / "probe.html")
    probe = dom.rsplit('<pre id="probe">', 1)[1].split("</pre>", 1)[0]  # the last: the script holds one too
    assert probe == ('{"struck":["line-through","line-through","line-through","line-through"],"columns":2,'
                     '"segments":["de"],"duplicates":1,"rules":4,"documents":2}')

    shot = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={shot}", tmp_path / "report.html")
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1200, 1600)


def _chromium(tmp_path: Path, action: str, page: Path) -> str:
    """Headless Chromium with nothing that reaches the network, on a throw-away profile."""
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--no-first-run", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600", action, page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_fields_read_back_from_jsonl_are_escaped_whatever_their_content() -> None:
    evil = '"><a href="https://evil.invalid/">x</a><img src=x onerror=alert(1)>'
    record = Document(id="crafted", source="s").to_json()
    record.update(status=evil, stage=evil, reason=evil, lang=evil)
    record["blocks"] = [{"kind": evil, "text": "Texte.", "index": 0, "lang": evil, "duplicate_of": evil,
                         "segments": [{"start": 0, "end": 6, "lang": evil, "confidence": evil, "action": evil}]}]
    record["removed"] = [{"stage": evil, "rule": evil, "reason": evil, "text": evil, "block": 0, "line": 0}]
    record["changes"] = [{"stage": evil, "rule": evil, "detail": evil, "block": evil}]
    record["warnings"] = [{"stage": evil, "message": evil}]
    page = report.render([Document.from_json(record)])
    assert all(link.startswith("#doc-") for link in _outline(page).links)
    assert "<img" not in page and "<a href=\"https" not in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") >= 10
