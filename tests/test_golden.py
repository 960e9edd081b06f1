"""Golden outputs: each bundled fixture through the default pipeline gives exactly the stored record.

After an intended change, `pytest tests/test_golden.py --update-golden` rewrites them; review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import load_config, readers
from pipeline.runner import Pipeline
from tests.conftest import FIXTURES, ROOT

INPUTS = sorted([*(FIXTURES / "articles").iterdir(), *(FIXTURES / "html").iterdir()])
GOLDEN = FIXTURES / "golden"


@pytest.fixture(scope="module")
def outputs() -> dict[str, dict]:
    pipe = Pipeline.from_config(load_config(ROOT / "config.yaml"))
    docs = pipe.process([doc for path in INPUTS for doc in readers.read([str(path)])])
    pipe.close()
    return {Path(doc.source).name: json.loads(json.dumps(doc.to_json(), ensure_ascii=False)) for doc in docs}


@pytest.mark.parametrize("name", [p.name for p in INPUTS])
def test_fixture_matches_its_golden_output(name: str, outputs: dict[str, dict], request: pytest.FixtureRequest) -> None:
    record = outputs[name]
    record["source"] = f"fixtures/{Path(record['source']).parent.name}/{name}"
    golden = GOLDEN / f"{name}.json"
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert record == json.loads(golden.read_text(encoding="utf-8"))


def test_every_golden_file_has_its_fixture() -> None:
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(f"{p.name}.json" for p in INPUTS)
