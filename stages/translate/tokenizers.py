"""The two tokenizers Argos packages ship, applied as argostranslate applies them.

- `sentencepiece.model`: SentencePiece pieces in; out, pieces decoded, with `▁` and `_` read as spaces.
- `bpe.model`: Moses punctuation normalisation and tokenisation (sacremoses, in the source language), then
  subword-nmt BPE codes with the `@@` separator; out, the `@@ ` joins are undone and the tokens Moses-
  detokenised in the target language.

The BPE step is `apply_codes` below, a short exact rendering of subword-nmt's `encode` for what Argos
uses (no vocabulary filter, no glossaries, no dropout): small enough not to be worth a dependency, and
checked against argostranslate's own copy of subword-nmt in the tests.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

SEPARATOR = "@@"
_END = "</w>"
_UNLISTED = 1 << 62  # the rank of a pair the codes do not list: after every listed one


class Tokenizer(Protocol):
    def encode(self, texts: list[str]) -> list[list[str]]: ...

    def decode(self, tokens: list[list[str]]) -> list[str]: ...


class SentencePiece:
    def __init__(self, path: Path) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(path))

    def encode(self, texts: list[str]) -> list[list[str]]:
        tokens: list[list[str]] = self._sp.encode(texts, out_type=str)
        return tokens

    def decode(self, tokens: list[list[str]]) -> list[str]:
        """As Argos decodes: pieces joined, then its space marker and underscores read as spaces."""
        texts: list[str] = self._sp.decode_pieces(tokens)
        return [text.replace("\u2581", " ").replace("_", " ") for text in texts]


class MosesBPE:
    """Moses + BPE, as argostranslate's `BPETokenizer`. Needs sacremoses (`pip install 'tamis[translate]'`)."""

    def __init__(self, path: Path, source: str, target: str) -> None:
        from sacremoses import MosesDetokenizer, MosesPunctNormalizer, MosesTokenizer

        self._normalizer = MosesPunctNormalizer(source)
        self._tokenizer = MosesTokenizer(source)
        self._detokenizer = MosesDetokenizer(target)
        self._codes = BPECodes(path.read_text(encoding="utf-8"))

    def encode(self, texts: list[str]) -> list[list[str]]:
        out = []
        for text in texts:
            words = " ".join(self._tokenizer.tokenize(self._normalizer.normalize(text))).strip("\r\n ").split(" ")
            out.append(self._codes.segment([w for w in words if w]))
        return out

    def decode(self, tokens: list[list[str]]) -> list[str]:
        return [self._detokenizer.detokenize(" ".join(t).replace(SEPARATOR + " ", "").split(" ")) for t in tokens]


class BPECodes:
    """subword-nmt merge operations (a `bpe.model` / codes file), applied to whitespace-split words."""

    def __init__(self, text: str) -> None:
        lines = text.splitlines()
        self.version: tuple[int, ...] = (0, 1)
        if lines and lines[0].startswith("#version:"):
            self.version = tuple(int(x) for x in re.sub(r"(\.0+)*$", "", lines[0].split()[-1]).split("."))
            lines = lines[1:]
        if self.version not in ((0, 1), (0, 2)):
            raise ValueError(f"BPE codes version {self.version} is not supported (0.1 and 0.2 are)")
        self.ranks: dict[tuple[str, str], int] = {}
        for number, line in enumerate(lines):
            pair = tuple(line.strip("\r\n ").split(" "))
            if len(pair) != 2:
                raise ValueError(f"BPE codes line {number + 1}: expected two subword units, got {line!r}")
            self.ranks.setdefault((pair[0], pair[1]), number)  # the first of a repeated pair counts
        self._cache: dict[str, tuple[str, ...]] = {}

    def segment(self, words: list[str]) -> list[str]:
        """Each word's subwords, all but the last of each word ending in `@@`."""
        out: list[str] = []
        for word in words:
            units = self.apply_codes(word)
            out.extend(unit + SEPARATOR for unit in units[:-1])
            out.append(units[-1])
        return out

    def apply_codes(self, word: str) -> tuple[str, ...]:
        """Merge the word's symbols, lowest-ranked pair first, until no listed pair remains."""
        if word in self._cache:
            return self._cache[word]
        symbols = (*word, _END) if self.version == (0, 1) else (*word[:-1], word[-1] + _END)
        while len(symbols) > 1:
            pairs = set(zip(symbols, symbols[1:], strict=False))
            best = min(pairs, key=lambda p: self.ranks.get(p, _UNLISTED))
            if best not in self.ranks:
                break
            merged: list[str] = []
            i = 0
            while i < len(symbols):
                if i < len(symbols) - 1 and (symbols[i], symbols[i + 1]) == best:
                    merged.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            symbols = tuple(merged)
        if symbols[-1] == _END:
            symbols = symbols[:-1]
        elif symbols[-1].endswith(_END):
            symbols = (*symbols[:-1], symbols[-1].replace(_END, ""))
        self._cache[word] = symbols
        return symbols
