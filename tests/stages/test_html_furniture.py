from typing import Any

import pytest
from trafilatura.utils import load_html

from pipeline.document import Document
from stages.decode import Decode, DecodeConfig
from stages.extract import Extract, ExtractConfig
from stages.html_furniture import remove_furniture

P1 = ("Le conseil municipal a voté lundi soir le budget de la ville pour l'année prochaine, après un débat de "
      "plus de quatre heures sur le financement des transports et des écoles.")
P2 = ("L'opposition a dénoncé une hausse des impôts locaux qu'elle juge injuste, tandis que la majorité met en "
      "avant les investissements prévus dans la rénovation des bâtiments publics.")
P3 = ("Le maire a promis de présenter un bilan à mi-parcours au printemps, et de consulter les habitants des "
      "quartiers concernés avant de lancer les premiers chantiers.")

# A news page as publishers build them: skip link, breadcrumb, share bar, newsletter box, a related box of
# teaser cards, a comment form; the article's own wrapper carries a share-ish class ("article-share-scope").
NEWS_PAGE = f"""<!DOCTYPE html><html lang="fr"><head><title>Budget voté | La Gazette</title></head><body>
<a class="skip-link" href="#contenu">Aller au contenu principal</a>
<nav aria-label="Fil d'Ariane" class="fil-ariane"><a href="/">Accueil</a> › <a href="/ville">Ville</a></nav>
<div class="page">
 <div class="article-share-scope" id="contenu">
  <h1>Le budget de la ville voté après quatre heures de débat</h1>
  <div class="barre-partage"><span>Partager :</span> <a href="https://facebook.com/x">Facebook</a>
   <a href="https://x.com/y">X</a> <a href="mailto:?body=z">Envoyer par mail</a></div>
  <p>{P1}</p>
  <p>{P2}</p>
  <div class="newsletterBox"><h3>Recevez notre newsletter</h3><p>Chaque matin, l'essentiel de l'actualité
   locale dans votre boîte.</p><form><input type="email"><button>S'inscrire</button></form></div>
  <p>{P3}</p>
  <section class="box"><h2>À lire aussi</h2>
   <a href="/a"><h3>Les travaux du tramway reprennent</h3><p>Le chantier avait été suspendu.</p></a>
   <a href="/b"><h3>Une nouvelle école en 2026</h3><p>Le projet a été adopté.</p></a>
  </section>
  <div id="comment-form"><h3>Laisser un commentaire</h3><p>Votre adresse ne sera pas publiée.</p></div>
 </div>
</div></body></html>"""


def extract_page(html: str) -> Document:
    doc = Decode(DecodeConfig()).process(Document(id="p", source="p.html", content_type="text/html",
                                                  raw=html.encode()))
    return Extract(ExtractConfig()).process(doc)


def removed(html: str) -> list[tuple[str, str]]:
    tree = load_html(html)
    return [(c.rule, c.detail) for c in remove_furniture(tree, "extract")]


def test_news_page_keeps_the_article_and_drops_its_furniture() -> None:
    doc = extract_page(NEWS_PAGE)
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("title", "Le budget de la ville voté après quatre heures de débat"),
        ("paragraph", P1), ("paragraph", P2), ("paragraph", P3)]
    assert [(c.rule, c.detail) for c in doc.changes] == [
        ("html.skip-link", 'removed <a class="skip-link">, 26 characters: "Aller au contenu principal"'),
        ("html.breadcrumb", 'removed <nav class="fil-ariane">, 15 characters: "Accueil › Ville"'),
        ("html.share", 'removed <div class="barre-partage">, 38 characters: "Partager : Facebook X Envoyer par mail"'),
        ("html.newsletter", 'removed <div class="newsletterBox">, 101 characters: '
                            '"Recevez notre newsletter Chaque matin, l\'essentiel de l\'act…"'),
        ("html.teaser", 'removed <a>, 65 characters: "Les travaux du tramway reprennent Le chantier avait été sus…"'),
        ("html.teaser", 'removed <a>, 50 characters: "Une nouvelle école en 2026 Le projet a été adopté."'),
        ("html.comment-form", 'removed <div id="comment-form">, 57 characters: '
                              '"Laisser un commentaire Votre adresse ne sera pas publiée."'),
    ]


def test_without_the_pre_clean_furniture_reaches_the_text() -> None:
    """What the pre-clean is for: trafilatura alone keeps the newsletter's pitch and the teasers' summaries as
    article paragraphs."""
    import trafilatura

    text = trafilatura.extract(NEWS_PAGE, include_tables=True, include_comments=False) or ""
    assert text.split("\n") == [P1, P2, "Chaque matin, l'essentiel de l'actualité locale dans votre boîte.", P3,
                                 "Le chantier avait été suspendu.", "Le projet a été adopté."]


@pytest.mark.parametrize("wrapper", [
    "<div class='share-wrapper social'>{}</div>",  # a furniture-ish class on the article's wrapper
    "<div class='content with-sidebar'>{}</div>",
    "<div class='post author-marie-dupont'>{}</div>",
    "<article class='newsletter-article'>{}</article>",
    "<div role='complementary'>{}</div>",
    "<div hidden>{}</div>",  # a collapsed article is still the article
    "<section class='related-content recommended'>{}</section>",
])
def test_an_element_holding_article_paragraphs_is_never_furniture(wrapper: str) -> None:
    body = wrapper.format(f"<p>{P1}</p><p>{P2}</p><p>{P3}</p>")
    assert removed(f"<html><body><main>{body}</main></body></html>") == []
    assert removed(f"<html><body>{body}</body></html>") == []


def test_a_long_paragraph_is_never_furniture_whatever_its_class() -> None:
    """Sites mark the paragraphs behind a paywall, or a pull quote, with such classes."""
    assert removed(f"<html><body><p class='paywall share-quote'>{P1}</p><p>{P2}</p></body></html>") == []


def test_the_headline_is_never_furniture() -> None:
    assert removed("<html><body><div class='share'><h1>Le budget voté</h1><a href='/f'>Facebook</a></div>"
                   f"<p>{P1}</p></body></html>") == []


def test_hidden_text_inside_a_sentence_stays() -> None:
    html = f"<html><body><p>{P1} La formule <span style='display:none'>x²</span> est simple.</p></body></html>"
    assert removed(html) == []


@pytest.mark.parametrize(("markup", "rule"), [
    ("<div style='display: none'>Offre spéciale abonnés</div>", "html.hidden"),
    ("<div aria-hidden='true'>Offre spéciale abonnés</div>", "html.hidden"),
    ("<div class='banner u-hide'>Votre navigateur est trop ancien.</div>", "html.hidden"),
    ("<div role='dialog'>Offre spéciale abonnés</div>", "html.role"),
    ("<div class='socialShareBar'>Teilen Sie diesen Artikel</div>", "html.share"),
    ("<div class='artikel-teilen'>Teilen Sie diesen Artikel</div>", "html.share"),
    ("<newsletter-signup>Jetzt anmelden</newsletter-signup>", "html.newsletter"),
    ("<div class='css-1x2y3z' data-testid='share-tools'>Share this article</div>", "html.share"),
    ("<dl class='debug-panel'><dt>isPaid:</dt><dd>false</dd></dl>", "html.debug"),
    ("<div class='bloc-lire-aussi'>Lire aussi : le budget</div>", "html.related"),
    ("<section class='mostRead'><h2>Meistgelesen</h2><p>Der Haushalt</p></section>", "html.related"),
    ("<h3 class='title'><a href='/autre-article'>Le tramway reprend</a></h3>", "html.teaser"),
    ("<ol class='breadcrumbs'><li>Start</li></ol>", "html.breadcrumb"),
    ("<div class='skiplinks'>Springe direkt zu: Inhalt</div>", "html.skip-link"),
    ("<span class='sr-only'>Ouvre un nouvel onglet</span>", "html.screen-reader"),
    ("<ul><li><a href='/a'>Politique</a></li><li><a href='/b'>Sport</a></li><li><a href='/c'>Culture</a></li></ul>",
     "html.links"),
    ("<div class='author-bio'><h3>L'auteure</h3><p>Marie Dupont couvre la vie municipale depuis 2015.</p></div>",
     "html.author"),
    ("<aside class='autorenbox'>Über den Autor: Hans Meier schreibt über Kommunalpolitik.</aside>", "html.author"),
    ("<div id='sidebar-right'><h3>Les plus lus</h3><p>Le tramway reprend.</p></div>", "html.sidebar"),
    ("<div class='similar-articles'><h4>Articles similaires</h4><p>Le tramway reprend.</p></div>", "html.related"),
    ("<div id='cookie-notice'>Ce site utilise des cookies. Accepter Refuser</div>", "html.consent"),
    ("<div class='embed-consent'>Ich bin damit einverstanden, dass mir externe Inhalte angezeigt werden.</div>",
     "html.consent"),
    ("<p class='article-feedback'>Une erreur ? Signalez-la.</p>", "html.feedback"),
    ("<div class='registration-wall'><h2>Créez un compte gratuit</h2><p>Pour lire la suite.</p></div>",
     "html.paywall"),
    ("<ul class='x1'><li><a href='/tramway'>Les travaux du tramway reprennent lundi</a></li>"
     "<li>12 mai · <a href='https://www.example.org/ecole'>Une nouvelle école ouvrira en 2026</a></li></ul>",
     "html.teaser"),
    ("<div class='show-comments'><h2>Rejoignez la discussion</h2><p>12 réactions</p></div>", "html.comments"),
    ("<section id='kommentare'><h2>Leserstimmen</h2><p>Anna: Endlich!</p></section>", "html.comments"),
    # A live region's message (a form's error, a notice announced to screen readers) is no article text.
    ("<div class='notice' role='alert'>Le champ adresse est obligatoire.</div>", "html.role"),
    ("<span role='status'>Ajouté à votre liste de lecture</span>", "html.role"),
    # A trail of links each one level down the site's paths, ending at the page itself: a breadcrumb,
    # whatever its class (here a generated one).
    ("<div class='x7f3a'><ul><li><a href='/'>Accueil</a></li><li><a href='/regions/'>Régions</a></li>"
     "<li><a href='https://www.example.org/regions/bretagne/'>Bretagne</a></li>"
     "<li>Le budget de Rennes voté après quatre heures de débat</li></ul></div>", "html.breadcrumb"),
])
def test_each_kind_of_furniture(markup: str, rule: str) -> None:
    [(found, _)] = removed(f"<html><body><p>{P1}</p>{markup}<p>{P2}</p></body></html>")
    assert found == rule


@pytest.mark.parametrize("markup", [
    "<div class='img-responsive'>Le conseil municipal en séance.</div>",  # `respond` is a word, not a prefix
    "<div class='shadow'>Le conseil municipal en séance.</div>",
    "<ul><li><a href='/a'>Le budget</a> a été voté par 32 voix contre 11, après un long débat.</li>"
    "<li><a href='/b'>Les impôts</a> augmentent de 2 %.</li><li><a href='/c'>Le maire</a> promet un bilan.</li></ul>",
    "<a href='#note'><p>Note de la rédaction.</p></a>",  # a link inside the page is no teaser
    "<h2><a href='#suite'>La suite du débat</a></h2>",
    "<h2>Le débat sur <a href='/budget'>le budget</a></h2>",  # a heading with a link in it is the article's
    "<div class='hidden-xs'>Le conseil municipal en séance.</div>",  # hidden on small screens only
    "<div class='authority-note'>Le conseil municipal en séance.</div>",  # `author` is a word, not a prefix
    "<div class='cmp-text'>Le conseil municipal en séance.</div>",  # `cmp` is a component as often as consent
    "<p class='paywall'>Le conseil municipal en séance.</p>",  # a paragraph behind the paywall is the article's
    "<ul><li><a href='/rapport'>Le rapport de la chambre</a> pointe une dette en hausse de 12 % depuis 2020 et "
    "des retards de paiement.</li><li><a href='/vote'>Le vote du budget</a> a eu lieu à 23 heures.</li></ul>",
    "<ul><li><a href='/a'>Politique locale</a></li><li><a href='/b'>Sport</a></li></ul>",  # a menu of two
    "<ul><li><a href='#p1'>Les travaux du tramway reprennent</a></li>"
    "<li><a href='#p2'>Une nouvelle école en 2026</a></li></ul>",  # a table of contents
    # Links to pages side by side, or to pages of other sites, are no trail down one site.
    "<p>Voir <a href='/regions/'>les régions</a>, <a href='/sport/'>le sport</a> et <a href='/culture/'>la "
    "culture</a>, ou le rapport complet de la chambre régionale des comptes publié la semaine dernière.</p>",
    "<p>Sources : <a href='https://a.example/'>A</a>, <a href='https://a.example/x/'>la note</a> et "
    "<a href='https://b.example/x/y/'>le rapport</a> de la chambre régionale des comptes, publiés en mai.</p>",
])
def test_names_and_links_that_are_not_furniture(markup: str) -> None:
    assert removed(f"<html><body><p>{P1}</p>{markup}<p>{P2}</p></body></html>") == []


def test_the_provenance_leaves_out_code() -> None:
    [(_, detail)] = removed(f"<html><body><p>{P1}</p><div class='share'><style>.a {{ color: red }}</style>"
                            "<a href='/f'>Facebook</a></div></body></html>")
    assert detail == 'removed <div class="share">, 8 characters: "Facebook"'


def test_the_tail_of_a_removed_element_stays() -> None:
    tree = load_html(f"<html><body><p>{P1} <span class='sr-only'>(lien externe)</span> et la suite.</p>"
                     "</body></html>")
    remove_furniture(tree, "extract")
    assert " ".join(tree.find(".//p").text_content().split()) == f"{P1} et la suite."


def test_a_page_with_nul_bytes_in_one_damaged_line_is_extracted(tmp_path: Any) -> None:
    raw = f"<html><body><p>{P1}</p><p>Une ligne abî\0\0mée.</p><p>{P2}</p></body></html>".encode()
    doc = Decode(DecodeConfig()).process(Document(id="n", source="n.html", content_type="text/html", raw=raw))
    doc = Extract(ExtractConfig()).process(doc)
    assert doc.status == "ok"
    assert [b.text for b in doc.blocks] == [P1, "Une ligne abîmée.", P2]
    assert [c.rule for c in doc.changes] == ["decode.nul"]


COMMENTS = (f"<html><body><article><h1>Le budget voté</h1><p>{P1}</p><p>{P2}</p></article>"
            "<section class='comments'><h2>3 commentaires</h2><p>Paul : enfin une bonne nouvelle pour les écoles."
            "</p></section></body></html>")


def test_the_comment_section_stays_when_extract_asks_for_it() -> None:
    assert [rule for rule, _ in removed(COMMENTS)] == ["html.comments"]
    assert remove_furniture(load_html(COMMENTS), "extract", comments=True) == []
    doc = Decode(DecodeConfig()).process(Document(id="c", source="c.html", content_type="text/html",
                                                  raw=COMMENTS.encode()))
    doc = Extract(ExtractConfig(comments=True)).process(doc)
    assert "html.comments" not in [c.rule for c in doc.changes]
