"""Ingestion of every format (built here as real files), bad inputs, language, duplicates, fuzzing."""
from __future__ import annotations

import builtins
import csv
import datetime as dt
import gzip
import io
import itertools
import json
import os
import socket
import sys
import time
import urllib.request

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.errors import InputError
from pipeline.records import Article, Counters
from pipeline.stages import ingest
from pipeline.stages.dedupe import Deduplicator
from pipeline.stages.ingest import (
    Reject,
    detect_format,
    detect_language,
    is_english,
    list_inputs,
    read_articles,
    sniff_format,
)

ENGLISH = ("Vexa AI said on Tuesday that it had agreed a multi-year partnership with Norrland Labs to "
           "design low-power chips for data centres. The deal covers joint research and a supply "
           "agreement, the companies said in a statement.")
FRENCH = ("Renault et Nissan ont annoncé mardi un nouvel accord de partenariat industriel pour développer "
          "ensemble des véhicules électriques destinés au marché européen, selon un communiqué.")
GERMAN = ("Siemens und Bosch gründen ein Gemeinschaftsunternehmen für Batteriezellen, das im nächsten "
          "Jahr in Sachsen die Produktion aufnehmen soll, teilten die Unternehmen am Dienstag mit.")


def collect(inputs, **kw):
    items = list(read_articles([str(i) for i in inputs], **kw))
    for item in items:
        assert isinstance(item, (Article, Reject))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Reject)]


def jsonl(n: int, start: int = 0) -> bytes:
    return "".join(json.dumps({"id": f"d{i}", "text": f"Article number {i}."}) + "\n"
                   for i in range(start, start + n)).encode()


def page(title: str, body: str, date: str | None = "2025-03-04", canonical: str | None = None) -> str:
    meta = f'<meta property="article:published_time" content="{date}">' if date else ""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paras = "".join(f"<p>{s}</p>" for s in body.split("\n"))
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>{meta}{link}</head>'
            f'<body><nav><a href="/">Home</a> | <a href="/about">About us</a></nav>'
            f"<article><h1>{title}</h1>{paras}</article>"
            f"<footer>Copyright 2025 Example Media. All rights reserved.</footer></body></html>")


# --------------------------------------------------------------------------- formats

def test_jsonl_zstd_multi_frame(tmp_path):
    path = tmp_path / "dump.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(jsonl(3)) + zstandard.ZstdCompressor().compress(jsonl(2, 3)))
    articles, rejects = collect([path])
    assert [a.doc_id for a in articles] == ["d0", "d1", "d2", "d3", "d4"]
    assert rejects == []


def test_compression_and_format_sniffed_when_the_name_says_nothing(tmp_path):
    (tmp_path / "dump").write_bytes(gzip.compress(jsonl(2)))
    (tmp_path / "crawl.gz").write_bytes(gzip.compress(page("T", ENGLISH).encode()))
    (tmp_path / "other.zst").write_bytes(zstandard.ZstdCompressor().compress(jsonl(1, 7)))
    (tmp_path / "script.py").write_text("{'not': 'an article'}")  # a known non-article suffix is left out
    assert detect_format(tmp_path / "dump") == "jsonl"
    assert detect_format(tmp_path / "crawl.gz") == "html"
    pairs = list_inputs([tmp_path])
    assert [(p.name, f) for p, f in pairs] == [("crawl.gz", "html"), ("dump", "jsonl"), ("other.zst", "jsonl")]
    articles, rejects = collect([tmp_path])
    assert [a.doc_id for a in articles] == ["crawl", "d0", "d1", "d7"] and rejects == []


@pytest.mark.parametrize("head, fmt", [
    (b"WARC/1.1\r\nWARC-Type: warcinfo", "warc"), (b'  {"text": 1}', "jsonl"),
    (b"<!doctype html><html>", "html"), (b"\xef\xbb\xbf<html lang=en>", "html"),
    (b"<?xml version='1.0'?><html xmlns='x'>", "html"), (b"PAR1\x15\x04", "parquet"),
    (b"plain words", ""), (b"", ""),
])
def test_sniff_format(head, fmt):
    assert sniff_format(head) == fmt


def test_format_override_and_unknown_names(tmp_path):
    path = tmp_path / "article.data"
    path.write_text("Plain words, no markup.")
    with pytest.raises(InputError, match="article.data: unknown input format"):
        collect([path])
    articles, _ = collect([path], fmt="txt")
    assert articles[0].text == "Plain words, no markup."
    with pytest.raises(InputError, match="format 'xml' is not one of auto, txt, jsonl, csv, parquet, html, warc"):
        collect([path], fmt="xml")


def test_csv_gzip_with_quoted_newlines(tmp_path):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "text", "date", "url"])
    w.writerow(["c1", "Line one.\nLine two, with a comma.", "2024-05-06", "https://e.com/c1"])
    w.writerow(["c2", 'He said "yes".', "", ""])
    path = tmp_path / "news.csv.gz"
    path.write_bytes(gzip.compress(buf.getvalue().encode()))
    articles, rejects = collect([path])
    assert [a.doc_id for a in articles] == ["c1", "c2"] and rejects == []
    assert articles[0].text == "Line one.\nLine two, with a comma."
    assert articles[0].published == dt.date(2024, 5, 6) and articles[0].url == "https://e.com/c1"
    assert articles[1].url is None and articles[1].source.endswith("news.csv.gz")


def test_parquet_with_custom_fields(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"body": ["Alpha buys Beta.", "Gamma."], "key": ["k1", "k2"],
                             "ts": [dt.datetime(2024, 1, 2, 3), None]}), path)
    articles, _ = collect([path], fields=ingest.Fields(text="body", id="key", date="ts"))
    assert [(a.doc_id, a.published) for a in articles] == [("k1", dt.date(2024, 1, 2)), ("k2", None)]


def test_corrupt_parquet_is_an_input_error(tmp_path):
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InputError, match="bad.parquet: not a readable Parquet file"):
        collect([path])


def test_html_page_main_text_title_date_url(tmp_path):
    path = tmp_path / "story.html"
    path.write_text(page("Vexa AI and Norrland Labs team up", ENGLISH + "\n" + ENGLISH.upper(),
                         canonical="https://news.example.com/vexa"))
    (tmp_path / "plain.htm").write_text(page("No metadata here", ENGLISH, date=None))
    articles, rejects = collect([path, tmp_path / "plain.htm"])
    a, b = articles
    assert rejects == []
    assert a.doc_id == "story" and a.text.startswith("Vexa AI and Norrland Labs team up\n")
    assert "Vexa AI said on Tuesday" in a.text
    assert "About us" not in a.text and "All rights reserved" not in a.text
    assert a.published == dt.date(2025, 3, 4)
    assert a.url == a.source == "https://news.example.com/vexa"
    assert b.published is None and b.url is None and b.source.endswith("plain.htm")


def test_html_without_main_text_and_latin1_charset(tmp_path):
    (tmp_path / "empty.html").write_text("<html><head><title>x</title></head><body></body></html>")
    (tmp_path / "latin.html").write_bytes(
        page("Société Générale", "Société Générale backs Vexa in a deal worth millions. " * 3)
        .replace('charset="utf-8"', 'charset="iso-8859-1"').encode("latin-1"))
    articles, rejects = collect([tmp_path / "empty.html", tmp_path / "latin.html"])
    assert rejects == [Reject(str(tmp_path / "empty.html"), "no main text found in the HTML page")]
    assert "Société Générale backs Vexa" in articles[0].text


def test_html_parsing_never_fetches_or_reads_files(tmp_path, monkeypatch):
    import trafilatura  # noqa: F401  (imports happen before the traps)

    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-CONTENT")
    html = (f'<!DOCTYPE html SYSTEM "file://{secret}"><html><head><title>Trap</title>'
            f'<link rel="canonical" href="file://{secret}"><base href="http://127.0.0.1:9/">'
            f'<script src="http://127.0.0.1:9/x.js"></script></head><body><article>'
            f'<p>{ENGLISH}</p><iframe src="file://{secret}"></iframe><img src="http://127.0.0.1:9/i.png">'
            f'<p>&xxe; <a href="file://{secret}">link</a></p></article></body></html>')
    path = tmp_path / "trap.html"
    path.write_text(html)
    real_open = builtins.open

    def guarded_open(file, *a, **kw):
        if str(file) == str(secret):
            raise AssertionError("the HTML parser opened a local file")
        return real_open(file, *a, **kw)

    def no_network(*a, **kw):
        raise AssertionError("the HTML parser used the network")

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    articles, rejects = collect([path])
    assert rejects == [] and "TOPSECRET" not in articles[0].text
    assert articles[0].url is None  # a file:// canonical link is not a URL we keep
    # a page that is nothing but a URL is text, not something to download
    (tmp_path / "url.html").write_text("https://example.com/article")
    collect([tmp_path / "url.html"], fmt="html")


def write_warc(path, records, gz=True):
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for kind, uri, status, ctype, body, date in records:
            headers = {"WARC-Date": date} if date else {}
            if kind == "response":
                http = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
                rec = writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=http,
                                                warc_headers_dict=headers)
            else:
                rec = writer.create_warc_record(uri, kind, payload=io.BytesIO(body), warc_content_type=ctype,
                                                warc_headers_dict=headers)
            writer.write_record(rec)


WARC_RECORDS = [
    ("request", "https://news.example.com/a", None, "application/http; msgtype=request", b"GET /a HTTP/1.1\r\n\r\n",
     "2025-06-01T00:00:00Z"),
    ("response", "https://news.example.com/a", "200 OK", "text/html; charset=utf-8",
     page("Vexa deal", ENGLISH, date="2025-03-04", canonical="https://elsewhere.example.com/x").encode(),
     "2025-06-01T10:00:00Z"),
    ("response", "https://news.example.com/logo.png", "200 OK", "image/png", b"\x89PNG\r\n\x1a\n\x00\x00",
     "2025-06-01T10:00:01Z"),
    ("response", "https://news.example.com/old", "301 Moved Permanently", "text/html", b"<html></html>",
     "2025-06-01T10:00:02Z"),
    ("response", "https://news.example.com/b", "200 OK", "text/html",
     page("Norrland news", ENGLISH, date=None).encode(), "2025-06-02T10:00:00Z"),
    ("resource", "https://news.example.com/c", None, "text/html",
     page("Resource page", ENGLISH, date=None).encode(), "2025-06-03T10:00:00Z"),
]


@pytest.mark.parametrize("name, gz", [("crawl.warc.gz", True), ("crawl.warc", False), ("CC-MAIN-0001", True)])
def test_warc_html_responses_become_articles(tmp_path, name, gz):
    path = tmp_path / name
    write_warc(path, WARC_RECORDS, gz=gz)
    counters = Counters()
    articles, rejects = collect([path], counters=counters)
    assert rejects == []
    assert [(a.url, a.source, a.published) for a in articles] == [
        ("https://news.example.com/a", "https://news.example.com/a", dt.date(2025, 3, 4)),  # the page's date
        ("https://news.example.com/b", "https://news.example.com/b", dt.date(2025, 6, 2)),  # the WARC-Date
        ("https://news.example.com/c", "https://news.example.com/c", dt.date(2025, 6, 3)),
    ]
    assert articles[0].text.startswith("Vexa deal\n") and "Vexa AI said on Tuesday" in articles[0].text
    assert len({a.doc_id for a in articles}) == 3
    assert counters.extra["warc_skipped"] == 4  # warcinfo, request, image, redirect


def test_warc_zstd_and_truncated_warc(tmp_path):
    plain = tmp_path / "c.warc"
    write_warc(plain, WARC_RECORDS, gz=False)
    data = plain.read_bytes()
    (tmp_path / "c.warc.zst").write_bytes(zstandard.ZstdCompressor().compress(data))
    articles, _ = collect([tmp_path / "c.warc.zst"])
    assert len(articles) == 3
    cut = tmp_path / "cut.warc"
    cut.write_bytes(data[: data.index(b"https://news.example.com/b") + 200])
    articles, rejects = collect([cut])
    assert len(articles) == 1
    assert rejects and rejects[-1].where == str(cut) and "WARC" in rejects[-1].reason


# --------------------------------------------------------------------------- bad input

def test_binary_text_files_are_rejected(tmp_path):
    (tmp_path / "nul.txt").write_bytes(b"PK\x03\x04\x00\x00 zip header")
    (tmp_path / "ctl.txt").write_bytes(bytes(range(1, 32)) * 20 + b"words")
    articles, rejects = collect([tmp_path / "nul.txt", tmp_path / "ctl.txt"])
    assert articles == []
    assert [r.where.rsplit("/", 1)[1] for r in rejects] == ["nul.txt", "ctl.txt"]
    assert rejects[0].reason == "binary file (NUL bytes)"
    assert rejects[1].reason.startswith("binary file (") and "control characters" in rejects[1].reason


def test_mixed_encodings_in_jsonl_are_replaced_and_counted(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b'{"id": "u", "text": "Soci\xc3\xa9t\xc3\xa9 G\xc3\xa9n\xc3\xa9rale"}\n'
                     b'{"id": "l", "text": "Soci\xe9t\xe9 G\xe9n\xe9rale"}\n')
    counters = Counters()
    articles, rejects = collect([path], counters=counters)
    assert [a.text for a in articles] == ["Société Générale", "Soci\ufffdt\ufffd G\ufffdn\ufffdrale"]
    assert counters.replaced_bytes == 4 and rejects == []


def test_truncated_gzip_keeps_what_was_read_then_rejects(tmp_path):
    data = gzip.compress(jsonl(2000))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    articles, rejects = collect([path])
    assert 100 < len(articles) < 2000
    assert [a.doc_id for a in articles] == [f"d{i}" for i in range(len(articles))]
    assert rejects == [Reject(str(path), "truncated gzip stream")]
    assert f"{path}: truncated gzip stream" == f"{rejects[0].where}: {rejects[0].reason}"


def test_gzip_truncated_before_any_record_is_an_input_error(tmp_path):
    path = tmp_path / "tiny.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl(10))[:12])
    with pytest.raises(InputError, match="tiny.jsonl.gz: truncated gzip stream"):
        collect([path])


def test_corrupt_gzip_crc(tmp_path):
    data = bytearray(gzip.compress(jsonl(500)))
    data[-8] ^= 0xFF  # CRC32 of the member: noticed only at the end
    path = tmp_path / "crc.jsonl.gz"
    path.write_bytes(bytes(data))
    articles, rejects = collect([path])
    assert len(articles) == 500 and rejects[-1].where == str(path)
    assert rejects[-1].reason.startswith("corrupt gzip stream (CRC check failed")
    small = tmp_path / "small.jsonl.gz"
    small.write_bytes(gzip.compress(jsonl(3))[:-8] + b"\x00" * 8)  # too small: broken before anything is read
    with pytest.raises(InputError, match="small.jsonl.gz: corrupt gzip stream"):
        collect([small])


def test_truncated_zstd(tmp_path):
    rng_text = "".join(json.dumps({"id": f"z{i}", "text": f"{i * 7919 % 104729} words {i}"}) + "\n"
                       for i in range(40000)).encode()
    data = zstandard.ZstdCompressor().compress(rng_text)
    path = tmp_path / "cut.jsonl.zst"
    path.write_bytes(data[: len(data) * 3 // 4])
    articles, rejects = collect([path])
    assert len(articles) > 1000 and rejects == [Reject(str(path), "truncated zstd stream")]


@pytest.mark.parametrize("suffix, compress", [
    (".jsonl.gz", gzip.compress), (".txt.gz", gzip.compress), (".jsonl.zst", zstandard.ZstdCompressor().compress),
])
def test_decompression_bomb_is_stopped(tmp_path, monkeypatch, suffix, compress):
    monkeypatch.setattr(ingest, "MAX_DECOMPRESSED_BYTES", 1 << 20)
    line = json.dumps({"text": "x" * 1000}).encode() + b"\n"
    path = tmp_path / f"bomb{suffix}"
    path.write_bytes(compress(line * 20000))  # 20 MB from ~60 kB
    assert path.stat().st_size < 200_000
    try:
        articles, rejects = collect([path])
    except InputError as e:
        assert "bomb" in str(e) and str(path) in str(e)
        return
    assert len(articles) < 1100
    assert rejects[-1].where == str(path) and "MAX_DECOMPRESSED_BYTES" in rejects[-1].reason


def test_permission_denied_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "locked.jsonl"
    path.write_bytes(jsonl(1))
    real_open = builtins.open

    def fake_open(file, *a, **kw):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *a, **kw)

    monkeypatch.setattr(builtins, "open", fake_open)
    with pytest.raises(InputError, match=r"locked.jsonl: cannot be read \(permission denied\)"):
        list_inputs([path])
    with pytest.raises(InputError, match=r"locked.jsonl: cannot be read \(permission denied\)"):
        collect([tmp_path])


def test_jsonl_bad_lines_each_named(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_RECORD_BYTES", 1000)
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "ok"}\n[1, 2]\n{"txt": "wrong field"}\n{"text": null}\n{"text": ["a"]}\n'
                     b'{"text": "' + b"y" * 2000 + b'"}\n{"text": "after the long line"}\n' + b"[" * 100000 + b"\n"
                     + b'{"text": 1' + b"0" * 5000 + b"}\n")
    articles, rejects = collect([path])
    assert [a.text for a in articles] == ["ok", "after the long line"]
    got = [(r.where.rsplit(":", 1)[1], r.reason) for r in rejects]
    assert got[:5] == [
        ("2", "record is not an object"),
        ("3", "no 'text' field (set the text field name with --text-field)"),
        ("4", "no 'text' field (set the text field name with --text-field)"),
        ("5", "field 'text' is not a string"),
        ("6", "line longer than 1,000 bytes"),
    ]
    assert [g[0] for g in got[5:]] == ["8", "9"]


def test_empty_inputs_are_named(tmp_path):
    for name in ("e.jsonl", "e.csv", "e.warc"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "blank.jsonl").write_text("\n  \n")
    _, rejects = collect(sorted(tmp_path.iterdir()))
    assert [(r.where.rsplit("/", 1)[1], r.reason) for r in rejects] == [
        ("blank.jsonl", "empty file"), ("e.csv", "empty file"), ("e.jsonl", "empty file"), ("e.warc", "empty file")]


def test_fifty_megabyte_article_is_read_in_linear_time(tmp_path):
    sentence = b"Vexa AI partners with Norrland Labs on chips. "
    path = tmp_path / "huge.txt"
    path.write_bytes(sentence * (50 * 1024 * 1024 // len(sentence)))
    line = tmp_path / "huge.jsonl"
    line.write_bytes(b'{"id": "h", "text": "' + sentence * (20 * 1024 * 1024 // len(sentence)) + b'"}\n')
    started = time.perf_counter()
    articles, rejects = collect([path, line])
    assert time.perf_counter() - started < 10
    assert rejects == [] and len(articles[0].text) > 50_000_000 - 100 and len(articles[1].text) > 20_000_000 - 100


class _EndlessJsonl(io.RawIOBase):
    """A stream of ~1 GB of JSON Lines that counts how much of it was read."""

    def __init__(self):
        self.read_bytes = 0
        self._lines = (json.dumps({"id": f"s{i}", "text": f"Streamed {i}."}).encode() + b"\n" for i in itertools.count())
        self._buf = b""

    def readable(self):
        return True

    def readinto(self, b):
        while len(self._buf) < len(b):
            self._buf += next(self._lines)
        n = len(b)
        b[:n], self._buf = self._buf[:n], self._buf[n:]
        self.read_bytes += n
        if self.read_bytes > 1 << 30:
            raise AssertionError("read far more than needed")
        return n


def test_jsonl_is_streamed_not_slurped(monkeypatch):
    raw = _EndlessJsonl()
    fake_stdin = io.TextIOWrapper(io.BufferedReader(raw))
    monkeypatch.setattr(sys, "stdin", fake_stdin)
    first = list(itertools.islice(read_articles(["-"]), 5))
    assert [a.doc_id for a in first] == ["s0", "s1", "s2", "s3", "s4"]
    assert raw.read_bytes < 1 << 20


def test_stdin_gzip_html(monkeypatch):
    data = gzip.compress(page("Stdin page", ENGLISH).encode())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    articles, _ = collect(["-"])
    assert articles[0].doc_id == "stdin" and "Vexa AI said" in articles[0].text


# --------------------------------------------------------------------------- language

def test_language_detection_is_deterministic_and_offline():
    assert is_english(ENGLISH)
    assert not is_english(FRENCH) and not is_english(GERMAN)
    assert is_english("Société Générale backs Vexa.")  # too short to judge: kept
    assert [detect_language(FRENCH) for _ in range(3)] == [detect_language(FRENCH)] * 3
    assert detect_language(GERMAN)[0] == "de"
    assert is_english((ENGLISH + " ") * 10 + FRENCH * 50)  # only the first ~2000 characters count


def test_english_only_rejects_other_languages(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "text": t}) for i, t in
                              [("en", ENGLISH), ("fr", FRENCH), ("de", GERMAN)]) + "\n")
    articles, rejects = collect([path], english_only=True)
    assert [a.doc_id for a in articles] == ["en"]
    assert [(r.where.rsplit(":", 1)[1], r.reason) for r in rejects] == [
        ("2", "not English (detected 'fr')"), ("3", "not English (detected 'de')")]
    articles, rejects = collect([path])
    assert len(articles) == 3


# --------------------------------------------------------------------------- duplicates

WIRE = ("NEW YORK (Reuters) - Vexa AI Inc said on Tuesday it would buy chip designer Norrland Labs for "
        "$1.2 billion in cash, its biggest deal yet, as it races to secure supply of custom processors. "
        "The acquisition, approved by both boards, is expected to close in the third quarter subject to "
        "regulatory approval. Norrland shareholders will receive $14.50 per share, a premium of 32 percent "
        "to the closing price on Monday. Vexa said the deal would add to earnings within two years and that "
        "Norrland's 400 engineers would join its hardware division in Stockholm. Analysts said the price "
        "was steep but strategically sound given the shortage of advanced chips across the industry.")


def test_deduplicator_exact_near_and_distinct():
    d = Deduplicator()
    assert d.check(Article("r1", WIRE)) is None
    assert d.check(Article("r2", "  " + WIRE.upper().replace(",", " ,") + "\n")) == "r1"
    assert d.last_kind == "exact"
    syndicated = WIRE.replace("NEW YORK (Reuters) -", "Published by Daily Herald:").replace(
        "Analysts said", "Some analysts said")
    assert d.check(Article("r3", syndicated)) == "r1" and d.last_kind == "near"
    assert d.check(Article("r4", ENGLISH)) is None
    rewritten = " ".join(reversed(WIRE.split()))
    assert d.check(Article("r5", rewritten)) is None
    assert len(d) == 3  # duplicates are not stored


def test_deduplicator_is_fast_and_stores_signatures_only():
    d = Deduplicator()
    words = WIRE.split()
    started = time.perf_counter()
    for i in range(1000):
        text = " ".join(f"{w}{(i * 31 + j) % 997}" if j % 3 == 0 else w for j, w in enumerate(words))
        d.check(Article(f"a{i}", text))
    assert time.perf_counter() - started < 10
    assert d._sigs.itemsize * d.num_perm == 512 and not hasattr(d, "_texts")


def test_read_articles_dedupe(tmp_path):
    path = tmp_path / "wire.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "text": t}) for i, t in
                              [("a", WIRE), ("b", ENGLISH), ("c", WIRE + " (Reporting by A. Writer)"),
                               ("d", WIRE)]) + "\n")
    counters = Counters()
    articles, rejects = collect([path], dedupe=True, counters=counters)
    assert [a.doc_id for a in articles] == ["a", "b"]
    assert [(r.where.rsplit(":", 1)[1], r.reason) for r in rejects] == [
        ("3", "near-duplicate of 'a'"), ("4", "duplicate of 'a'")]
    assert counters.extra["duplicates"] == 2


# --------------------------------------------------------------------------- fuzzing

SUFFIXES = [".txt", ".jsonl", ".csv", ".html", ".warc", ".parquet", ".jsonl.gz", ".csv.zst", "", ".gz"]
#: INGEST_FUZZ_EXAMPLES=2000 for a longer fuzzing run.
FUZZ_EXAMPLES = int(os.environ.get("INGEST_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check_all(path, **kw):
    try:
        items = list(read_articles([str(path)], **kw))
    except InputError as e:
        assert str(path) in str(e) or "format" in str(e)
        return
    for item in items:
        assert isinstance(item, (Article, Reject)), item
        if isinstance(item, Reject):
            assert item.where and item.reason and "\n" not in item.reason
        else:
            assert item.text.strip()


def _compress(data: bytes, suffix: str) -> bytes:
    if suffix.endswith(".gz"):
        return gzip.compress(data)
    if suffix.endswith(".zst"):
        return zstandard.ZstdCompressor().compress(data)
    return data


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES), compressed=st.booleans())
def test_fuzz_random_bytes(tmp_path_factory, data, suffix, compressed):
    path = tmp_path_factory.mktemp("fz") / f"input{suffix}"
    path.write_bytes(_compress(data, suffix) if compressed else data)
    check_all(path)
    check_all(path, fmt="txt")


def _mutate(data: bytes, ops) -> bytes:
    buf = bytearray(data)
    for kind, pos, byte in ops:
        if not buf:
            break
        pos %= len(buf)
        if kind == 0:
            buf[pos] = byte
        elif kind == 1:
            buf.insert(pos, byte)
        elif kind == 2:
            del buf[pos]
        else:
            del buf[pos:]
    return bytes(buf)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8)
records = st.lists(st.dictionaries(st.sampled_from(["text", "id", "date", "url", "body"]), json_values, max_size=5),
                   max_size=8)
mutations = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10**6), st.integers(0, 255)), max_size=6)


@FUZZ
@given(recs=records, ops=mutations, suffix=st.sampled_from([".jsonl", ".jsonl.gz", ".jsonl.zst"]))
def test_fuzz_mutated_jsonl(tmp_path_factory, recs, ops, suffix):
    data = "".join(json.dumps(r) + "\n" for r in recs).encode()
    path = tmp_path_factory.mktemp("fj") / f"input{suffix}"
    path.write_bytes(_mutate(_compress(data, suffix), ops) if ops and ops[0][0] == 0 else
                     _compress(_mutate(data, ops), suffix))
    check_all(path, english_only=True, dedupe=True)


@FUZZ
@given(rows=st.lists(st.lists(st.text(max_size=20), min_size=0, max_size=5), max_size=8), ops=mutations,
       header=st.sampled_from([["id", "text", "date"], ["text"], ["id", "body"]]))
def test_fuzz_mutated_csv(tmp_path_factory, rows, ops, header):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    path = tmp_path_factory.mktemp("fc") / "input.csv"
    path.write_bytes(_mutate(buf.getvalue().encode(), ops))
    check_all(path)


@settings(max_examples=max(FUZZ_EXAMPLES // 2, 1), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=mutations, gz=st.booleans())
def test_fuzz_mutated_warc(tmp_path_factory, ops, gz):
    path = tmp_path_factory.mktemp("fw") / "input.warc"
    write_warc(path, WARC_RECORDS[:3], gz=gz)
    path.write_bytes(_mutate(path.read_bytes(), ops))
    check_all(path)
