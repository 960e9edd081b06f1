"""Text for people: stage reference (`tamis stages`) and per-document explanations (`tamis explain`)."""

from __future__ import annotations

import dataclasses
import inspect
import typing

from pipeline import config as config_module
from pipeline import readers, registry
from pipeline.config import PipelineConfig
from pipeline.document import Document
from pipeline.runner import Pipeline


def stages(name: str | None = None) -> str:
    """Each stage (or one): its source, docstring, and options with type and default."""
    names = [name] if name else sorted(registry.available())
    out: list[str] = []
    for stage_name in names:
        cls = registry.get(stage_name)
        out.append(f"{stage_name}  ({registry.available()[stage_name]})")
        doc = inspect.cleandoc(cls.__dict__.get("__doc__") or "") or inspect.getdoc(inspect.getmodule(cls)) or ""
        out.extend("    " + line for line in doc.splitlines())
        hints = typing.get_type_hints(cls.Config, include_extras=True)
        for field in dataclasses.fields(cls.Config):
            default = getattr(cls.Config(), field.name)
            out.append(f"    - {field.name}: {config_module.describe(hints[field.name])} = {default!r}")
        out.append("")
    return "\n".join(out).rstrip()


def explain_input(path: str, config: PipelineConfig) -> list[Document]:
    """Documents of `path` as tamis leaves them: records already processed by tamis are shown as they
    are; anything else is run through the pipeline first."""
    docs = list(readers.read([path]))
    if all(d.raw is None and d.html is None and d.plain_text is None for d in docs):
        return docs
    pipe = Pipeline.from_config(config)
    try:
        return pipe.process(docs)
    finally:
        pipe.close()


def explain(docs: list[Document]) -> str:
    """Removals with their rule ids, language segments and translations, document by document."""
    out: list[str] = []
    for doc in docs:
        outcome = doc.status if doc.status == "ok" else f"{doc.status}: {doc.stage}: {doc.reason}"
        out.append(f"== {doc.id}  [{outcome}]  lang={doc.lang}  encoding={doc.metadata.encoding}")
        meta = {k: v for k, v in dataclasses.asdict(doc.metadata).items() if v and k != "encoding"}
        if meta:
            out.append("   metadata: " + ", ".join(f"{k}={v!r}" for k, v in meta.items()))
        for r in doc.removed:
            where = "-" if r.block is None else f"block {r.block}" + ("" if r.line is None else f" line {r.line}")
            out.append(f"   - removed [{r.stage}:{r.rule}] ({where}) {r.reason}: {_short(r.text)!r}")
        for c in doc.changes:
            out.append(f"   ~ changed [{c.stage}:{c.rule}] (block {c.block}) {c.detail}")
        for block in doc.blocks:
            tag = f"dup of {block.duplicate_of}" if block.duplicate_of is not None else block.kind
            out.append(f"   [{block.index}] {tag} {block.lang or ''}: {_short(block.text)!r}")
            for seg in block.segments:
                if seg.lang != block.lang or seg.translation or seg.action != "keep":
                    piece = _short(block.text[seg.start : seg.end])
                    line = f"       {seg.lang} {seg.confidence:.2f} {seg.action}: {piece!r}"
                    if seg.translation:
                        t = seg.translation
                        line += f" → [{t.status} {'→'.join(t.pivot) or t.source + '→' + t.target}] {_short(t.text)!r}"
                    out.append(line)
        for w in doc.warnings:
            out.append(f"   ! {w.stage}: {w.message}")
    return "\n".join(out)


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
