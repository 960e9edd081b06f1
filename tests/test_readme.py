"""The README's custom stage works as written."""

from __future__ import annotations

import re

from pipeline import Document
from tests.conftest import ARTICLES, ROOT


def test_readme_custom_stage_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Writing a stage", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 2
    namespace: dict[str, object] = {}
    exec(blocks[0], namespace)  # noqa: S102 - our own README
    exec(blocks[1], namespace)  # noqa: S102
    pipe = namespace["pipe"]
    long = ARTICLES / "001_d65a453aca90a03a.txt"
    docs = [Document(id="short", source="t", raw=b"Trop court."),
            Document(id="long", source=str(long), raw=long.read_bytes())]
    out = pipe.process(docs)  # type: ignore[attr-defined]
    assert [(d.status, d.reason) for d in out] == [("filtered", "too short"), ("ok", None)]
