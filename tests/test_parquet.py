"""Parquet input: rows as JSONL records, read in row batches."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from pipeline import parquet, readers
from pipeline.document import Metadata

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def test_rows_are_records_with_metadata_and_nulls_as_missing_fields(tmp_path: Path) -> None:
    table = pa.table({
        "id": ["a", None, "c"],
        "html": ["<p>Un.</p>", None, None],
        "text": [None, "Deux.", None],
        "url": ["https://ex.test/a", None, None],
        "published": [datetime.date(2024, 5, 1), None, None],
    })
    pq.write_table(table, tmp_path / "rows.parquet")
    docs = list(readers.read([str(tmp_path)]))
    assert [(d.id, d.status, d.html, d.plain_text, d.metadata, d.extra) for d in docs] == [
        ("a", "ok", "<p>Un.</p>", None, Metadata(url="https://ex.test/a"), {"published": "2024-05-01"}),
        ("rows.parquet:2", "ok", None, "Deux.", Metadata(), {}),
        ("c", "error", None, None, Metadata(), {}),
    ]
    assert docs[2].reason == "row 3: record has no string field 'html' or 'text'"


def test_a_parquet_file_is_read_in_row_batches_not_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pq.write_table(pa.table({"text": [f"Texte {i}." for i in range(10)]}), tmp_path / "rows.parquet", row_group_size=3)
    monkeypatch.setattr(parquet, "BATCH_ROWS", 4)
    batches: list[int] = []
    real = pq.ParquetFile.iter_batches

    def spy(self: object, **kwargs: object) -> object:
        for batch in real(self, **kwargs):
            batches.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    monkeypatch.setattr(pq, "read_table", None)  # reading the whole table is not an option
    stream = readers.read([str(tmp_path / "rows.parquet")])
    assert next(stream).plain_text == "Texte 0." and batches == [4]
    assert [d.plain_text for d in stream] == [f"Texte {i}." for i in range(1, 10)]
    assert sum(batches) == 10 and max(batches) <= 4


def test_a_corrupt_or_compressed_parquet_is_an_error_record(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 this is not really parquet PAR1")
    [doc] = readers.read([str(tmp_path / "bad.parquet")])
    assert (doc.status, doc.stage) == ("error", "read")
    assert doc.reason is not None and doc.reason.startswith("read failed: FormatError: Parquet unreadable after row 0:")
