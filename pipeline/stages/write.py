"""Writing triples as Parquet through one explicit Arrow schema (``schema.md``)."""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import OutputError
from pipeline.records import Triple

SPAN = pa.struct([pa.field("start", pa.int32()), pa.field("end", pa.int32())])
SCHEMA = pa.schema([
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("head", pa.string(), nullable=False),
    pa.field("relation", pa.string(), nullable=False),
    pa.field("tail", pa.string(), nullable=False),
    pa.field("confidence", pa.float32(), nullable=False),
    pa.field("evidence", pa.string(), nullable=False),
    pa.field("head_span", SPAN, nullable=False),
    pa.field("tail_span", SPAN, nullable=False),
    pa.field("published", pa.date32()),
    pa.field("source", pa.string()),
    pa.field("model_version", pa.string()),
])


def to_table(triples: Iterable[Triple]) -> pa.Table:
    """Triples as an Arrow table with exactly the schema's columns and types."""
    rows = [t.to_row() for t in triples]
    return pa.Table.from_pylist(rows, schema=SCHEMA)


class ParquetSink:
    """Writes triples batch by batch to a temporary file renamed into place on :meth:`close`.

    A run that stops before ``close`` leaves no file at ``path``, never a partial one.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise OutputError(f"{self.path}: is a directory; give a .parquet file name")
        if not self.path.parent.exists():
            raise OutputError(f"{self.path.parent}: output directory does not exist")
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.writer = pq.ParquetWriter(str(self.tmp), SCHEMA, compression="zstd")
        except OSError as e:
            raise OutputError(f"{self.path}: cannot be written ({e})") from e
        self.rows = 0

    def write(self, triples: Iterable[Triple]) -> int:
        table = to_table(triples)
        if table.num_rows:
            self.writer.write_table(table)
            self.rows += table.num_rows
        return table.num_rows

    def close(self) -> None:
        """Finish the file (the footer is written here) and rename it into place; if that
        fails (disk full), the temporary file is removed and nothing is left half-written."""
        try:
            self.writer.close()
            os.replace(self.tmp, self.path)
        except OSError as e:
            self.tmp.unlink(missing_ok=True)
            raise OutputError(f"{self.path}: cannot be written ({e})") from e

    def abort(self) -> None:
        try:
            self.writer.close()
        except OSError:
            pass  # the run already failed; its error is the one to report
        finally:
            self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> "ParquetSink":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_parquet(triples: Iterable[Triple], path: str | Path) -> int:
    """Write triples to one Parquet file atomically; returns the number of rows."""
    with ParquetSink(path) as sink:
        sink.write(triples)
        return sink.rows
