"""Ingestion: files, directories, tables, web pages, crawls and stdin in; :class:`Article` records out.

Supported inputs:

* a ``.txt``/``.md`` file: one article (doc_id = file stem, source = path);
* JSON Lines (``.jsonl``/``.ndjson``), one article per line;
* CSV (one article per row) and Parquet (one per row);
* an HTML page (``.html``/``.htm``): the main text, extracted with trafilatura, with the
  page's title, date and canonical URL when it gives them;
* a WARC crawl (``.warc``): every HTML response becomes an article with the record's
  target URI as url/source and the page's date (else the record's WARC-Date) as
  ``published``; other records are skipped and counted;
* a directory: every supported file under it, recursively, in sorted order;
* ``-`` for stdin.

Any of these (but Parquet) may be gzip- or zstd-compressed (``.gz``, ``.zst``):
compression is recognised by its magic bytes, and the format by the file name, or by
sniffing the (decompressed) content where the name says nothing (WARC header, a
leading ``{``, ``<html``, Parquet magic). ``fmt`` overrides the detection.

Everything is read as a stream: a 1 GB JSON Lines file is never held in memory, and
decompression stops with an error past :data:`MAX_DECOMPRESSED_BYTES`. Parsing HTML
never reads local files or fetches URLs.

Per-record problems are yielded as :class:`Reject` records and the stream goes on;
an input that cannot be read at all raises :class:`~pipeline.errors.InputError`
before anything is yielded for it. A compressed stream that breaks in the middle
(truncated or corrupt) keeps what was read and ends with a Reject naming the file.

Long articles: ``max_chars`` (keyword of :func:`read_articles`; the batch runner and
the CLI use :data:`MAX_ARTICLE_CHARS`) caps each article's text at that many characters,
cut at a line break, sentence end or space, with a one-line :class:`TextCappedWarning`
naming the record; a capped plain-text file is not read past the cap (bounded memory).

Optional screening (keyword arguments of :func:`read_articles`): ``english_only``
rejects articles whose language is confidently not English, ``dedupe`` rejects exact
and near duplicates of earlier articles (see :mod:`pipeline.stages.dedupe`).
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import html
import io
import json
import os
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError
from pipeline.records import Article, Counters

TEXT_SUFFIXES = {".txt", ".md"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
WARC_SUFFIXES = {".warc"}
TABLE_SUFFIXES = {".csv", ".parquet"}
COMPRESSION_SUFFIXES = {".gz", ".gzip", ".zst", ".zstd"}
FORMATS = ("auto", "txt", "jsonl", "csv", "parquet", "html", "warc")

#: Decompressed bytes read from one gzip/zstd input before it is given up as a
#: decompression bomb (also the most a single plain-text article may hold).
MAX_DECOMPRESSED_BYTES = 2 * 1024**3
#: The longest JSON Lines line / CSV line read; longer ones are rejected.
MAX_RECORD_BYTES = 256 * 1024**2
#: The most characters of one article the CLI and the batch runner process (``--max-chars``);
#: the rest is dropped with a :class:`TextCappedWarning`. The pipeline runs at roughly 1 MB
#: of text a minute on 2 CPU cores, so a 50 MB article would take most of an hour.
#: ``None`` or 0: no cap.
MAX_ARTICLE_CHARS: int | None = 1_000_000
#: The largest HTML page (file or WARC record payload) handed to the extractor.
MAX_HTML_BYTES = 32 * 1024**2
#: Bytes of (decompressed) content looked at to sniff a format.
SNIFF_BYTES = 4096
#: Characters of an article looked at to detect its language.
LANG_SAMPLE_CHARS = 2000
#: Fewer letters than this in the sample and the language is not judged (taken as English).
LANG_MIN_LETTERS = 40
#: An article is called non-English only when its best language has at least this probability.
LANG_MIN_CONFIDENCE = 0.5

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PARQUET_MAGIC = b"PAR1"
_CHUNK = 1 << 16
_ZSTD_INPUT_CHUNK = 1024  # bounds one decompress() call's output to ~32 MB even for a bomb


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


class _StreamBroken(Exception):
    """A stream that cannot be read on (truncated, corrupt, too large): becomes a Reject or InputError."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TextCappedWarning(UserWarning):
    """An article longer than the cap was cut to its first ``max_chars`` characters (one line, names the record)."""


# --------------------------------------------------------------------------- text helpers

_SURROGATES = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str, counters: Counters | None = None) -> str:
    """``text`` with unpaired surrogates (from JSON escapes like ``"\\ud800"``) replaced by U+FFFD.

    They are not valid Unicode (spaCy and Parquet cannot encode them); one character
    becomes one character, so offsets are unchanged. Counted as replaced bytes.
    """
    if _SURROGATES.search(text) is None:
        return text
    out, n = _SURROGATES.subn("\ufffd", text)
    if counters is not None:
        counters.replaced_bytes += n
    return out


def cap_text(text: str, limit: int) -> str:
    """The first at most ``limit`` characters of ``text``, cut at a line break, sentence end or space if one is in the last half."""
    if len(text) <= limit:
        return text
    window = text[:limit]
    cut = max(window.rfind("\n"), window.rfind(". "), window.rfind(" "))
    return text[:cut + 1] if cut > limit // 2 else window


#: An HTML character reference: "&amp;", "&#39;", "&#x2019;", "&nbsp;".
_CHAR_REF = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def decode_char_refs(text: str):
    """``(decoded, origin)``: ``text`` with HTML character references decoded, as scraped
    feeds leave them in plain text ("AT&amp;T", "Johnson &amp; Johnson", "O&#39;Brien"), and
    for each character of ``decoded`` the ``(start, end)`` of what it came from in ``text``
    (an ``(n, 2)`` integer array). ``origin`` is ``None`` when there is nothing to decode;
    unknown names ("&foo;") stay as written.
    """
    import numpy as np

    if "&" not in text:
        return text, None
    pieces, starts, ends, last = [], [], [], 0
    for m in _CHAR_REF.finditer(text):
        decoded = html.unescape(m.group())
        if decoded == m.group():
            continue
        pieces += [text[last:m.start()], decoded]
        starts += [np.arange(last, m.start()), np.full(len(decoded), m.start())]
        ends += [np.arange(last + 1, m.start() + 1), np.full(len(decoded), m.end())]
        last = m.end()
    if not pieces:
        return text, None
    pieces.append(text[last:])
    starts.append(np.arange(last, len(text)))
    ends.append(np.arange(last + 1, len(text) + 1))
    return "".join(pieces), np.stack([np.concatenate(starts), np.concatenate(ends)], axis=1)


#: HTML left in a text field (feeds and scrapers often store a story's markup as its text):
#: script and style elements with their content, comments, and tags of the elements news
#: markup uses. A block element's tag ends a line; other tags are spaces.
_HTML_DROP = re.compile(r"<(script|style)\b[^>]{0,2000}>.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(
    r"</?(?:(p|br|div|li|ul|ol|h[1-6]|blockquote|table|tr|section|article|header|footer|figure|figcaption|hr)"
    r"|a|b|i|em|strong|span|img|td|th|small|sup|sub|u|font|time|abbr|cite|q|mark)\b[^<>]{0,2000}?/?>",
    re.IGNORECASE)


def blank_html(text: str) -> str:
    """``text`` with HTML markup turned into blanks: a block element's tag into a line break
    and spaces, any other tag, comment, script or style into spaces. The same length as
    ``text``: offsets into one are offsets into the other. Text without such tags, and
    "<" used as a sign ("revenue <5%"), is left alone."""
    if "<" not in text or ">" not in text:
        return text

    def drop(m: re.Match) -> str:
        return re.sub(r"[^\n]", " ", m.group())

    def tag(m: re.Match) -> str:
        n = m.end() - m.start()
        return "\n" + " " * (n - 1) if m.group(1) else " " * n

    return _HTML_TAG.sub(tag, _HTML_DROP.sub(drop, text))


#: Markdown a scraped or ``.md`` article keeps: a link "[Vexa AI](https://vexa.ai)" (its text
#: is group 1) and strong emphasis "**Vexa AI**" / "__Vexa AI__".
_MD_LINK = re.compile(r"\[([^\[\]\n]{1,300})\]\((?:[a-z][a-z+.-]*:|/|www\.|#)[^()\s]{0,2000}\)")
_MD_STRONG = re.compile(r"(?<![\w*])(\*\*|__)(?=\S)([^\n]{1,300}?)(?<=\S)\1(?![\w*])")


def blank_markdown(text: str) -> str:
    """``text`` with Markdown link targets and emphasis markers turned into spaces, so the
    names they wrap read as plain words ("[Vexa AI](https://vexa.ai) raised" reads "Vexa AI
    raised"). The same length as ``text``: offsets into one are offsets into the other."""
    if "](" not in text and "**" not in text and "__" not in text:
        return text

    def link(m: re.Match) -> str:
        return " " + m.group(1) + " " * (m.end() - m.end(1))

    def strong(m: re.Match) -> str:
        marker = " " * len(m.group(1))
        return marker + m.group(2) + marker

    return _MD_STRONG.sub(strong, _MD_LINK.sub(link, text))


#: A wire service's headline slug joined to the headline by a hyphen: "EXCLUSIVE-Mirova Bank
#: licenses ...", "UPDATE 2-Orthea ...", "RPT-BRIEF-Ionra ...". Only these words: "HLV-204"
#: at a line's start is a drug code, not a slug.
_WIRE_SLUG = re.compile(
    r"(?m)^[ \t]*(?:(?:UPDATE|WRAPUP|RPT|REFILE|CORRECTED|CORRECTED-UPDATE|EXCLUSIVE|BRIEF|ANALYSIS|INSIGHT"
    r"|FACTBOX|EXPLAINER|INTERVIEW|COLUMN|BREAKINGVIEWS|TIMELINE|FOCUS|SPECIAL REPORT|PRESS DIGEST"
    r"|GRAPHIC|DEALTALK|BUZZ|MOVES|CORRECTION)(?: \d+)?-)+(?=\S)")


def blank_wire_slugs(text: str) -> str:
    """``text`` with the hyphen after a wire headline's slug made a space, so the name it
    touches reads as a name ("EXCLUSIVE-Mirova Bank" reads "EXCLUSIVE Mirova Bank"). The
    same length as ``text``."""
    if "-" not in text:
        return text
    return _WIRE_SLUG.sub(lambda m: m.group(0).replace("-", " "), text)


#: A line that starts a list item, never the continuation of a wrapped line.
_LIST_ITEM_START = re.compile(r"\s*(?:[-*\u2022\u00b7\u2013\u2014]|\d{1,2}[.)])\s")


def unwrap_lines(text: str, max_width: int = 100) -> str:
    """``text`` with the line breaks of hard-wrapped paragraphs turned into spaces.

    Plain-text dumps and e-mail newsletters wrap paragraphs at a fixed width (60-80
    columns); read as they are, every line would be a sentence and a heading, and names
    broken over two lines ("Aldmere Wind\nSystems") would be lost. A text counts as wrapped
    when its longest line is 40 to ``max_width`` characters and at least three lines come
    within 15 characters of that width. A break is then a wrap when the next line's first
    word would not have fitted on the line; a heading before its body, a list item and a
    paragraph break stay. The result has the same length as ``text``, so offsets into one
    are offsets into the other.
    """
    if text.count("\n") < 2:
        return text
    lines = text.split("\n")
    lengths = [len(line.rstrip()) for line in lines]
    width = max(lengths)
    if not 40 <= width <= max_width or sum(n >= width - 15 for n in lengths) < 3:
        return text
    out, pos = list(text), 0
    for line, length, following in zip(lines, lengths, lines[1:]):
        pos += len(line)  # the line break after ``line``
        words = following.split()
        if (length and words and not _LIST_ITEM_START.match(following)
                and length + 1 + len(words[0]) > width):
            out[pos] = " "
        pos += 1
    return "".join(out)


def _cap_message(where: str, size: str, limit: int) -> str:
    return (f"{where}: article of {size} capped at its first {limit:,} characters "
            "(--max-chars raises the cap, 0 removes it)")


def valid_unicode(article: Article, counters: Counters | None = None) -> Article:
    """The article with unpaired surrogates in its text, doc_id, source and url replaced (see :func:`replace_surrogates`).

    They come from JSON escapes (``"\\ud800"``) and from file names that are not UTF-8.
    Only replacements in the text are counted.
    """
    def fix(value):
        return replace_surrogates(value) if isinstance(value, str) else value

    text = replace_surrogates(article.text, counters)
    doc_id, source, url = fix(article.doc_id), fix(article.source), fix(article.url)
    if (text, doc_id, source, url) == (article.text, article.doc_id, article.source, article.url):
        return article
    import dataclasses

    return dataclasses.replace(article, text=text, doc_id=doc_id, source=source, url=url)


def _cap_article(article: Article, where: str, limit: int | None, counters: Counters | None) -> Article:
    """The article with its text capped at ``limit`` characters, warning once; unchanged if short enough."""
    if not limit or len(article.text) <= limit:
        return article
    import dataclasses
    import warnings

    warnings.warn(TextCappedWarning(_cap_message(where, f"{len(article.text):,} characters", limit)), stacklevel=3)
    if counters is not None:
        counters.truncated += 1
    return dataclasses.replace(article, text=cap_text(article.text, limit))


def _trim_partial_utf8(data: bytes) -> bytes:
    """``data`` without a UTF-8 sequence cut off at its end."""
    for k in range(1, min(4, len(data)) + 1):
        b = data[-k]
        if b & 0xC0 != 0x80:  # ASCII or a lead byte
            need = 1 if b < 0x80 else 2 if b < 0xE0 else 3 if b < 0xF0 else 4
            return data if need <= k else data[:-k]
    return data


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
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc).date()
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if len(text) > 100:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    try:
        from dateutil import parser

        return parser.parse(text, fuzzy=False).date()
    except (ValueError, OverflowError, TypeError, ArithmeticError):
        return None


def looks_binary(head: bytes) -> str | None:
    """Why bytes look like a binary file (NUL bytes, many control characters), else None."""
    if not head:
        return None
    if b"\x00" in head:
        return "binary file (NUL bytes)"
    controls = sum(1 for b in head if (b < 32 and b not in (9, 10, 12, 13)) or b == 127)
    if controls / len(head) > 0.1:
        return f"binary file ({controls * 100 // len(head)}% control characters)"
    return None


def _inc(counters: Counters | None, key: str, n: int = 1) -> None:
    if counters is not None:
        counters.extra[key] = counters.extra.get(key, 0) + n


# --------------------------------------------------------------------------- language

_IDENTIFIER = None


def _identifier():
    global _IDENTIFIER
    if _IDENTIFIER is None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        # the model ships inside the package: nothing is downloaded; naive Bayes is deterministic
        _IDENTIFIER = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _IDENTIFIER


def detect_language(text: str) -> tuple[str, float]:
    """``(ISO 639-1 code, probability)`` of the first :data:`LANG_SAMPLE_CHARS` characters.

    ``("und", 0.0)`` when the sample has fewer than :data:`LANG_MIN_LETTERS` letters.
    Deterministic (a naive Bayes model shipped with py3langid) and about 0.1 ms a call.
    """
    sample = text[:LANG_SAMPLE_CHARS]
    if sum(1 for c in sample if c.isalpha()) < LANG_MIN_LETTERS:
        return "und", 0.0
    lang, prob = _identifier().classify(sample)
    return str(lang), float(prob)


def is_english(text: str) -> bool:
    """False only when the text is confidently in another language (too little text counts as English)."""
    lang, prob = detect_language(text)
    return lang in ("en", "und") or prob < LANG_MIN_CONFIDENCE


def language_reject(article: Article, where: str) -> Reject | None:
    """A Reject ``not English (detected 'fr')`` for a non-English article, else None."""
    lang, prob = detect_language(article.text)
    if lang in ("en", "und") or prob < LANG_MIN_CONFIDENCE:
        return None
    return Reject(where, f"not English (detected {lang!r})")


# --------------------------------------------------------------------------- byte streams

class _Chain(io.RawIOBase):
    """``head`` bytes already read, then the rest of a stream."""

    def __init__(self, head: bytes, rest):
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        if hasattr(self._rest, "readinto"):
            return self._rest.readinto(b)
        data = self._rest.read(len(b))
        b[:len(data)] = data
        return len(data)


class _Zstd(io.RawIOBase):
    """Streaming zstd decompression (multi-frame) that notices a truncated last frame."""

    def __init__(self, src):
        import zstandard

        self._zstd = zstandard
        self._src = src
        self._dobj = zstandard.ZstdDecompressor().decompressobj()
        self._in_frame = False
        self._pending = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def _feed(self, data: bytes) -> bytes:
        out = []
        while data:
            try:
                out.append(self._dobj.decompress(data))
            except self._zstd.ZstdError as e:
                raise _StreamBroken(f"corrupt zstd stream ({e})") from e
            self._in_frame = True
            if not self._dobj.eof:
                break
            data = self._dobj.unused_data
            self._dobj = self._zstd.ZstdDecompressor().decompressobj()
            self._in_frame = False
        return b"".join(out)

    def readinto(self, b) -> int:
        while not self._pending:
            if self._done:
                return 0
            chunk = self._src.read(_ZSTD_INPUT_CHUNK)
            if not chunk:
                self._done = True
                if self._in_frame:
                    raise _StreamBroken("truncated zstd stream")
                return 0
            self._pending = memoryview(self._feed(chunk))
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class _Guarded(io.RawIOBase):
    """Turns read errors into :class:`_StreamBroken` and stops past ``limit`` bytes."""

    def __init__(self, inner, kind: str, limit: int | None):
        self._inner = inner
        self._kind = kind
        self._limit = limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        try:
            if hasattr(self._inner, "read1"):
                # read1: one underlying read at a time, so data decoded before a
                # truncation is handed out before the error
                data = self._inner.read1(len(b))
                n = len(data)
                b[:n] = data
            elif hasattr(self._inner, "readinto"):
                n = self._inner.readinto(b)
            else:
                data = self._inner.read(len(b))
                n = len(data)
                b[:n] = data
        except _StreamBroken:
            raise
        except EOFError as e:
            raise _StreamBroken(f"truncated {self._kind} stream") from e
        except (gzip.BadGzipFile, zlib.error) as e:
            raise _StreamBroken(f"corrupt {self._kind} stream ({e})") from e
        except OSError as e:
            raise _StreamBroken(f"read error ({e.strerror or e})") from e
        n = n or 0
        self.count += n
        if self._limit is not None and self.count > self._limit:
            raise _StreamBroken(f"more than {self._limit:,} bytes after {self._kind} decompression "
                                "(MAX_DECOMPRESSED_BYTES; a decompression bomb?)")
        return n


def _read_upto(stream, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        data = stream.read(n - got)
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def _open_raw(path: Path):
    """The file opened for binary reading; InputError naming it if it cannot be."""
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller
    except PermissionError as e:
        raise InputError(f"{path}: cannot be read (permission denied)") from e
    except IsADirectoryError as e:
        raise InputError(f"{path}: is a directory") from e
    except FileNotFoundError as e:
        raise InputError(f"{path}: no such file or directory") from e
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror or e})") from e


def _stdin_bytes():
    buf = getattr(sys.stdin, "buffer", None)
    if buf is not None:
        return buf
    return io.BytesIO(sys.stdin.read().encode("utf-8", "surrogatepass"))


def _open_stream(raw) -> tuple[io.BufferedReader, bytes, str | None]:
    """(decompressed buffered stream, its first SNIFF_BYTES, "gzip"/"zstd"/None). May raise _StreamBroken."""
    try:
        magic = _read_upto(raw, 4)
    except OSError as e:
        raise _StreamBroken(f"read error ({e.strerror or e})") from e
    src = _Chain(magic, raw)
    if magic.startswith(GZIP_MAGIC):
        kind, limit = "gzip", MAX_DECOMPRESSED_BYTES
        inner = gzip.GzipFile(fileobj=io.BufferedReader(src, _CHUNK), mode="rb")
    elif magic.startswith(ZSTD_MAGIC):
        kind, limit = "zstd", MAX_DECOMPRESSED_BYTES
        inner = _Zstd(io.BufferedReader(src, _CHUNK))
    else:
        kind, limit, inner = None, None, src
    guarded = _Guarded(inner, kind or "file", limit)
    head = _read_upto(guarded, SNIFF_BYTES)
    return io.BufferedReader(_Chain(head, guarded), _CHUNK), head, kind


def sniff_format(head: bytes) -> str:
    """The format that (decompressed) leading bytes look like, or ''."""
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    start = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if start.startswith((b"WARC/1.", b"WARC/0.")):
        return "warc"
    if start.startswith(b"{"):
        return "jsonl"
    low = start[:1024].lower()
    if low.startswith((b"<!doctype html", b"<html")) or (low.startswith(b"<") and b"<html" in low):
        return "html"
    return ""


def _format_from_name(path: Path) -> tuple[str, bool]:
    """(format from the name or '', whether the name is ambiguous and content should decide)."""
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes.pop()
    last = suffixes[-1] if suffixes else ""
    if last in TEXT_SUFFIXES:
        return "txt", False
    if last in JSONL_SUFFIXES:
        return "jsonl", False
    if last == ".csv":
        return "csv", False
    if last == ".parquet":
        return "parquet", False
    if last in HTML_SUFFIXES:
        return "html", False
    if last in WARC_SUFFIXES:
        return "warc", False
    # no suffix (or only a compression suffix), or a dotted name like "2024.03-report"
    return "", not last or not last[1:].isalpha()


def _probe(path: Path) -> bytes:
    """The first SNIFF_BYTES of the decompressed file; InputError if it cannot be read at all."""
    raw = _open_raw(path)
    try:
        return _open_stream(raw)[1]
    except _StreamBroken as e:
        raise InputError(f"{path}: {e.reason}") from e
    finally:
        raw.close()


def detect_format(path: Path, head: bytes | None = None) -> str:
    """The input format of a file: from its name, else from its content; '' if unknown."""
    fmt, _ = _format_from_name(path)
    if fmt:
        return fmt
    if head is None:
        try:
            head = _probe(path)
        except InputError:
            return ""
    return sniff_format(head)


def list_inputs(inputs: Iterable[str | Path], fmt: str = "auto") -> list[tuple[Path | None, str]]:
    """Expand inputs into ``(file, format)`` pairs; ``(None, fmt)`` stands for stdin.

    Raises :class:`InputError` for a path that does not exist or cannot be read (a
    directory or any subdirectory that cannot be listed included), a directory without
    articles or a file of unknown format, before anything is read.
    In a directory, files whose names say nothing (no suffix, or only ``.gz``/``.zst``)
    are sniffed; files with another suffix are left out.
    """
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    out: list[tuple[Path | None, str]] = []
    for item in inputs:
        if str(item) == "-":
            out.append((None, fmt))
            continue
        path = Path(item)
        try:
            exists, is_dir = path.exists(), path.is_dir()
        except OSError as e:
            raise InputError(f"{path}: cannot be read ({e.strerror or e})") from e
        if not exists:
            raise InputError(f"{path}: no such file or directory")
        if is_dir:
            try:
                entries = [p for p in sorted(path.rglob("*"))
                           if not any(part.startswith(".") for part in p.relative_to(path).parts)]
                # rglob passes over directories it cannot list: their articles would be lost unsaid
                for directory in [path, *(p for p in entries if p.is_dir())]:
                    with os.scandir(directory):
                        pass
                files = [p for p in entries if p.is_file()]
            except PermissionError as e:
                raise InputError(f"{e.filename or path}: cannot be read (permission denied)") from e
            found = []
            for p in files:
                if fmt != "auto":
                    _probe(p)
                    found.append((p, fmt))
                    continue
                f, ambiguous = _format_from_name(p)
                head = _probe(p) if (f or ambiguous) else b""
                if not f and ambiguous:
                    f = sniff_format(head)
                if f:
                    found.append((p, f))
            if not found:
                raise InputError(f"{path}: directory holds no articles "
                                 "(.txt, .md, .jsonl, .csv, .parquet, .html, .warc, optionally .gz/.zst)")
            out.extend(found)
            continue
        head = _probe(path)
        f = fmt if fmt != "auto" else detect_format(path, head)
        if not f:
            raise InputError(f"{path}: unknown input format; name it .txt, .jsonl, .csv, .parquet, .html "
                             "or .warc (optionally .gz/.zst), or pass --format")
        out.append((path, f))
    return out


# --------------------------------------------------------------------------- records

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
    url = str(url) if url not in (None, "") and not isinstance(url, (dict, list)) else None
    return Article(
        doc_id=doc_id,
        text=text,
        published=parse_date(rec.get(fields.date)),
        source=url or source,
        url=url,
    )


def _lines(stream: io.BufferedReader) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line bytes), or None for a line longer than MAX_RECORD_BYTES (skipped)."""
    lineno = 0
    while True:
        line = stream.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        lineno += 1
        if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            while True:  # skip the rest of the line, a chunk at a time
                more = stream.readline(_CHUNK)
                if not more or more.endswith(b"\n"):
                    break
            yield lineno, None
            continue
        yield lineno, line


def _read_text(stream: io.BufferedReader, head: bytes, name: str, doc_id: str, source: str,
               counters: Counters | None, max_chars: int | None = None) -> Iterator[tuple[str, Article | Reject]]:
    """One article from a text file; with ``max_chars``, bytes past the cap are counted, not kept."""
    binary = looks_binary(head)
    if binary:
        yield name, Reject(name, binary)
        return
    budget = 4 * max_chars + 4 if max_chars else None  # UTF-8: at most 4 bytes a character
    parts, total, kept = [], 0, 0
    while True:  # chunks joined once: linear in the size, however large the article
        chunk = stream.read(_CHUNK * 16)
        if not chunk:
            break
        total += len(chunk)
        if total > MAX_DECOMPRESSED_BYTES:
            if budget is None:
                yield name, Reject(name, f"text larger than {MAX_DECOMPRESSED_BYTES:,} bytes")
                return
            break
        if budget is None or kept < budget:
            if budget is not None:
                chunk = chunk[:budget - kept]
            parts.append(chunk)
            kept += len(chunk)
    data = b"".join(parts)
    del parts
    if total > kept:
        data = _trim_partial_utf8(data)
    text = decode(data, counters)
    del data
    if not text.strip():
        yield name, Reject(name, "empty text")
        return
    if max_chars and (total > kept or len(text) > max_chars):
        import warnings

        size = (f"more than {MAX_DECOMPRESSED_BYTES:,} bytes" if total > MAX_DECOMPRESSED_BYTES
                else f"{total:,} bytes" if total > kept else f"{len(text):,} characters")
        warnings.warn(TextCappedWarning(_cap_message(name, size, max_chars)), stacklevel=2)
        if counters is not None:
            counters.truncated += 1
        text = cap_text(text, max_chars)
    yield name, Article(doc_id=doc_id, text=text, source=source)


def _read_jsonl(stream: io.BufferedReader, name: str, source: str, fields: Fields,
                counters: Counters | None) -> Iterator[tuple[str, Article | Reject]]:
    stem = Path(name).name.split(".")[0] or Path(name).stem
    seen_any = False
    for lineno, raw in _lines(stream):
        where = f"{name}:{lineno}"
        if raw is None:
            seen_any = True
            yield where, Reject(where, f"line longer than {MAX_RECORD_BYTES:,} bytes")
            continue
        line = decode(raw, counters)
        if not line.strip():
            continue
        seen_any = True
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            yield where, Reject(where, f"not valid JSON ({e.msg})")
            continue
        except RecursionError:
            yield where, Reject(where, "not valid JSON (nested too deeply)")
            continue
        except ValueError as e:  # e.g. an integer with too many digits
            yield where, Reject(where, f"not valid JSON ({str(e)[:100]})")
            continue
        yield where, _article(rec, where, f"{stem}:{lineno}", source, fields)
    if not seen_any:
        yield name, Reject(name, "empty file")


def _csv_lines(stream: io.BufferedReader, name: str, counters: Counters | None) -> Iterator[str]:
    for lineno, raw in _lines(stream):
        if raw is None:
            raise _StreamBroken(f"line {lineno} longer than {MAX_RECORD_BYTES:,} bytes")
        yield decode(raw, counters).replace("\x00", "")


def _read_csv(stream: io.BufferedReader, name: str, source: str, fields: Fields,
              counters: Counters | None) -> Iterator[tuple[str, Article | Reject]]:
    if csv.field_size_limit() < MAX_RECORD_BYTES:
        csv.field_size_limit(MAX_RECORD_BYTES)
    reader = csv.reader(_csv_lines(stream, name, counters))
    stem = Path(name).name.split(".")[0] or Path(name).stem
    try:
        header = next(reader)
    except StopIteration:
        yield name, Reject(name, "empty file")
        return
    except csv.Error as e:
        raise InputError(f"{name}: not a readable CSV file ({e})") from e
    if fields.text not in header:
        shown = ", ".join(header)
        shown = shown if len(shown) <= 200 else shown[:200] + "..."
        raise InputError(f"{name}: no {fields.text!r} column (columns: {shown}); set it with --text-field")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            where = f"{name}:{reader.line_num}"
            yield where, Reject(where, f"malformed CSV ({e})")
            continue
        where = f"{name}:{reader.line_num}"
        if not row:
            continue
        if len(row) != len(header):
            yield where, Reject(where, f"row has {len(row)} fields, the header has {len(header)}")
            continue
        yield where, _article(dict(zip(header, row)), where, f"{stem}:{reader.line_num - 1}", source, fields)


def _read_parquet(path: Path, source: str, fields: Fields) -> Iterator[tuple[str, Article | Reject]]:
    import pyarrow.parquet as pq

    raw = _open_raw(path)
    with raw:
        try:
            pfile = pq.ParquetFile(raw)
            names = pfile.schema_arrow.names
        except Exception as e:  # pyarrow raises several types for a corrupt file
            raise InputError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0] if str(e) else e!r})") from e
        if fields.text not in names:
            raise InputError(f"{path}: no {fields.text!r} column (columns: {', '.join(names)}); "
                             "set it with --text-field")
        wanted = [c for c in dict.fromkeys((fields.text, fields.id, fields.date, fields.url)) if c in names]
        row = 0
        batches = pfile.iter_batches(columns=wanted, batch_size=1024)
        while True:
            try:
                batch = next(batches)
                recs = batch.to_pylist()
            except StopIteration:
                return
            except Exception as e:
                raise _StreamBroken(f"unreadable Parquet data after row {row} ({type(e).__name__})") from e
            for rec in recs:
                row += 1
                where = f"{path}:row {row}"
                yield where, _article(rec, where, f"{path.stem}:{row}", source, fields)


# --------------------------------------------------------------------------- HTML and WARC

_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_HTML_PARSER = None


def _html_parser():
    global _HTML_PARSER
    if _HTML_PARSER is None:
        from lxml import html as lxml_html

        # no_network: never fetch DTDs or entities; HTML parsing has no XInclude or external entities
        _HTML_PARSER = lxml_html.HTMLParser(encoding="utf-8", no_network=True, remove_comments=True,
                                            remove_pis=True, collect_ids=False, default_doctype=False)
    return _HTML_PARSER


def _decode_html(data: bytes, charset: str | None, counters: Counters | None) -> str:
    if not charset:
        m = _CHARSET.search(data[:4096])
        charset = m.group(1).decode("ascii") if m else None
    if charset:
        try:
            name = codecs.lookup(charset).name
        except LookupError:
            name = "utf-8"
        if name not in ("utf-8", "ascii"):
            try:
                return data.decode(name)
            except UnicodeDecodeError:
                # declared charset is wrong: fall back to UTF-8 with replacement
                pass
    return decode(data, counters)


def _http_url(value) -> str | None:
    if isinstance(value, str) and re.match(r"^https?://\S+$", value.strip()):
        return value.strip()
    return None


def html_to_article(data: bytes | str, where: str, doc_id: str, source: str,
                    counters: Counters | None = None, *, charset: str | None = None,
                    url: str | None = None, fallback_date: dt.date | None = None) -> Article | Reject:
    """The main text of one HTML page (trafilatura), with its title, date and URL.

    The HTML is parsed from the given bytes only: nothing is fetched or read from disk.
    ``url`` (a WARC target URI) wins over the page's canonical URL; the page's date wins
    over ``fallback_date`` (a WARC-Date).
    """
    import trafilatura
    from lxml import etree
    from lxml import html as lxml_html

    text = data if isinstance(data, str) else _decode_html(data, charset, counters)
    if not text.strip():
        return Reject(where, "empty HTML page")
    try:
        tree = lxml_html.document_fromstring(text.encode("utf-8", "replace"), parser=_html_parser())
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as e:
        return Reject(where, f"not an HTML page ({e})")
    try:
        doc = trafilatura.bare_extraction(
            tree, url=None, with_metadata=True, include_comments=False, include_tables=True,
            include_images=False, include_links=False, deduplicate=False,
            date_extraction_params={"extensive_search": False, "original_date": True,
                                    "outputformat": "%Y-%m-%d"},
        )
    except Exception as e:  # the extractor has many failure modes on broken pages
        return Reject(where, f"HTML extraction failed ({type(e).__name__})")
    body = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not body:
        return Reject(where, "no main text found in the HTML page")
    title = (getattr(doc, "title", None) or "").strip()
    if title and not body.startswith(title):
        body = f"{title}\n\n{body}"
    page_url = url or _http_url(getattr(doc, "url", None))
    published = parse_date(getattr(doc, "date", None)) or fallback_date
    return Article(doc_id=doc_id, text=body, published=published, source=page_url or source, url=page_url)


def _read_html(stream: io.BufferedReader, head: bytes, name: str, doc_id: str, source: str,
               counters: Counters | None) -> Iterator[tuple[str, Article | Reject]]:
    data = stream.read(MAX_HTML_BYTES + 1)
    if len(data) > MAX_HTML_BYTES:
        yield name, Reject(name, f"HTML page larger than {MAX_HTML_BYTES:,} bytes")
        return
    if b"\x00" in head:
        yield name, Reject(name, "binary file (NUL bytes)")
        return
    yield name, html_to_article(data, name, doc_id, source, counters)


_HTML_TYPES = ("text/html", "application/xhtml+xml")


def _warc_iterator(stream):
    from warcio.archiveiterator import ArchiveIterator

    class _Iterator(ArchiveIterator):
        def _next_record(self, next_line):
            try:
                return super()._next_record(next_line)
            except EOFError:
                if next_line and next_line.strip():  # a record began, then the stream ended
                    raise _StreamBroken("truncated WARC record") from None
                raise

    return _Iterator(stream, check_digests=False)


def _drain(record) -> None:
    """Read the rest of a record; a record shorter than its Content-Length is a truncated file."""
    raw = record.raw_stream
    while raw.read(_CHUNK):
        pass
    if getattr(raw, "limit", 0) > 0:
        raise _StreamBroken("truncated WARC record")


def _read_warc(stream: io.BufferedReader, name: str, counters: Counters | None
               ) -> Iterator[tuple[str, Article | Reject]]:
    stem = Path(name).name.split(".")[0] or Path(name).stem
    try:
        records = iter(_warc_iterator(stream))
    except _StreamBroken:
        raise
    except Exception as e:
        raise _StreamBroken(f"not a WARC file ({type(e).__name__})") from e
    n = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except _StreamBroken as e:
            raise _StreamBroken(f"{e.reason} after record {n}") from e
        except Exception as e:  # warcio raises ArchiveLoadFailed, ValueError, ... on a broken file
            msg = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            raise _StreamBroken(f"malformed WARC record after record {n} ({msg})") from e
        n += 1
        where = f"{name}:record {n}"
        if record.rec_headers.get_header("Content-Length") is None:
            raise _StreamBroken(f"truncated or malformed WARC record {n} (no Content-Length)")
        try:
            item = _warc_record(record, where, stem, n, counters)
            _drain(record)
        except _StreamBroken as e:
            raise _StreamBroken(f"{e.reason} {n}" if e.reason == "truncated WARC record" else e.reason) from e
        except Exception as e:
            item = Reject(where, f"unreadable WARC record ({type(e).__name__})")
        if item is not None:
            yield where, item
    if n == 0:
        yield name, Reject(name, "empty file")


def _warc_record(record, where: str, stem: str, n: int, counters: Counters | None) -> Article | Reject | None:
    if record.rec_type not in ("response", "resource"):
        _inc(counters, "warc_skipped")
        return None
    headers = record.rec_headers
    uri = headers.get_header("WARC-Target-URI") or ""
    if record.rec_type == "response":
        http = record.http_headers
        if http is None:
            _inc(counters, "warc_skipped")
            return None
        status = http.get_statuscode() or ""
        if not str(status).startswith("2"):
            _inc(counters, "warc_skipped")
            return None
        ctype = http.get_header("Content-Type") or ""
    else:
        ctype = headers.get_header("Content-Type") or ""
    mime = ctype.split(";")[0].strip().lower()
    if mime not in _HTML_TYPES:
        _inc(counters, "warc_skipped")
        return None
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", ctype, re.I)
    payload = record.content_stream().read(MAX_HTML_BYTES + 1)
    if len(payload) > MAX_HTML_BYTES:
        return Reject(where, f"HTML response larger than {MAX_HTML_BYTES:,} bytes")
    rec_id = (headers.get_header("WARC-Record-ID") or "").strip("<>")
    doc_id = rec_id.removeprefix("urn:uuid:") if rec_id else f"{stem}:{n}"
    url = uri.strip() or None
    return html_to_article(payload, where, doc_id, url or where, counters, charset=m.group(1) if m else None,
                           url=url, fallback_date=parse_date(headers.get_header("WARC-Date")))


# --------------------------------------------------------------------------- reading

def _records(path: Path | None, fmt: str, fields: Fields, counters: Counters | None,
             max_chars: int | None = None) -> Iterator[tuple[str, Article | Reject]]:
    """(where, item) for every record of one input; may raise InputError or _StreamBroken."""
    name = source = "<stdin>" if path is None else str(path)
    if fmt == "parquet":
        if path is None:
            raise InputError(f"{name}: format 'parquet' cannot be read from stdin")
        yield from _read_parquet(path, source, fields)
        return
    raw = _stdin_bytes() if path is None else _open_raw(path)
    try:
        stream, head, _ = _open_stream(raw)
        if fmt == "auto":
            fmt = sniff_format(head) or "txt"
            if fmt == "parquet":
                raise InputError(f"{name}: format 'parquet' cannot be read from stdin")
        doc_id = "stdin" if path is None else (path.name.split(".")[0] or path.stem)
        if fmt == "txt":
            yield from _read_text(stream, head, name, doc_id, source, counters, max_chars)
        elif fmt == "html":
            yield from _read_html(stream, head, name, doc_id, source, counters)
        elif fmt == "jsonl":
            yield from _read_jsonl(stream, name, source, fields, counters)
        elif fmt == "csv":
            yield from _read_csv(stream, name, source, fields, counters)
        elif fmt == "warc":
            yield from _read_warc(stream, name, counters)
        else:
            raise InputError(f"{name}: format {fmt!r} cannot be read")
    finally:
        if path is not None:
            raw.close()


def _screen(where: str, article: Article, english_only: bool, deduplicator, counters: Counters | None
            ) -> Article | Reject:
    if english_only:
        reject = language_reject(article, where)
        if reject is not None:
            _inc(counters, "not_english")
            return reject
    if deduplicator is not None:
        found = deduplicator.check_detail(article)
        if found is not None:
            kind, earlier = found
            _inc(counters, "duplicates")
            what = "duplicate" if kind == "exact" else "near-duplicate"
            return Reject(where, f"{what} of {earlier!r}")
    return article


def read_file(path: Path | None, fmt: str, fields: Fields = Fields(),
              counters: Counters | None = None, *, english_only: bool = False,
              deduplicator=None, max_chars: int | None = None) -> Iterator[Article | Reject]:
    """Articles and rejects from one input (``None`` = stdin).

    ``english_only`` rejects confidently non-English articles ("not English (detected
    'fr')"); ``deduplicator`` (a :class:`~pipeline.stages.dedupe.Deduplicator`) rejects
    duplicates of articles it has seen ("near-duplicate of 'x'"). ``max_chars`` caps
    each article's text (before screening) with a :class:`TextCappedWarning`.
    """
    name = "<stdin>" if path is None else str(path)
    yielded = False
    try:
        for where, item in _records(path, fmt, fields, counters, max_chars):
            if isinstance(item, Article):
                item = _cap_article(valid_unicode(item, counters), where, max_chars, counters)
            if isinstance(item, Article) and (english_only or deduplicator is not None):
                item = _screen(where, item, english_only, deduplicator, counters)
            yielded = True
            yield item
    except _StreamBroken as e:
        if not yielded:
            raise InputError(f"{name}: {e.reason}") from e
        yield Reject(name, e.reason)


def read_articles(inputs: Iterable[str | Path], fmt: str = "auto", fields: Fields = Fields(),
                  counters: Counters | None = None, *, english_only: bool = False,
                  dedupe=False, max_chars: int | None = None) -> Iterator[Article | Reject]:
    """Every article (or reject) of every input, in order.

    ``english_only=True`` rejects non-English articles; ``dedupe=True`` (or a
    :class:`~pipeline.stages.dedupe.Deduplicator` to share across calls) rejects exact
    and near duplicates of earlier articles of the run. ``max_chars`` (default: no cap;
    the CLI and batch runner pass :data:`MAX_ARTICLE_CHARS`) caps each article's text
    with a one-line :class:`TextCappedWarning` naming the record.
    """
    deduplicator = None
    if dedupe is True:
        from pipeline.stages.dedupe import Deduplicator

        deduplicator = Deduplicator()
    elif dedupe is not False and dedupe is not None:  # an empty Deduplicator is falsy (len 0)
        deduplicator = dedupe
    for path, f in list_inputs(inputs, fmt):
        yield from read_file(path, f, fields, counters, english_only=english_only, deduplicator=deduplicator,
                             max_chars=max_chars)
