"""Parquet output: exact schema, atomic writes, lossless round trip."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import OutputError
from pipeline.records import RELATIONS, Triple
from pipeline.stages.write import SCHEMA, ParquetSink, write_parquet

EXPECTED = {
    "doc_id": pa.string(), "head": pa.string(), "relation": pa.string(), "tail": pa.string(),
    "confidence": pa.float32(), "evidence": pa.string(),
    "head_span": pa.struct([("start", pa.int32()), ("end", pa.int32())]),
    "tail_span": pa.struct([("start", pa.int32()), ("end", pa.int32())]),
    "published": pa.date32(), "source": pa.string(), "model_version": pa.string(),
}


def triple(**kw):
    base = dict(doc_id="d1", head="AMD", relation="supplies", tail="OpenAI", confidence=0.91,
                evidence="AMD supplies OpenAI.", head_span=(0, 3), tail_span=(13, 19),
                published=dt.date(2025, 1, 2), source="x.txt", model_version="v1")
    base.update(kw)
    return Triple(**base)


def test_schema_has_exactly_the_contract_columns_and_types(tmp_path):
    path = tmp_path / "out.parquet"
    write_parquet([triple()], path)
    schema = pq.read_schema(path)
    assert schema.names == list(EXPECTED)
    for name, typ in EXPECTED.items():
        assert schema.field(name).type == typ, name
    assert SCHEMA.names == list(EXPECTED)


def test_failed_write_leaves_no_file(tmp_path):
    path = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError):
        with ParquetSink(path) as sink:
            sink.write([triple()])
            raise RuntimeError("boom")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_disk_full_while_finishing_the_file_removes_the_temporary_file(tmp_path, monkeypatch):
    import errno

    path = tmp_path / "out.parquet"
    sink = ParquetSink(path)
    sink.write([triple()])
    real_close = sink.writer.close

    def full_disk():
        real_close()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sink.writer, "close", full_disk)
    with pytest.raises(OutputError, match="out.parquet: cannot be written .*No space left"):
        sink.close()
    assert list(tmp_path.iterdir()) == []


def test_output_directory_must_exist(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        ParquetSink(tmp_path / "missing" / "out.parquet")


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
triples = st.builds(
    triple, doc_id=text, head=text, tail=text, relation=st.sampled_from(RELATIONS), evidence=text,
    confidence=st.floats(0, 1, width=32),
    head_span=st.tuples(st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1)),
    published=st.one_of(st.none(), st.dates(dt.date(1970, 1, 1), dt.date(2100, 1, 1))),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(triples, max_size=20))
def test_round_trip_keeps_every_record(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("rt") / "out.parquet"
    assert write_parquet(rows, path) == len(rows)
    back = pq.read_table(path).to_pylist()
    assert back == [t.to_row() for t in rows]
