"""Telling a tamis output record from an input record, and holding a re-read record to the schema.

tamis reads its own output back (to run it again, to explain it). Such a line is taken as it is, so it must
satisfy `document.schema.json` exactly; anything else is an ordinary input record, whatever fields it has.
A CMS export row with `"status": "published"` and `blocks` of its own is input, not a tamis record.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

STATUSES = ("ok", "filtered", "error")
_BLOCK_KEYS = ("kind", "text", "index")
SURROGATE = re.compile("[\ud800-\udfff]")
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "integer": (int,), "number": (int, float),
    "boolean": (bool,), "null": (type(None),),
}


def is_tamis_record(record: dict[str, Any]) -> bool:
    """A record shaped like tamis output: `blocks` with a tamis status, or blocks that are tamis blocks
    (objects with `kind`, `text` and `index`)."""
    if "blocks" not in record:
        return False
    if record.get("status") in STATUSES:
        return True
    blocks = record["blocks"]
    return (isinstance(blocks, list) and bool(blocks)
            and all(isinstance(b, dict) and all(k in b for k in _BLOCK_KEYS) for b in blocks))


def schema_problem(record: dict[str, Any]) -> str | None:
    """Where `record` breaks `document.schema.json` (the first problem, with its path), or None. Text with
    lone surrogates is refused too: no UTF-8 output can hold it."""
    return _problem(record, _schema(), _schema(), "record")


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("pipeline").joinpath("document.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _problem(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str) -> str | None:
    """The subset of JSON Schema that `document.schema.json` uses: $ref, type, enum, required,
    additionalProperties: false, properties, items, minimum."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    if "enum" in schema and value not in schema["enum"]:
        return f"{path}: {_short(value)} is not one of {', '.join(map(str, schema['enum']))}"
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is(value, name) for name in names):
            return f"{path}: expected {' or '.join(names)}, got {_json_type(value)}"
    if isinstance(value, str):
        return f"{path}: lone surrogate in text" if SURROGATE.search(value) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value < schema.get("minimum", value):
        return f"{path}: {value} is below {schema['minimum']}"
    if isinstance(value, list):
        items = schema.get("items")
        for i, item in enumerate(value):
            problem = _problem(item, items, root, f"{path}[{i}]") if items else _any_surrogate(item, f"{path}[{i}]")
            if problem:
                return problem
    if isinstance(value, dict):
        return _object_problem(value, schema, root, path)
    return None


def _object_problem(value: dict[str, Any], schema: dict[str, Any], root: dict[str, Any], path: str) -> str | None:
    missing = [k for k in schema.get("required", []) if k not in value]
    if missing:
        return f"{path}: missing {', '.join(missing)}"
    properties = schema.get("properties", {})
    for key, item in value.items():
        where = f"{path}.{key}"
        if key in properties:
            problem = _problem(item, properties[key], root, where)
        elif schema.get("additionalProperties") is False:
            problem = f"{path}: unknown field {_short(key)}"
        else:
            problem = _any_surrogate(key, path) or _any_surrogate(item, where)
        if problem:
            return problem
    return None


def _any_surrogate(value: Any, path: str) -> str | None:
    """Free-form values (`extra`) only need to be writable as UTF-8."""
    if isinstance(value, str):
        return f"{path}: lone surrogate in text" if SURROGATE.search(value) else None
    if isinstance(value, list):
        return next((p for i, v in enumerate(value) if (p := _any_surrogate(v, f"{path}[{i}]"))), None)
    if isinstance(value, dict):
        return next((p for k, v in value.items() if (p := _any_surrogate(k, path) or _any_surrogate(v, f"{path}.{k}"))),
                    None)
    return None


def _is(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return name == "boolean"
    return isinstance(value, _TYPES[name])


def _json_type(value: Any) -> str:
    return next((name for name in _TYPES if _is(value, name)), type(value).__name__)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."
