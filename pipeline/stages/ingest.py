"""Ingestion: files, directories, tables and stdin in; :class:`Article` records out.

Supported inputs: a ``.txt``/``.md`` file (one article; doc_id = file stem, source =
path), a directory (every supported file under it, recursively, in sorted order),
JSON Lines (``.jsonl``/``.ndjson``, optionally ``.gz``), CSV, Parquet, and ``-`` for
stdin (JSON Lines if it starts with ``{``, else one plain-text article).

Per-record problems are yielded as :class:`Reject` records and the stream goes on;
an input that cannot be read at all raises :class:`~pipeline.errors.InputError`
before anything is yielded for it.
"""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError
from pipeline.records import Article, Counters

TEXT_SUFFIXES = {".txt", ".md"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
TABLE_SUFFIXES = {".csv", ".parquet"}
FORMATS = ("auto", "txt", "jsonl", "csv", "parquet")


@dataclass(frozen=True)
class Fields:
    """Which fields of a JSON Lines, CSV or Parquet record hold what."""

    text: str = "text"
    id: str = "id"
    date: str = "date"
    url: str = "url"


@dataclass(frozen=True)
class Reject:
    """A record that was not processed: where it is and why."""

    where: str
    reason: str


def decode(data: bytes, counters: Counters | None = None) -> str:
    """UTF-8 text from bytes; undecodable bytes become U+FFFD and are counted."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        if counters is not None:
            before = data.decode("utf-8", errors="ignore").count("\ufffd")
            counters.replaced_bytes += text.count("\ufffd") - before
        return text


def parse_date(value) -> dt.date | None:
    """A date from an ISO string, a common written form, a datetime or a timestamp; else None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)):
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc).date()
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    try:
        from dateutil import parser

        return parser.parse(text, fuzzy=False).date()
    except (ValueError, OverflowError, TypeError):
        return None


def detect_format(path: Path) -> str:
    """The input format of a file, from its name."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in TEXT_SUFFIXES:
        return "txt"
    if last in JSONL_SUFFIXES:
        return "jsonl"
    if last == ".csv":
        return "csv"
    if last == ".parquet":
        return "parquet"
    return ""


def list_inputs(inputs: Iterable[str | Path], fmt: str = "auto") -> list[tuple[Path | None, str]]:
    """Expand inputs into ``(file, format)`` pairs; ``(None, fmt)`` stands for stdin.

    Raises :class:`InputError` for a path that does not exist, a directory without
    articles or a file of unknown format, before anything is read.
    """
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    out: list[tuple[Path | None, str]] = []
    for item in inputs:
        if str(item) == "-":
            out.append((None, fmt))
            continue
        path = Path(item)
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
        if path.is_dir():
            files = [p for p in sorted(path.rglob("*")) if p.is_file() and not p.name.startswith(".")]
            found = [(p, fmt if fmt != "auto" else detect_format(p)) for p in files]
            found = [(p, f) for p, f in found if f]
            if not found:
                raise InputError(f"{path}: directory holds no articles (.txt, .md, .jsonl, .csv, .parquet)")
            out.extend(found)
            continue
        f = fmt if fmt != "auto" else detect_format(path)
        if not f:
            raise InputError(f"{path}: unknown input format; name it .txt, .jsonl, .csv or .parquet, or pass --format")
        out.append((path, f))
    return out


def _open_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
        if path.suffix.lower() == ".gz":
            data = gzip.decompress(data)
        return data
    except PermissionError as e:
        raise InputError(f"{path}: cannot be read (permission denied)") from e
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise InputError(f"{path}: cannot be read ({e})") from e


def _article(rec: dict, where: str, default_id: str, source: str, fields: Fields) -> Article | Reject:
    if not isinstance(rec, dict):
        return Reject(where, "record is not an object")
    text = rec.get(fields.text)
    if text is None:
        return Reject(where, f"no {fields.text!r} field (set the text field name with --text-field)")
    if not isinstance(text, str):
        return Reject(where, f"field {fields.text!r} is not a string")
    if not text.strip():
        return Reject(where, "empty text")
    doc_id = rec.get(fields.id)
    doc_id = default_id if doc_id is None or str(doc_id) == "" else str(doc_id)
    url = rec.get(fields.url)
    return Article(
        doc_id=doc_id,
        text=text,
        published=parse_date(rec.get(fields.date)),
        source=str(url) if url else source,
        url=str(url) if url else None,
    )


def _read_jsonl(data: str, name: str, source: str, fields: Fields) -> Iterator[Article | Reject]:
    for lineno, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            yield Reject(where, f"not valid JSON ({e.msg})")
            continue
        yield _article(rec, where, f"{Path(name).stem}:{lineno}", source, fields)


def _read_csv(data: str, name: str, source: str, fields: Fields) -> Iterator[Article | Reject]:
    reader = csv.reader(io.StringIO(data, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as e:
        raise InputError(f"{name}: not a readable CSV file ({e})") from e
    if fields.text not in header:
        raise InputError(f"{name}: no {fields.text!r} column (columns: {', '.join(header)}); set it with --text-field")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield Reject(f"{name}:{reader.line_num}", f"malformed CSV ({e})")
            continue
        where = f"{name}:{reader.line_num}"
        if len(row) != len(header):
            yield Reject(where, f"row has {len(row)} fields, the header has {len(header)}")
            continue
        yield _article(dict(zip(header, row)), where, f"{Path(name).stem}:{reader.line_num - 1}", source, fields)


def _read_parquet(path: Path, source: str, fields: Fields) -> Iterator[Article | Reject]:
    import pyarrow.parquet as pq

    try:
        pfile = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises several types for a corrupt file
        raise InputError(f"{path}: not a readable Parquet file ({e})") from e
    names = pfile.schema_arrow.names
    if fields.text not in names:
        raise InputError(f"{path}: no {fields.text!r} column (columns: {', '.join(names)}); set it with --text-field")
    wanted = [c for c in (fields.text, fields.id, fields.date, fields.url) if c in names]
    row = 0
    for batch in pfile.iter_batches(columns=wanted, batch_size=1024):
        for rec in batch.to_pylist():
            row += 1
            yield _article(rec, f"{path}:row {row}", f"{path.stem}:{row}", source, fields)


def read_file(path: Path | None, fmt: str, fields: Fields = Fields(),
              counters: Counters | None = None) -> Iterator[Article | Reject]:
    """Articles and rejects from one input (``None`` = stdin)."""
    if path is None:
        data = decode(sys.stdin.buffer.read(), counters)
        if fmt == "auto":
            fmt = "jsonl" if data.lstrip().startswith("{") else "txt"
        name = source = "<stdin>"
        if fmt == "txt":
            if data.strip():
                yield Article(doc_id="stdin", text=data, source=source)
            else:
                yield Reject(name, "empty text")
            return
    else:
        name = source = str(path)
        if fmt == "parquet":
            yield from _read_parquet(path, source, fields)
            return
        data = decode(_open_bytes(path), counters)
        if fmt == "txt":
            if data.strip():
                yield Article(doc_id=path.name.split(".")[0] or path.stem, text=data, source=source)
            else:
                yield Reject(name, "empty text")
            return
    if fmt == "jsonl":
        yield from _read_jsonl(data, name, source, fields)
    elif fmt == "csv":
        yield from _read_csv(data, name, source, fields)
    else:
        raise InputError(f"{name}: format {fmt!r} cannot be read from stdin")


def read_articles(inputs: Iterable[str | Path], fmt: str = "auto", fields: Fields = Fields(),
                  counters: Counters | None = None) -> Iterator[Article | Reject]:
    """Every article (or reject) of every input, in order."""
    for path, f in list_inputs(inputs, fmt):
        yield from read_file(path, f, fields, counters)
