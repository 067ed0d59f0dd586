"""Ingestion: every input kind built as a real file; bad records rejected with a reason."""
from __future__ import annotations

import datetime as dt
import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.errors import InputError
from pipeline.records import Article, Counters
from pipeline.stages.ingest import Fields, Reject, decode, parse_date, read_articles


def collect(inputs, **kw):
    items = list(read_articles([str(i) for i in inputs], **kw))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Reject)]


def test_text_file_and_directory(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("Vexa AI partners with Norrland Labs.")
    (tmp_path / "two.md").write_text("Second article.")
    (tmp_path / "notes.bin").write_bytes(b"\x00\x01")
    articles, rejects = collect([tmp_path])
    assert [a.doc_id for a in articles] == ["one", "two"]
    assert articles[0].source.endswith("one.txt")
    assert rejects == []


def test_jsonl_with_configurable_fields_and_dates(tmp_path):
    path = tmp_path / "dump.jsonl.gz"
    lines = [
        {"body": "First text.", "uid": "x1", "when": "2025-03-04T10:00:00Z", "link": "https://e.com/1"},
        {"body": "Second text.", "uid": "x2", "when": "March 5, 2025"},
        {"uid": "x3"},
        {"body": 42, "uid": "x4"},
    ]
    data = "\n".join(json.dumps(x) for x in lines) + "\n{broken\n"
    path.write_bytes(gzip.compress(data.encode()))
    articles, rejects = collect([path], fields=Fields(text="body", id="uid", date="when", url="link"))
    assert [a.doc_id for a in articles] == ["x1", "x2"]
    assert articles[0].published == dt.date(2025, 3, 4)
    assert articles[1].published == dt.date(2025, 3, 5)
    assert articles[0].source == "https://e.com/1"
    assert [r.where.rsplit(":", 1)[1] for r in rejects] == ["3", "4", "5"]
    assert "no 'body' field" in rejects[0].reason
    assert "not a string" in rejects[1].reason
    assert "not valid JSON" in rejects[2].reason


def test_csv_ragged_rows_are_rejected(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text('id,text,date\n1,"Alpha, Inc. buys Beta.",2024-01-02\n2,ragged\n3,"",2024-01-03\n')
    articles, rejects = collect([path])
    assert [a.doc_id for a in articles] == ["1"]
    assert articles[0].published == dt.date(2024, 1, 2)
    assert [r.reason for r in rejects] == ["row has 2 fields, the header has 3", "empty text"]


def test_csv_without_text_column_fails_before_reading(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text("id,body\n1,hello\n")
    with pytest.raises(InputError, match="news.csv: no 'text' column"):
        collect([path])


def test_parquet_table(tmp_path):
    path = tmp_path / "news.parquet"
    pq.write_table(pa.table({"id": ["p1", "p2"], "text": ["One.", None],
                             "date": [dt.date(2024, 2, 1), None]}), path)
    articles, rejects = collect([path])
    assert [(a.doc_id, a.published) for a in articles] == [("p1", dt.date(2024, 2, 1))]
    assert "row 2" in rejects[0].where


def test_parquet_without_text_column(tmp_path):
    path = tmp_path / "news.parquet"
    pq.write_table(pa.table({"id": ["p1"]}), path)
    with pytest.raises(InputError, match="no 'text' column"):
        collect([path])


def test_undecodable_bytes_are_replaced_and_counted(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Soci\u00e9t\u00e9 G\u00e9n\u00e9rale backs Vexa.".encode("latin-1"))
    counters = Counters()
    articles, _ = collect([path], counters=counters)
    assert "\ufffd" in articles[0].text
    assert counters.replaced_bytes == 4


def test_decode_strips_bom():
    assert decode("\ufeffText".encode("utf-8")) == "Text"


@pytest.mark.parametrize("value, expected", [
    ("2025-01-31", dt.date(2025, 1, 31)), ("31 January 2025", dt.date(2025, 1, 31)),
    (dt.datetime(2025, 1, 31, 8), dt.date(2025, 1, 31)), ("not a date", None), (None, None), ("", None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_missing_path_and_empty_directory(tmp_path):
    with pytest.raises(InputError, match="no such file or directory"):
        collect([tmp_path / "nope.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no articles"):
        collect([tmp_path / "empty"])


def test_empty_and_whitespace_files_are_rejected(tmp_path):
    (tmp_path / "e.txt").write_text("")
    (tmp_path / "w.txt").write_text("  \n\t ")
    articles, rejects = collect([tmp_path])
    assert articles == [] and [r.reason for r in rejects] == ["empty text", "empty text"]


@pytest.mark.parametrize("name, fmt", [
    ("a.txt", "txt"), ("a.md.gz", "txt"), ("a.jsonl.zst", "jsonl"), ("a.ndjson", "jsonl"), ("a.csv.gz", "csv"),
    ("a.parquet", "parquet"), ("a.HTML", "html"), ("a.htm", "html"), ("CC-MAIN-1.warc.gz", "warc"),
])
def test_detect_format_from_name(tmp_path, name, fmt):
    from pipeline.stages.ingest import FORMATS, detect_format

    assert fmt in FORMATS
    assert detect_format(tmp_path / name) == fmt


def test_unwrap_lines_joins_a_wrapped_paragraph_and_keeps_offsets():
    import textwrap

    from pipeline.stages.ingest import unwrap_lines

    body = ("Halvorsen Biologics said on Tuesday it had agreed to license its antibody platform to Kestrel "
            "Pharmaceuticals for up to $400 million, in a deal that gives the U.S. drugmaker rights to three drugs. "
            "Kestrel Pharmaceuticals will pay $40 million upfront, the companies said.")
    text = "Halvorsen licenses antibodies to Kestrel\n" + textwrap.fill(body, 72) + "\n\nReporting by A. Writer"
    flat = unwrap_lines(text)
    assert len(flat) == len(text)
    # the headline, the paragraph break and the byline stay; the paragraph is one line
    assert flat.split("\n") == ["Halvorsen licenses antibodies to Kestrel", body, "", "Reporting by A. Writer"]


@pytest.mark.parametrize("text", [
    "Headline\nA first paragraph of ordinary length.\nA second one.",  # not wrapped: short lines
    "Top movers\n- Acme Robotics rose 5% after results for the quarter\n- Beta Systems fell 3% on a profit "
    "warning for 2025\n- Gamma Holdings rose 2% in quiet trade on the exchange",  # a list
    "Headline\n" + "A paragraph written as one long line, as news sites and the corpus do. " * 4 + "\nNext one.",
])
def test_unwrap_lines_leaves_unwrapped_text_alone(text):
    from pipeline.stages.ingest import unwrap_lines

    assert unwrap_lines(text) == text


def test_decode_char_refs_maps_every_character_back():
    from pipeline.stages.ingest import decode_char_refs

    text = "AT&amp;T and O&#39;Brien &amp; Sons, R&D &foo; done"
    decoded, origin = decode_char_refs(text)
    assert decoded == "AT&T and O'Brien & Sons, R&D &foo; done"
    assert len(origin) == len(decoded)
    start = decoded.index("O'Brien & Sons")
    end = start + len("O'Brien & Sons")
    assert text[origin[start][0]:origin[end - 1][1]] == "O&#39;Brien &amp; Sons"
    assert decode_char_refs("R&D and S&P 500") == ("R&D and S&P 500", None)


@pytest.mark.parametrize("text, read", [
    ("* [Vexa AI](https://vexa.ai) raised $40 million", "*  Vexa AI                   raised $40 million"),
    ("**Halvorsen Biologics** licensed", "  Halvorsen Biologics   licensed"),
    ("[Acme](/companies/acme) and __Beta Corp__.", " Acme                   and   Beta Corp  ."),
    # not Markdown: left as written
    ("a [link] (with a space)", "a [link] (with a space)"),
    ("snake__case__word and 2**10", "snake__case__word and 2**10"),
])
def test_blank_markdown_keeps_the_words_and_the_length(text, read):
    from pipeline.stages.ingest import blank_markdown

    assert blank_markdown(text) == read and len(read) == len(text)


@pytest.mark.parametrize("text, read", [
    ("EXCLUSIVE-Mirova Bank licenses a model", "EXCLUSIVE Mirova Bank licenses a model"),
    ("RPT-UPDATE 2-Orthea signs\nbody", "RPT UPDATE 2 Orthea signs\nbody"),
    # not a slug: a drug code, a slug inside a line, a spaced dash
    ("HLV-204 is in phase 3", "HLV-204 is in phase 3"),
    ("Shares rose. UPDATE 1-Acme", "Shares rose. UPDATE 1-Acme"),
    ("BRIEF - Acme buys Beta", "BRIEF - Acme buys Beta"),
])
def test_a_wire_slug_is_set_apart_from_the_headline(text, read):
    from pipeline.stages.ingest import blank_wire_slugs

    assert blank_wire_slugs(text) == read and len(read) == len(text)


@pytest.mark.parametrize("text, read", [
    ("<p>Acme <b>Robotics</b> said.</p>", "\n  Acme    Robotics     said.\n   "),
    ("<script>var s = '<p>';</script>Body<br/>line<!-- c -->", " " * 31 + "Body\n    line" + " " * 10),
    # not markup: left as written
    ("revenue <5% and >3%", "revenue <5% and >3%"),
    ("Acme <Robotics> unit", "Acme <Robotics> unit"),
])
def test_blank_html_keeps_the_words_and_the_length(text, read):
    from pipeline.stages.ingest import blank_html

    assert blank_html(text) == read and len(read) == len(text)
