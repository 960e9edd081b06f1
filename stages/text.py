"""Text helpers shared by the stages: where a sentence ends, how many words a line has, whether a line
reads as prose, whether a line continues the previous one, and the key under which two texts count as
the same. One home for each, so that `boilerplate`, `normalise`, `dedupe` and `sentences` agree.
"""

from __future__ import annotations

import re

# Sentence-final punctuation (Latin and CJK full-width forms) and what may close a sentence after it.
SENTENCE_PUNCT = ".!?…。！？"
CLOSERS = "\"'»”’)\\]」』"  # escaped for a regex character class
_CLOSING = CLOSERS.replace("\\", "")
# A clause may also end with a colon or semicolon: a line ending so introduces or continues text.
_CLAUSE_PUNCT = SENTENCE_PUNCT + ":;"

# Scripts written without spaces between words: a run of their characters holds several words.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"
                       r"\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff]+")
# A superset of those characters that a class scan rules out faster: one or two range checks for a Latin
# letter or a typographic mark, where the exact class takes nine.
_MAYBE_UNSPACED = re.compile(r"[^\x00-\u0dff\u2000-\u206f]")
# In a long text the UTF-8 rules them out faster still: each of them starts with a byte 0xE0, 0xE1 or
# 0xE3-0xFF, or with 0xE2 and then a byte 0x81-0xBF (U+2040-U+2FFF); the bytes of every other character
# differ (U+2000-U+203F is 0xE2 0x80, continuation bytes are below 0xC0).
_UNSPACED_LEADS = bytes([0xE0, 0xE1, *range(0xE3, 0x100)])
_NOT_UNSPACED_LEADS = bytes(b for b in range(256) if b not in _UNSPACED_LEADS)
_UNSPACED_AFTER_E2 = re.compile(rb"\xe2[\x81-\xbf]")
# From this length on a text is checked by its UTF-8 (an encode and two byte scans cost less than the
# class scan).
_UTF8_CHECK_CHARS = 256
# Characters per word in such a run (Chinese and Japanese words average about two characters).
_CHARS_PER_WORD = 2

_FIRST_LETTER = re.compile(r"[^\W\d_]")
_STARTS_CONTINUATION = re.compile(r"[,;)\]]")
# Runs of anything but spaces and common punctuation, ASCII's in its full-width forms too (as CJK text writes
# it; a class of literal characters scans faster than the Unicode-aware \w): the words of a comparison key.
_KEY_WORD = re.compile(r"[^\s!-/:-@\[-`{-~«»“”„‘’‚‹›–—…·•¡¿。、「」『』・"
                       r"\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]+")
# A word, or the elided article or pronoun before an apostrophe and a word ("l'" of "l'État", "qu'" of
# "qu'il"): an elided one is a function word of its own (`_ELIDED`).
_TOKEN = re.compile(r"[^\W\d_][\w-]*(?:['’](?=[^\W\d_]))?")

# Short function words of French, German and English (articles, pronouns, auxiliaries, prepositions,
# conjunctions): a line with several of them is running text, not a label, a name or a menu entry.
_FUNCTION_WORDS_TEXT = """
le la les l un une des du de d au aux et ou mais est sont a ont été était qui que qu ne pas plus il elle ils
elles on nous vous se sa son ses leur leurs ce cette ces dans pour par sur avec sans en y comme lors selon
der die das den dem des ein eine einen einem einer und oder aber ist sind war hat haben wird werden nicht
sich er sie es wir ihr man mit von zu zum zur auf für bei nach aus im am an als auch noch wie dass
the a an and or but is are was were has have had be been will would not it he she they we you his her
their its of to in on for with by from at as that this which who than also after
"""
_ELIDED = "c' d' l' n' qu' s'"  # the listed French words (ce, de, le, la, ne, que, se) elided before a vowel
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split() + _ELIDED.split())


def word_count(text: str) -> int:
    """Words of `text`: whitespace-separated tokens, and in scripts without spaces (Chinese, Japanese, Thai)
    one word per two characters, so that a paragraph of such a script is long, not one word."""
    return len(text.split()) + unspaced_words(text)


def unspaced_words(text: str) -> int:
    """The words that runs of scripts without spaces hold beyond the one a whitespace split sees in each."""
    if not _may_be_unspaced(text):
        return 0
    return sum(max(0, len(run) // _CHARS_PER_WORD - 1) for run in _UNSPACED.findall(text))


def unspaced_share(text: str) -> float:
    """The share of the non-space characters of `text` that are in scripts written without spaces."""
    if not _may_be_unspaced(text):
        return 0.0
    letters = len(text) - text.count(" ")
    return sum(map(len, _UNSPACED.findall(text))) / letters if letters else 0.0


def _may_be_unspaced(text: str) -> bool:
    """Whether `text` may hold a character of a script without spaces (False: it holds none)."""
    if text.isascii():
        return False
    if len(text) < _UTF8_CHECK_CHARS:
        return _MAYBE_UNSPACED.search(text) is not None
    data = text.encode("utf-8", "surrogatepass")
    return len(data.translate(None, _NOT_UNSPACED_LEADS)) != 0 or _UNSPACED_AFTER_E2.search(data) is not None


def ends_sentence(text: str) -> bool:
    """`text` ends with sentence-final punctuation (quotes and brackets after it allowed)."""
    end = _last(text)
    return end != "" and end in SENTENCE_PUNCT


def ends_clause(text: str) -> bool:
    """`text` ends with sentence-final punctuation, a colon or a semicolon."""
    end = _last(text)
    return end != "" and end in _CLAUSE_PUNCT


def ends_clauses(lines: list[str]) -> list[bool]:
    """`ends_clause` of each of `lines` (a document's lines, in one call): a line whose last character is
    neither a closing mark nor a space ends as that character says, and only the others are trimmed."""
    return [(end := line[-1:]) in _CLAUSE_ENDS or ((end in _CLOSERS or end.isspace()) and ends_clause(line))
            for line in lines]


_CLAUSE_ENDS = frozenset(_CLAUSE_PUNCT)
_CLOSERS = frozenset(_CLOSING)


def _last(text: str) -> str:
    """The last character of `text` before the closing quotes, brackets and spaces that end it ("" if
    none): a few `rstrip` calls, where a regex anchored at the end would try every punctuation mark."""
    trimmed = text.rstrip()
    while trimmed and trimmed[-1] in _CLOSING:
        trimmed = trimmed.rstrip(_CLOSING).rstrip()
    return trimmed[-1:]


def function_words(text: str) -> int:
    """How many tokens of `text` are French, German or English function words."""
    return sum(map(FUNCTION_WORDS.__contains__, _TOKEN.findall(text.lower().replace("’", "'"))))


def has_function_words(text: str, at_least: int) -> bool:
    """Whether `function_words(text) >= at_least`, the tokens read only as far as the one that makes the
    count: running text has its first function words among its first few words, where counting them all
    reads every word of a paragraph."""
    found = 0
    contains = FUNCTION_WORDS.__contains__
    for token in _TOKEN.finditer(text.lower().replace("’", "'")):
        if contains(token.group()):
            found += 1
            if found >= at_least:
                return True
    return at_least <= 0


def reads_as_sentence(text: str, words: int | None = None) -> bool:
    """Whether `text` reads as a sentence of running text: six words or more, final punctuation, and
    function words (or, in scripts without spaces, final punctuation alone). A line that reads so is
    article text unless two independent pieces of evidence say otherwise."""
    words = word_count(text) if words is None else words
    if words < 6 or not ends_sentence(text):
        return False
    if unspaced_share(text) >= 0.5:
        return True
    return has_function_words(text, 2)


_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.+-]+@[\w-]+\.[\w.]+")
_SHELL = re.compile(r"^(?:[$#>]\s+\S|(?:sudo|pip3?|python3?|npm|npx|yarn|git|cd|ls|cat|curl|wget|docker|apt(?:-get)?|"
                    r"brew|make|cargo|go|conda|mkdir|rm|cp|mv|chmod|export|echo)\s+\S)")
_OPTION = re.compile(r"\s--?[a-zA-Z][\w-]*(?:[=\s]|$)")  # a command-line option: "--input", "-v"
_CODE_SYMBOLS = re.compile(r"[{}()\[\];=<>_*#|\\/`]")
# A line of code starts with a keyword, or ends with `;`, a brace or a call (`f(x)`, `f(x):`, `f(x) {`).
_CODE_START = re.compile(r"\s*(?:def|class|import|from|return|if|for|while|function|const|let|var|public|private|"
                         r"#include|SELECT|INSERT)\b")
_CODE_END = re.compile(r"[;{}]\s*$|\b\w+\([^)]*\)\s*[:{;]?\s*$")
# "Dupont, J. (2020). Title." and "[3] Smith, A. B., 1999", or a DOI or ISBN anywhere.
_REFERENCE = re.compile(r"\s*(?:\[\d+\]\s*)?[A-ZÀ-ÖØ-Þ][\w'’-]+,\s+(?:[A-ZÀ-ÖØ-Þ]\.\s*)+.*\b(?:1[89]|20)\d{2}\b")
_IDENTIFIER = re.compile(r"\b(?:doi:\s*10\.\d+|ISBN[\s:-]*[\dX-]{10,})")


def is_prose(text: str) -> bool:
    """Whether `text` is prose to read (and translate), not a URL, an e-mail address, a shell command, a
    line of code or a bibliography entry, which stay as they are. Each pattern runs only where the
    characters it needs are there: most text is prose, and this runs on every segment."""
    stripped = text.strip()
    if not stripped:
        return False
    if "://" in stripped or "www." in stripped or "@" in stripped:
        urls = sum(len(m) for m in _URL.findall(stripped))
        if urls * 2 >= len(stripped):
            return False
    lines = stripped.split("\n")
    # A line that ends a sentence is no option line: the cheap test first, the option scan only without it.
    if all(_SHELL.match(line) or _is_code(line) or (not ends_sentence(line) and _OPTION.search(line))
           for line in lines if line.strip()):
        return False
    if len(_CODE_SYMBOLS.findall(stripped)) * 8 >= len(stripped):
        return False
    if _REFERENCE.match(stripped):
        return False
    return not (("doi:" in stripped or "ISBN" in stripped) and _IDENTIFIER.search(stripped))


def _is_code(line: str) -> bool:
    return _CODE_START.match(line) is not None or (line.rstrip()[-1:] in (";", "{", "}", ")", ":")
                                                    and _CODE_END.search(line) is not None)


def continues(previous: str, line: str) -> bool:
    """Whether `line` goes on with the sentence of `previous` (a hard wrap): it starts in lower case or
    with a comma, semicolon or closing bracket, after a line that ends no sentence."""
    first = _FIRST_LETTER.search(line)
    starts_low = (first is not None and first.start() == 0 and first.group().islower()) \
        or _STARTS_CONTINUATION.match(line) is not None
    return starts_low and not ends_clause(previous)


def key(text: str) -> str:
    """The comparison key of a text: case-folded words, one space apart, punctuation ignored."""
    return " ".join(_KEY_WORD.findall(text.casefold()))


def key_start(text: str, words: int) -> str:
    """The first `words` words of `key(text)` (all of them if it has fewer; "" for a text without words),
    found without building the whole key: texts with the same key start alike, so this sorts texts into
    the groups where equal keys can be. A long text is folded only as far as its first characters first:
    `str.casefold` maps each character on its own (unlike `lower`, no final-sigma context), so the fold of
    a prefix is a prefix of the fold, and a key word found there that ends before the prefix does is
    followed by a separator in the whole fold too, the same word; when the prefix holds fewer words, or the
    last one reaches its end, the whole text is folded."""
    if len(text) > _KEY_START_CHARS * words:
        prefix = text[: _KEY_START_CHARS * words].casefold()
        found, end = _key_words(prefix, words)
        if len(found) == words and end < len(prefix):
            return " ".join(found)
    return " ".join(_key_words(text.casefold(), words)[0])


# Characters per word of the prefix `key_start` folds first: French, German and English words average
# under eight letters, so the first words of nearly every text lie inside it.
_KEY_START_CHARS = 24


def _key_words(folded: str, words: int) -> tuple[list[str], int]:
    """The first `words` key words of `folded`, and where the last of them ends."""
    found: list[str] = []
    end = 0
    while len(found) < words and (match := _KEY_WORD.search(folded, end)) is not None:
        found.append(match.group())
        end = match.end()
    return found, end
