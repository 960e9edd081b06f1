"""A reproducible benchmark corpus: seed-like French articles with the mess tamis exists to clean.

Articles are built from the sentences of seed texts (a directory of `.txt` articles, e.g. the bundled
`fixtures/articles`), about 3 KB each, with injected site furniture (share buttons, newsletter calls,
cookie notices, "Lire aussi" links), German sentences and paragraphs, mojibake (UTF-8 read as cp1252),
files saved as cp1252 or with a BOM, and HTML pages with navigation, asides, footers and scripts. The
same arguments always give the same bytes; the SHA-256 printed at the end lets others check that.

    python bench/corpus.py fixtures/articles --docs 2000 --out out/corpus        # text/ and html/ files
    python bench/corpus.py fixtures/articles --bytes 1G --jsonl out/big.jsonl    # one JSONL of 1 GB
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TARGET_CHARS = 3000
JUNK = (
    "Partager sur Facebook", "Partager sur X", "Partager par e-mail", "PUBLICITÉ", "Publicité",
    "Abonnez-vous à notre newsletter pour ne rien manquer de l'actualité",
    "Ce site utilise des cookies. En poursuivant votre navigation, vous acceptez leur utilisation.",
    "Lire aussi : les dernières informations sur le conflit", "À lire également", "Voir les commentaires",
    "Publié le {day:02d}/{month:02d}/2024 à {hour:02d}h{minute:02d}",
    "Mis à jour le {day:02d}/{month:02d}/2024 à {hour:02d}h{minute:02d}", "© 2024 Tous droits réservés",
    "Suivez-nous sur les réseaux sociaux", "Temps de lecture : {minute} min", "Ajouter à mes favoris",
)
GERMAN = (
    "Die Regierung kündigte am Montag neue Maßnahmen zur Unterstützung der betroffenen Regionen an.",
    "Nach Angaben des Ministeriums wurden die Gespräche in der kommenden Woche fortgesetzt.",
    "Die Opposition kritisierte den Plan als unzureichend und forderte eine Debatte im Parlament.",
    "Experten warnen vor den wirtschaftlichen Folgen der anhaltenden Krise für ganz Europa.",
    "Der Sprecher betonte, dass die Zusammenarbeit mit den Nachbarländern weiter gestärkt werde.",
    "Zahlreiche Menschen versammelten sich am Abend vor dem Rathaus, um zu demonstrieren.",
    "Die Zahl der Beschäftigten im Industriesektor ist im vergangenen Jahr leicht gestiegen.",
    "Laut einer aktuellen Umfrage unterstützt eine Mehrheit der Bevölkerung die Reform.",
)
HTML_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{title} | Le Quotidien</title>
<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"page": "{slug}"}});</script>
<link rel="stylesheet" href="/static/site.css"></head>
<body><header><nav><ul><li><a href="/">Accueil</a></li><li><a href="/monde">Monde</a></li>
<li><a href="/politique">Politique</a></li><li><a href="/economie">Économie</a></li></ul></nav></header>
<main><article><h1>{title}</h1><p class="byline">Par la rédaction, {date}</p>
{body}
</article>
<aside><h2>Lire aussi</h2><ul>{related}</ul></aside></main>
<footer><p>© 2024 Le Quotidien. Tous droits réservés.</p><p>Mentions légales · Cookies · Contact</p></footer>
<script src="/static/ads.js"></script></body></html>
"""


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    paragraphs: list[str]
    html: bool
    encoding: str  # how a text file is saved: utf-8, utf-8-sig or cp1252


def seed_sentences(seeds: Path) -> list[str]:
    """Sentences of the seed articles: long lines cut at sentence ends."""
    sentences: list[str] = []
    for path in sorted(seeds.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if len(line) >= 80:
                sentences.extend(s for s in re.split(r"(?<=[.!?])\s+", line.strip()) if len(s) >= 30)
    if not sentences:
        raise SystemExit(f"{seeds}: no seed sentences (expected .txt articles with long lines)")
    return sentences


def articles(sentences: list[str], seed: int, html_share: float) -> Iterator[Article]:
    """An endless, deterministic stream of articles."""
    rng = random.Random(seed)
    number = 0
    while True:
        yield _article(rng, sentences, number, html_share)
        number += 1


def _article(rng: random.Random, sentences: list[str], number: int, html_share: float) -> Article:
    title = rng.choice(sentences).rstrip(".")
    if len(title) > 90:
        title = title[:90].rsplit(" ", 1)[0]  # a headline-sized cut, at a word end
    paragraphs: list[str] = []
    size = 0
    while size < TARGET_CHARS:
        paragraph = " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 4)))
        roll = rng.random()
        if roll < 0.08:
            paragraph = rng.choice(GERMAN) + " " + rng.choice(GERMAN)  # a German paragraph
        elif roll < 0.18:
            paragraph += " " + rng.choice(GERMAN)  # a German sentence inside a French one
        elif roll < 0.26:
            paragraph = _mojibake(paragraph)
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
        if rng.random() < 0.3:
            paragraphs.append(_junk(rng))
    is_html = rng.random() < html_share
    encoding = "utf-8" if is_html else rng.choices(("utf-8", "utf-8-sig", "cp1252"), (0.85, 0.05, 0.10))[0]
    if encoding == "cp1252" and any(_unencodable(p) for p in paragraphs):
        encoding = "utf-8"
    return Article(id=f"{number:07d}", title=title, paragraphs=paragraphs, html=is_html, encoding=encoding)


def _junk(rng: random.Random) -> str:
    return rng.choice(JUNK).format(day=rng.randint(1, 28), month=rng.randint(1, 12), hour=rng.randint(0, 23),
                                   minute=rng.randint(1, 59))


def _mojibake(text: str) -> str:
    """UTF-8 bytes read as cp1252, the commonest mojibake (bytes cp1252 leaves undefined read as latin-1)."""
    out: list[str] = []
    for ch in text:
        data = ch.encode("utf-8")
        try:
            out.append(data.decode("cp1252"))
        except UnicodeDecodeError:
            out.append(data.decode("latin-1"))
    return "".join(out)


def _unencodable(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return True
    return False


def as_text(article: Article) -> str:
    """The article as a scraped text file: title, blank line, paragraphs hard-wrapped now and then."""
    body = "\n\n".join(_wrap(p) if len(p) > 400 and int(article.id) % 3 == 0 else p for p in article.paragraphs)
    return f"{article.title}\n\n{body}\n"


def _wrap(paragraph: str, width: int = 78) -> str:
    lines: list[str] = []
    line = ""
    for word in paragraph.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def as_html(article: Article) -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs)
    related = "".join(f"<li><a href=\"/article/{int(article.id) + k}\">Article {int(article.id) + k}</a></li>"
                      for k in (1, 2, 3))
    return HTML_PAGE.format(title=html.escape(article.title), slug=article.id, body=body, related=related,
                            date=f"{int(article.id) % 28 + 1:02d}/03/2024")


def write_directory(stream: Iterator[Article], out: Path, docs: int) -> str:
    """`docs` articles as files under `out/text/` and `out/html/`; returns the SHA-256 of all bytes."""
    digest = hashlib.sha256()
    for sub in ("text", "html"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for _, article in zip(range(docs), stream, strict=False):  # the stream is endless
        if article.html:
            path, data = out / "html" / f"{article.id}.html", as_html(article).encode("utf-8")
        else:
            path, data = out / "text" / f"{article.id}.txt", as_text(article).encode(article.encoding)
        path.write_bytes(data)
        digest.update(data)
    return digest.hexdigest()


def write_jsonl(stream: Iterator[Article], out: Path, docs: int | None, size: int | None) -> str:
    """Records `{"id", "text"|"html", "url"}`, one a line, until `docs` records or `size` bytes; returns
    the SHA-256 of the file. Memory stays flat whatever the size."""
    digest = hashlib.sha256()
    out.parent.mkdir(parents=True, exist_ok=True)
    written = count = 0
    with out.open("wb") as sink:
        for article in stream:
            if (docs is not None and count >= docs) or (size is not None and written >= size):
                break
            field = "html" if article.html else "text"
            record = {"id": article.id, field: as_html(article) if article.html else as_text(article),
                      "url": f"https://example.org/article/{article.id}"}
            line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
            sink.write(line)
            digest.update(line)
            written += len(line)
            count += 1
    return digest.hexdigest()


def parse_size(text: str) -> int:
    """`500M`, `1G`, `20000`: a size in bytes (powers of 1024)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?)B?", text.strip().upper())
    if not match:
        raise argparse.ArgumentTypeError(f"expected a size like 500M or 1G, got {text!r}")
    return int(float(match[1]) * 1024 ** " KMG".index(match[2] or " "))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("seeds", type=Path, help="directory of seed .txt articles (e.g. fixtures/articles)")
    parser.add_argument("--docs", type=int, help="number of documents")
    parser.add_argument("--bytes", type=parse_size, dest="size", help="JSONL size, e.g. 1G (with --jsonl)")
    parser.add_argument("--out", type=Path, help="directory to write text/ and html/ files into")
    parser.add_argument("--jsonl", type=Path, help="JSONL file to write")
    parser.add_argument("--html-share", type=float, default=0.2, help="share of HTML pages (default 0.2)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if (args.out is None) == (args.jsonl is None):
        parser.error("give one of --out DIR or --jsonl FILE")
    if args.out is not None and args.docs is None:
        parser.error("--out needs --docs")
    if args.jsonl is not None and args.docs is None and args.size is None:
        parser.error("--jsonl needs --docs or --bytes")
    stream = articles(seed_sentences(args.seeds), args.seed, args.html_share)
    if args.out is not None:
        checksum = write_directory(stream, args.out, args.docs)
        print(f"{args.out}: {args.docs} documents, sha256 {checksum}")
    else:
        checksum = write_jsonl(stream, args.jsonl, args.docs, args.size)
        print(f"{args.jsonl}: {args.jsonl.stat().st_size} bytes, sha256 {checksum}")


if __name__ == "__main__":
    main()
