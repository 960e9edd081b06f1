from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import ConfigError, load
from pipeline.document import Document
from stages.boilerplate import Boilerplate, BoilerplateConfig, builtin_rules
from stages.decode import Decode, DecodeConfig
from stages.extract import Extract, ExtractConfig
from stages.rulebook import Matcher, Rule, necessary_literals

ROOT = Path(__file__).resolve().parents[2]
CASES = yaml.safe_load((ROOT / "fixtures/cases/boilerplate.yaml").read_text(encoding="utf-8"))


def run(raw: bytes, content_type: str = "text/plain", **options: Any) -> Document:
    stage = Boilerplate(_config(options))
    stage.setup()
    doc = Document(id="t", source="t", content_type=content_type, raw=raw)
    return stage.process(Extract(ExtractConfig()).process(Decode(DecodeConfig()).process(doc)))


def _config(options: dict[str, Any]) -> BoilerplateConfig:
    rules = tuple(Rule(**r) for r in options.pop("rules", ()))
    return BoilerplateConfig(rules=rules, **{k: tuple(v) if isinstance(v, list) else v for k, v in options.items()})


def _norm(line: str) -> str:
    """Whitespace-normalised: the seeds hold no-break spaces."""
    return " ".join(line.split())


@pytest.mark.parametrize("name", sorted(CASES["seeds"]))
def test_seed_junk_goes_and_everything_else_stays(name: str) -> None:
    source = (ROOT / "fixtures/articles" / name).read_text(encoding="utf-8")
    junk = CASES["seeds"][name]
    doc = run(source.encode())
    removed_lines = {_norm(line): r.rule for r in doc.removed for line in r.text.split("\n")}
    for line in junk:
        assert removed_lines.get(line), f"not removed: {line!r}"
    # The headline is the title block, left out of `text`: every kept block counts.
    text_lines = {_norm(line) for b in doc.blocks if b.duplicate_of is None for line in b.main_text().split("\n")}
    for line in map(_norm, source.split("\n")):
        if line and line not in junk:
            assert line in text_lines, f"lost: {line!r}"
    assert all(r.rule and r.reason and r.block is not None for r in doc.removed)
    assert doc.metadata.author == CASES["authors"].get(name)


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["id"] for c in CASES["cases"]])
def test_case(case: dict[str, Any]) -> None:
    doc = run(case["input"].encode(), **dict(case.get("config") or {}))
    assert [r.rule for r in doc.removed] == case["removed"]
    for name in ("author", "title", "date"):
        if name in case:
            assert getattr(doc.metadata, name) == case[name]
    if "kinds" in case:
        assert [b.kind for b in doc.blocks] == case["kinds"]
    assert (doc.status, doc.reason) == (("filtered", case["filtered"]) if "filtered" in case else ("ok", None))
    assert [w.message for w in doc.warnings] == case.get("warnings", [])
    if not case["removed"] and "kinds" not in case:
        kept = "\n\n".join(b.main_text() for b in doc.blocks)  # the title block too, which `text` leaves out
        assert kept == "\n\n".join(p.strip() for p in case["input"].split("\n\n"))


def test_every_removal_keeps_block_index_and_text() -> None:
    source = (ROOT / "fixtures/articles/001_d65a453aca90a03a.txt").read_text(encoding="utf-8")
    doc = run(source.encode())
    first = doc.removed[0]
    assert (first.stage, first.rule, first.text, first.block, first.line) == (
        "boilerplate", "struct.head", "News Day FR", 0, 0)


def test_unknown_disabled_id_fails_at_load() -> None:
    with pytest.raises(ConfigError, match="disable: unknown rule id"):
        load(None, ["pipeline=[decode, extract, boilerplate]", "boilerplate.disable=[fr.nope]"])


def test_bad_user_pattern_fails_at_load() -> None:
    with pytest.raises(ConfigError, match="invalid pattern"):
        load(None, ["pipeline=[decode, extract, boilerplate]",
                    "boilerplate.rules=[{id: x.bad, pattern: '(unclosed', reason: r}]"])


def test_user_rule_cannot_reuse_builtin_id() -> None:
    with pytest.raises(ValueError, match="already used"):
        BoilerplateConfig(rules=(Rule(id="fr.ad-label", pattern="x", reason="r"),))


def test_structure_off_keeps_short_lines() -> None:
    doc = run(b"News Day FR\n\n" + (ROOT / "fixtures/articles/002_508add9b65c0fc47.txt").read_bytes(), structure="off")
    assert doc.text.startswith("News Day FR\n\n")
    assert doc.removed == []


def test_short_french_sentences_with_elisions_before_the_article_stay() -> None:
    """A short sentence before the headline is kept when it reads as one (function words), and French
    writes its articles and pronouns elided: "c'est", "l'heure" hold two of them."""
    lines = "C'est l'heure du marché.\n\nIci c'est très professionnel.\n\n"
    doc = run(lines.encode() + (ROOT / "fixtures/articles/002_508add9b65c0fc47.txt").read_bytes())
    assert doc.removed == []
    assert doc.text.startswith("C'est l'heure du marché.\n\nIci c'est très professionnel.\n\n")


def test_process_before_setup_is_an_error() -> None:
    doc = Document(id="t", source="t", plain_text="Anzeige")
    with pytest.raises(RuntimeError, match="setup"):
        Boilerplate(BoilerplateConfig()).process(Extract(ExtractConfig()).process(doc))


def _reference(rules: list[Rule], text: str) -> str | None:
    """The rule the matcher must find, by brute force: every rule in priority order, a plain regex search."""
    words = len(text.split())
    return next((r.id for r in sorted(rules, key=lambda r: r.max_words)
                 if words <= r.max_words and r.compile().search(text)), None)


def test_matcher_finds_what_a_plain_search_finds() -> None:
    rules = builtin_rules(("fr", "de", "en"))
    matcher = Matcher(rules, [], 0.05)
    texts = [line.strip() for path in sorted((ROOT / "fixtures/articles").glob("*.txt"))
             for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    texts += [line for case in CASES["cases"] for line in case["input"].split("\n") if line]
    texts += ["İMPRESSUM", "Tous droits réservés", "Mit freundlicher Unterstützung von Foto: dpa"]
    texts += ["Impressum\n", "Facebook\n", "Teilen\n\n", "X", "\x02X\x03", "(Foto: dpa)\n"]  # $ before a final "\n"
    # Digits other than 0-9, which \d matches too.
    texts += ["١٢.٠٣.٢٠٢٤", "12.03.2024", "Publié le ٣ mars ٢٠٢٤", "Photo prise à Kiev, le ٣ mars ٢٠٢٤."]
    found = [(text, getattr(matcher.search(text, len(text.split())), "id", None)) for text in texts]
    assert found == [(text, _reference(rules, text)) for text in texts]
    lines = [text for text in texts if "\n" not in text]  # a document's lines, folded at once
    for group in (lines, texts):  # a text with a line break of its own is scanned alone
        scan = matcher.scan(group, [len(text.split()) for text in group])
        assert [getattr(scan.search(i), "id", None) for i in range(len(group))] == [
            _reference(rules, text) for text in group]
    assert ("İMPRESSUM", "de.legal") in found  # Turkish İ: a regex match that casefold() alone would hide


def test_matcher_sees_literals_inside_and_across_each_other() -> None:
    # "bc" ends before "abcd" does, and "cde" starts inside it: each occurrence of each literal counts.
    rules = [Rule(id="a", pattern="abcd", reason="r"), Rule(id="b", pattern="bc", reason="r"),
             Rule(id="c", pattern="cdef", reason="r")]
    matcher = Matcher(rules, [], 0.05)
    assert [getattr(matcher.search(text, 1), "id", None) for text in ["xabcd", "xbcdef", "abcdef", "cdx"]] == [
        _reference(rules, text) for text in ["xabcd", "xbcdef", "abcdef", "cdx"]] == ["a", "b", "a", None]


@pytest.mark.parametrize(("pattern", "literals"), [
    (r"\bcookies?\b", {"cookie"}),
    (r"^(Publié|mis à jour)\s*:", {"\x02publié", "\x02mis à jour"}),  # ^: the scanned text's start mark
    (r"^(x|rss)$", {"\x02x\x03", "\x02rss\x03"}),  # $: the end mark (also before a final "\n")
    (r"(ab$|cd$)", {"ab\x03", "cd\x03"}),
    (r"ab$\n", {"ab\x03"}),  # what follows $ (a final "\n") is in no string with the end mark
    (r"^x|\w", None),  # "^" alone is in every scanned text
    (r"(?m)^abc", None),  # ^ and $ of every line: no mark to look for
    (r"x(?m:^abc)", {"x"}),
    (r"(sign up|subscribe).{0,60}\bnewsletters?\b", {"newsletter"}),
    (r"\b(a|bc)d", {"ad", "bcd"}),
    (r"^\d+\s*/\s*\d+$", {"\x02" + d for d in "0123456789"}),  # a mark counts twice: rarer than "/"
    (r"^\d+$", {"\x02" + d for d in "0123456789"}),  # \d: ten digits (others fold to "0")
    (r"^(foo|\d+)$", {"foo\x03", *(d + "\x03" for d in "0123456789")}),
    (r"\s(am|on)\s+\d{4}\.?$", {d + end for d in "0123456789" for end in ("\x03", ".\x03")}),  # what \d{4} ends with
    (r"^\d{1,2}[./-]", {"\x02" + d for d in "0123456789"}),  # ... and starts with
    (r"^\w+ (\d+|x\d) h$", {d + " h\x03" for d in "0123456789"}),  # what each alternative ends with
    (r"^\w+$", None),
    (r"(?:cookie){e<=1}", None),  # regex's fuzzy matching: the stdlib would read the braces as text
])
def test_necessary_literals(pattern: str, literals: set[str] | None) -> None:
    assert necessary_literals(pattern) == (frozenset(literals) if literals is not None else None)


def test_every_other_digit_folds_to_zero() -> None:
    # `\d` has the ten literals 0-9 only because fold turns the other digits (by the rules' engine) into "0";
    # the stdlib class that rules texts out first must hold all of them.
    from stages import rulebook

    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    others = rulebook._OTHER_DIGIT.findall(everything)
    assert len(others) > 600 and all(rulebook._MAYBE_OTHER_DIGIT.match(c) for c in others)
    assert rulebook.fold("Le ٣ mars ２０２４") == "le 0 mars 0000"


def test_scanned_folds_digits_where_their_utf8_says_it_may_need_to() -> None:
    """Every character the digit check looks for starts its UTF-8 with a byte of `_OTHER_DIGIT_LEADS`, so a
    scanned form without such a byte needs no digit folding; with and without, it is the fold's UTF-8."""
    from stages.rulebook import _END, _MAYBE_OTHER_DIGIT, _OTHER_DIGIT_LEADS, _START, fold, scanned

    every = "".join(map(chr, range(0x110000)))
    assert {char.encode("utf-8", "surrogatepass")[0] for char in _MAYBE_OTHER_DIGIT.findall(every)} \
        <= set(_OTHER_DIGIT_LEADS)
    for text in ["Publié le ٣ mars ٢٠٢٤", "12.03.2024", "l’été — 3 €", "ﾃｽﾄ ١", "٣", "x\n", "İstanbul ߁", "\ud800"]:
        marked = text[:-1] + _END + "\n" if text.endswith("\n") else text
        assert scanned(text) == (_START + fold(marked) + _END).encode("utf-8", "surrogatepass")


def test_scanned_is_the_utf8_of_the_fold_of_every_character() -> None:
    """`scanned` folds only the characters outside ASCII that casefold changes, one kind at a time, and ASCII
    capitals in the bytes: over every code point, and with capitals, "ß", "İ" and a combining dot beside
    ASCII, that is the UTF-8 of `fold`; replacing one kind of character by its fold cannot bring in another
    kind that casefold changes."""
    from stages.rulebook import _END, _START, fold, scanned

    every = "".join(map(chr, range(0x110000)))
    assert all(char.casefold().casefold() == char.casefold() for char in every)
    for text in [every, "Straße ÉTAT ﬁn İstanbul I\u0307x", "ÀÉé", "À lire également", "Kim Jong-un", "Œuvre ٣"]:
        assert scanned(text) == (_START + fold(text) + _END).encode("utf-8", "surrogatepass")
