"""Parquet input (`.parquet`, the `parquet` extra): one document per row, columns as in a JSONL record.

The file is read in row batches of `BATCH_ROWS`, never whole. Null cells count as missing fields (Arrow
gives a column that some rows lack as null in those rows); dates and times become ISO 8601 text, as they
would be in JSON.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline import sniff

BATCH_ROWS = 256


def rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number from 1, row as a JSON-like dict) for each row of `path`."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise sniff.FormatError("reading Parquet needs pyarrow: pip install 'tamis[parquet]'") from None
    number = 0
    try:
        for batch in pyarrow.parquet.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
            for row in batch.to_pylist():
                number += 1
                yield number, {k: _plain(v) for k, v in row.items() if v is not None}
    except pyarrow.ArrowException as exc:
        raise sniff.FormatError(f"Parquet unreadable after row {number}: {exc}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
