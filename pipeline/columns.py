"""The Parquet output (`--format parquet`, the `parquet` extra): tamis records as rows, one column per record field.

The columns are the JSONL record's fields with the same nesting (`metadata` a struct, `blocks` a list of
structs with their segments and translations, ...), typed from the `Document` dataclasses, so the schema is
the same for every file whatever its first rows hold. `extra`, the input's own fields of any shape, is a
column of JSON text. A Parquet file is whole only once its footer is written: the file is written beside its
place and moved there at the end, and a Parquet output cannot be resumed.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import TYPE_CHECKING, Any, Literal, Union

from pipeline.document import Document, Separated

if TYPE_CHECKING:
    import pyarrow

ROW_GROUP = 1024  # rows per Parquet row group: bounded memory, and large enough for column compression
_SCALARS = {str: "string", int: "int64", float: "float64", bool: "bool_"}
# The record's fields in `Document.to_json` order: `text` and `separated` are derived, `extra` has no fixed shape.
_DERIVED = {"text": str, "separated": list[Separated], "extra": str}


def import_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        from pipeline.errors import OutputError

        raise OutputError("--format parquet needs pyarrow: pip install 'tamis[parquet]'") from None
    return pyarrow


def schema() -> pyarrow.Schema:
    pa = import_pyarrow()
    hints = typing.get_type_hints(Document)
    fields = []
    for name in ("id", "source", "status", "stage", "reason", "text", "lang", "content_type", "metadata", "blocks",
                 "separated", "removed", "changes", "warnings", "html", "plain_text", "extra", "done"):
        fields.append(pa.field(name, _arrow_type(pa, _DERIVED.get(name) or hints[name])))
    return pa.schema(fields)


def row(line: str) -> dict[str, Any]:
    """A Parquet row from a JSONL record (what the workers send back: a string pickles fastest)."""
    record: dict[str, Any] = json.loads(line)
    if "extra" in record:
        record["extra"] = json.dumps(record["extra"], ensure_ascii=False)
    return record


def _arrow_type(pa: Any, hint: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return _arrow_type(pa, next(a for a in args if a is not type(None)))
    if origin is Literal:
        return pa.string()
    if origin is list:
        return pa.list_(_arrow_type(pa, args[0]))
    if dataclasses.is_dataclass(hint):
        inner = typing.get_type_hints(hint)
        return pa.struct([pa.field(f.name, _arrow_type(pa, inner[f.name])) for f in dataclasses.fields(hint)])
    if hint in _SCALARS:
        return getattr(pa, _SCALARS[hint])()
    raise TypeError(f"no Arrow type for {hint!r}")

