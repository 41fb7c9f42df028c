"""Rows between PostgreSQL's ``COPY … (FORMAT csv)`` and Parquet files, in bounded memory and with
NULL and the empty string kept apart (docs/backups.md, "Why pyarrow")."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

# pyarrow (about 75 MB in memory) is imported by the functions, when a backup or restore runs:
# every process that loads the definitions imports this module through the PostgreSQL engine.
if TYPE_CHECKING:
    import pyarrow as pa

CSV_BLOCK_BYTES = 8 << 20  # one record batch (and row group) per 8 MB of CSV
ROWS_PER_FILE = 2_000_000
RESTORE_BATCH_ROWS = 65_536
COMPRESSION = "snappy"


def csv_to_parquet_files(
    csv_path: Path,
    schema: pa.Schema,
    directory: Path,
    *,
    name_prefix: str,
    rows_per_file: int = ROWS_PER_FILE,
    block_bytes: int = CSV_BLOCK_BYTES,
) -> list[tuple[Path, int]]:
    """Converts a header-less CSV file of ``schema``'s columns (PostgreSQL's CSV dialect) into
    ``<name_prefix>00000.parquet``, ``…00001.parquet``, … in ``directory``; returns each file with
    its row count. An empty CSV gives no file."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    if csv_path.stat().st_size == 0:
        return []
    reader = pa_csv.open_csv(
        csv_path,
        read_options=pa_csv.ReadOptions(column_names=schema.names, block_size=block_bytes),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=schema,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    written: list[tuple[Path, int]] = []
    writer: pq.ParquetWriter | None = None
    try:
        for batch in reader:
            if writer is None:
                path = directory / f"{name_prefix}{len(written):05d}.parquet"
                writer = pq.ParquetWriter(path, schema, compression=COMPRESSION)
                written.append((path, 0))
            writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
            rows = written[-1][1] + batch.num_rows
            written[-1] = (written[-1][0], rows)
            if rows >= rows_per_file:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()
    return written


def parquet_as_csv(
    path: Path, columns: Sequence[str], *, batch_rows: int = RESTORE_BATCH_ROWS
) -> Iterator[tuple[bytes, int]]:
    """The rows of a Parquet file's ``columns`` as header-less CSV chunks (with their row
    counts), one record batch at a time, for ``COPY … FROM STDIN (FORMAT csv)``."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=list(columns)):
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(batch, sink, options)
            yield sink.getvalue().to_pybytes(), batch.num_rows
    finally:
        parquet.close()
