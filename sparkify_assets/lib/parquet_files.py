"""Streaming rows into Parquet files and back, in bounded memory (pyarrow).

Rows arrive from a database cursor a batch at a time; each batch becomes one Arrow record batch and
one row group, and a file is closed once it holds ``rows_per_file`` rows, so neither a day nor a
whole table is ever held in memory. Reading back goes the same way, one record batch at a time.
Compression is Snappy, what Redshift UNLOAD writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ROWS = 65_536  # one row group: large enough to compress well, a few tens of MB at most
ROWS_PER_FILE = 2_000_000
COMPRESSION = "snappy"


def write_parquet_files(
    rows: Iterable[Sequence[object]],
    schema: pa.Schema,
    directory: Path,
    *,
    name_prefix: str,
    batch_rows: int = BATCH_ROWS,
    rows_per_file: int = ROWS_PER_FILE,
) -> list[tuple[Path, int]]:
    """Writes ``rows`` (tuples in ``schema``'s column order) to ``directory`` as
    ``<name_prefix>00000.parquet``, ``…00001.parquet``, …; returns each file with its row count.
    No rows, no file."""
    written: list[tuple[Path, int]] = []
    iterator = iter(rows)
    writer: pq.ParquetWriter | None = None
    in_file = 0
    try:
        while batch := list(islice(iterator, batch_rows)):
            if writer is None:
                path = directory / f"{name_prefix}{len(written):05d}.parquet"
                writer = pq.ParquetWriter(path, schema, compression=COMPRESSION)
                written.append((path, 0))
                in_file = 0
            columns = list(zip(*batch, strict=True))
            arrays = [
                pa.array(column, type=field.type)
                for column, field in zip(columns, schema, strict=True)
            ]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
            in_file += len(batch)
            written[-1] = (written[-1][0], in_file)
            if in_file >= rows_per_file:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()
    return written


def read_parquet_rows(
    path: Path, columns: Sequence[str], *, batch_rows: int = BATCH_ROWS
) -> Iterator[tuple[object, ...]]:
    """The rows of a Parquet file as tuples of ``columns``, one record batch at a time."""
    parquet = pq.ParquetFile(path)
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=list(columns)):
            yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)
    finally:
        parquet.close()
