"""Real Argos Translate packages, small enough to build in a test.

No real model can be downloaded where the tests run, so tests build their own `.argosmodel` files: a
tokenizer trained on a few lines — a SentencePiece model, or (`tokenizer="bpe"`) subword-nmt BPE codes
learnt here on the Moses-tokenised lines, as Argos's older packages ship them in `bpe.model` — a CTranslate2
Transformer with deterministic random weights (`ctranslate2.specs`), a `metadata.json`, all zipped under one
top-level directory as Argos packages are.
The translations are nonsense, but they are exactly what CTranslate2 computes, which is what the tests
check. `bench/translate.py` builds its Argos-sized model with the same function.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

LINES = (
    "Nordkorea unterstützt Russland im Ukraine-Konflikt mit Truppen und Waffen.",
    "Neueste Entwicklungen und Verträge im Überblick.",
    "Die Regierung hat am Montag neue Maßnahmen angekündigt.",
    "North Korea supports Russia in the Ukraine conflict with troops and weapons.",
    "The government announced new measures on Monday.",
    "La Corée du Nord soutient la Russie dans le conflit ukrainien.",
    "Le gouvernement a annoncé de nouvelles mesures lundi.",
)


@dataclass(frozen=True, kw_only=True)
class Shape:
    """Transformer dimensions. The default is tiny; Argos's own models are 6+6 layers of 512, 8 heads,
    FFN 2048, a vocabulary of ~32k."""

    layers: int = 1
    d_model: int = 16
    heads: int = 2
    ffn: int = 32
    vocab_size: int = 80
    eos_bias: float = 1.0  # tiny models stop after a few dozen tokens; very negative: never before the limit


def build_package(out_dir: Path, source: str, target: str, *, seed: int, shape: Shape = Shape(),
                  lines: tuple[str, ...] = LINES, version: str = "1.0", quantization: str | None = None,
                  target_prefix: str = "", tokenizer: Literal["sentencepiece", "bpe"] = "sentencepiece") -> Path:
    """Write `out_dir/translate-<source>_<target>-<version>.argosmodel` and return its path."""
    name = f"translate-{source}_{target}-{version.replace('.', '_')}"
    with tempfile.TemporaryDirectory() as work:
        root = Path(work) / name
        root.mkdir()
        if tokenizer == "bpe":
            pieces = _learn_bpe(root / "bpe.model", lines, source, shape.vocab_size, target_prefix)
        else:
            pieces = _train_sentencepiece(root / "sentencepiece.model", lines, shape.vocab_size, target_prefix)
        vocabulary = pieces + [f"<filler{i}>" for i in range(shape.vocab_size - len(pieces))]
        _save_transformer(root / "model", vocabulary, shape, seed, quantization)
        metadata = {"package_version": version, "argos_version": "1.9", "type": "translate",
                    "from_code": source, "from_name": source.upper(), "to_code": target, "to_name": target.upper()}
        if target_prefix:
            metadata["target_prefix"] = target_prefix
        (root / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
        archive = out_dir / f"{name}.argosmodel"
        with zipfile.ZipFile(archive, "w") as zf:
            for path in sorted(root.rglob("*")):
                zf.write(path, path.relative_to(work).as_posix())
    return archive


def _train_sentencepiece(path: Path, lines: tuple[str, ...], vocab_size: int, target_prefix: str) -> list[str]:
    """Train a unigram model on `lines` (the vocabulary may come out smaller than asked) and return its
    pieces in id order: `<unk>`, `<s>`, `</s>` first, as CTranslate2's default config expects. A target
    prefix (`__fr__` in multilingual packages) becomes a piece of its own."""
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, vocab_size=vocab_size,
                                   hard_vocab_limit=False, character_coverage=1.0, minloglevel=2,
                                   user_defined_symbols=[target_prefix] if target_prefix else [])
    path.write_bytes(model.getvalue())
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


def _learn_bpe(path: Path, lines: tuple[str, ...], lang: str, vocab_size: int, target_prefix: str) -> list[str]:
    """Learn subword-nmt (version 0.2) merges on the Moses-normalised and -tokenised `lines`, write them to
    `path`, and return a vocabulary: the special tokens, then every subword the codes can produce on the
    lines (`@@` marking the non-final ones) and every single character in both forms, cut to `vocab_size`."""
    from sacremoses import MosesPunctNormalizer, MosesTokenizer

    normalizer, moses = MosesPunctNormalizer(lang), MosesTokenizer(lang)
    counts = Counter(w for line in lines for w in moses.tokenize(normalizer.normalize(line)))
    words = {w: (*w[:-1], w[-1] + "</w>") for w in counts}
    merges: list[tuple[str, str]] = []
    while len(merges) < vocab_size // 2:
        pairs: Counter[tuple[str, str]] = Counter()
        for word, symbols in words.items():
            for pair in zip(symbols, symbols[1:], strict=False):
                pairs[pair] += counts[word]
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))
        merges.append(best)
        for word, symbols in words.items():
            merged, i = [], 0
            while i < len(symbols):
                if symbols[i : i + 2] == best:
                    merged.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            words[word] = tuple(merged)
    path.write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges), encoding="utf-8")
    units = {u.removesuffix("</w>") if u.endswith("</w>") else u + "@@" for s in words.values() for u in s}
    chars = sorted({c for w in counts for c in w})
    vocabulary = ["<unk>", "<s>", "</s>"] + ([target_prefix] if target_prefix else [])
    vocabulary += sorted(units) + chars + [c + "@@" for c in chars]
    return list(dict.fromkeys(vocabulary))[:vocab_size]


def _save_transformer(model_dir: Path, vocabulary: list[str], shape: Shape, seed: int,
                      quantization: str | None) -> None:
    from ctranslate2.specs import TransformerSpec

    rng = np.random.default_rng(seed)
    d, v = shape.d_model, len(vocabulary)

    def matrix(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

    def linear(spec: object, rows: int, cols: int) -> None:
        spec.weight = matrix(rows, cols)  # type: ignore[attr-defined]
        spec.bias = np.zeros(rows, np.float32)  # type: ignore[attr-defined]

    def norm(spec: object) -> None:
        spec.gamma = np.ones(d, np.float32)  # type: ignore[attr-defined]
        spec.beta = np.zeros(d, np.float32)  # type: ignore[attr-defined]

    def ffn(spec: object) -> None:
        norm(spec.layer_norm)  # type: ignore[attr-defined]
        linear(spec.linear_0, shape.ffn, d)  # type: ignore[attr-defined]
        linear(spec.linear_1, d, shape.ffn)  # type: ignore[attr-defined]

    spec = TransformerSpec.from_config(shape.layers, shape.heads)
    spec.encoder.embeddings[0].weight = matrix(v, d)
    norm(spec.encoder.layer_norm)
    for layer in spec.encoder.layer:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * d, d)
        linear(layer.self_attention.linear[1], d, d)
        ffn(layer.ffn)
    spec.decoder.embeddings.weight = matrix(v, d)
    norm(spec.decoder.layer_norm)
    linear(spec.decoder.projection, v, d)
    spec.decoder.projection.bias[vocabulary.index("</s>")] = shape.eos_bias
    for layer in spec.decoder.layer:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * d, d)
        linear(layer.self_attention.linear[1], d, d)
        norm(layer.attention.layer_norm)
        linear(layer.attention.linear[0], d, d)
        linear(layer.attention.linear[1], 2 * d, d)
        linear(layer.attention.linear[2], d, d)
        ffn(layer.ffn)
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    spec.optimize(quantization=quantization)
    model_dir.mkdir()
    spec.save(str(model_dir))
