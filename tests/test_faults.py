"""Issue 5's remaining cases: extract() fuzzed on the real model, a 50 MB article, a million tiny
articles, a dask worker killed mid-run, a full disk under a one-file output, unreadable
directories, file names that are not UTF-8 and tampered model directories."""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tracemalloc
import warnings

import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import EXAMPLES, ROOT
from pipeline import extract, extract_df
from pipeline.batch import run_dataset
from pipeline.cli import app
from pipeline.errors import RecordError
from pipeline.records import RELATIONS, Article
from pipeline.stages.ingest import TextCappedWarning, cap_text, read_articles
# the batch tests' fixtures (a tiny model with thresholds at 0, ten articles with two bad lines) and helpers
from test_batch import assert_same_rows, loose_model_dir, model, rows, small, stray_files  # noqa: F401

runner = CliRunner()

# --------------------------------------------------------------------------- fuzzing extract()

#: Snippets that name organizations, so the classifier runs on some of the fuzzed texts.
SNIPPETS = [
    "Norrland Capital led a $40 million funding round in Vexa AI, the Stockholm startup said on Tuesday. ",
    "Solvang Cells will supply battery packs to Ostra Motors under a five-year deal. ",
    "Carrow Telecom agreed to acquire Meridian Fibre from Tamsin Capital Partners. ",
    "Microsoft competes with OpenAI and Google in cloud AI. ",
]
#: Characters that broke or could break tokenizers and writers: unpaired surrogates, NUL, BOM, bidi controls.
SPECIAL = ["\ud800", "\udcff", "\udbff\udfff", "\x00", "\ufeff", "\u202e", "\u0301", "\r\n", "\n\n", "\t", "\U0001f600"]

texts = st.lists(st.one_of(st.text(max_size=25), st.sampled_from(SPECIAL), st.sampled_from(SNIPPETS)),
                 max_size=6).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)
records = st.dictionaries(st.sampled_from(["text", "id", "date", "url", "body"]), json_values, max_size=5)
articles = st.builds(Article, doc_id=st.one_of(st.text(max_size=8), st.none(), st.integers()),
                     text=st.one_of(texts, st.none(), st.binary(max_size=20)),
                     published=st.one_of(st.none(), st.dates(), st.text(max_size=10)),
                     source=st.one_of(st.text(max_size=10), st.none()))
good_items = st.one_of(
    texts, st.builds(lambda rec, text: {**rec, "text": text}, records, texts),
    st.builds(Article, doc_id=st.text(max_size=8), text=texts, published=st.one_of(st.none(), st.dates())))
bad_items = st.one_of(records, articles, st.binary(max_size=40), st.none(), st.integers(), st.floats(),
                      st.lists(st.text(max_size=5), max_size=2))
#: Four good records for one that may be bad, so most lists reach the model.
items = st.integers(0, 4).flatmap(lambda k: bad_items if k == 0 else good_items)
#: EXTRACT_FUZZ_EXAMPLES=500 for a longer fuzzing run.
EXTRACT_FUZZ = settings(max_examples=int(os.environ.get("EXTRACT_FUZZ_EXAMPLES", "60")),
                        deadline=dt.timedelta(seconds=30),
                        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                               HealthCheck.data_too_large])


def expected(item, index):
    """(None, doc_id, text) for a record extract() must process, (reason, None, None) for one it must reject."""
    if isinstance(item, Article):
        if not all(isinstance(v, str) for v in (item.text, item.doc_id, item.source)) or not (
                item.published is None or isinstance(item.published, dt.date)):
            return "Article", None, None
        return None, clean_text(item.doc_id), item.text
    if isinstance(item, str):
        return None, str(index), item
    if isinstance(item, dict):
        if not isinstance(item.get("text"), str):
            return "text", None, None
        doc_id = item.get("id", item.get("doc_id"))
        return None, clean_text(str(doc_id)) if doc_id not in (None, "") else str(index), item["text"]
    return "type", None, None


def clean_text(text):
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


@EXTRACT_FUZZ
@given(given_items=st.one_of(items, st.lists(items, max_size=4)))
def test_fuzz_extract_processes_or_rejects_every_record(shipped_model, given_items):
    """Any input: triples for every good record, or one RecordError naming the first bad record; nothing else."""
    if isinstance(given_items, list):
        listed = given_items
    elif given_items is None or isinstance(given_items, (bytes, int, float)):
        event("rejected whole")
        with pytest.raises(RecordError) as err:
            extract(given_items, model=shipped_model)
        assert "\n" not in str(err.value) and "extract()" in str(err.value)
        return
    else:
        listed = [given_items]
    verdicts = [expected(item, i) for i, item in enumerate(listed)]
    bad = [i for i, (reason, _, _) in enumerate(verdicts) if reason]
    event("rejected" if bad else f"processed, {min(sum(s in t for _, _, t in verdicts for s in SNIPPETS), 2)}+ snippets")
    if bad:
        for call in (extract, extract_df):
            with pytest.raises(RecordError) as err:
                call(given_items, model=shipped_model)
            message = str(err.value)
            assert message.startswith(f"[E002] record {bad[0]}: ") and "\n" not in message
        return
    df = extract_df(given_items, model=shipped_model)
    by_id: dict[str, list[str]] = {}
    for _, doc_id, text in verdicts:
        by_id.setdefault(doc_id, []).append(clean_text(text))
    assert set(df["doc_id"]) <= set(by_id)
    for row in df.itertuples():
        assert row.relation in RELATIONS and row.head != row.tail and 0.0 <= row.confidence <= 1.0
        spans = [(row.head_span["start"], row.head_span["end"]), (row.tail_span["start"], row.tail_span["end"])]
        # the evidence is a piece of the record's text, and both mentions start inside it (they may run past
        # its end: see test_a_mention_cut_by_a_sentence_split_lies_inside_its_evidence)
        assert any(all(text[a:b].strip() and 0 <= a - at < len(row.evidence) for a, b in spans)
                   for text in by_id[row.doc_id] for at in occurrences(text, row.evidence)), row
        assert row.model_version == shipped_model.version


def occurrences(text, piece):
    at = text.find(piece)
    while at >= 0 and piece:
        yield at
        at = text.find(piece, at + 1)


# Found by the extract() fuzz test: spaCy ended a sentence inside "0Solvang Cells" and the
# pair's window ended there, without the rest of the mention (fixed in stages/pairs.py).
def test_a_mention_cut_by_a_sentence_split_lies_inside_its_evidence(shipped_model):
    text = ("Norrland Capital led a $40 million funding round in Vexa AI, the Stockholm startup said on Tuesday. "
            "0Solvang Cells will supply battery packs to Ostra Motors under a five-year deal. ")
    for t in extract(text, model=shipped_model):
        for start, end in (t.head_span, t.tail_span):
            assert text[start:end] in t.evidence, (t.head, t.relation, t.tail, t.evidence)


def test_extract_rejects_what_is_not_text_with_one_line(shipped_model):
    cases = [(b"raw bytes", "extract() got bytes; decode them first"),
             (42, "extract() needs a text, a record or a list of them, got int"),
             ([ "fine", bytearray(b"x")], "record 1: got bytes; decode them first"),
             ([Article("a", None)], "record 0: Article.text is NoneType, not a string"),
             ([Article(7, "text")], "record 0: Article.doc_id is int, not a string"),
             ([Article("a", "text", published="2025-01-01")], "record 0: Article.published is str, not a date or None"),
             ([{"text": "ok"}, {"body": "x"}], "record 1: no 'text' field holding a string")]
    for bad, message in cases:
        with pytest.raises(RecordError, match=message.replace("(", r"\(").replace(")", r"\)")):
            extract(bad, model=shipped_model)


def test_unpaired_surrogates_are_replaced_not_a_crash(shipped_model, tmp_path):
    """"\\ud800" (a JSON escape, or a Python str) is not valid Unicode: spaCy and Parquet cannot encode it."""
    text = "Norrland Capital led a \ud800 funding round in Vexa AI, the startup said on Tuesday."
    triples = extract(text, model=shipped_model)
    assert ("Norrland Capital", "invests_in", "Vexa AI") in {(t.head, t.relation, t.tail) for t in triples}
    assert all("\ufffd" in t.evidence for t in triples)
    src = tmp_path / "esc.jsonl"
    src.write_text(json.dumps({"id": "s1", "text": text}) + "\n")  # json.dumps writes the \ud800 escape
    assert "\\ud800" in src.read_text()
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["extract", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning: 1 undecodable bytes were replaced with U+FFFD" in result.output
    assert "invests_in" in set(pq.read_table(out).column("relation").to_pylist())


# --------------------------------------------------------------------------- a 50 MB article

def write_big_article(path, megabytes):
    """The eight example articles, repeated to ``megabytes`` MB of plain text."""
    block = "\n\n".join(p.read_text() for p in sorted((EXAMPLES / "articles").glob("*.txt"))) + "\n\n"
    n = megabytes * 1024 * 1024
    with open(path, "w") as fh:
        for _ in range(n // len(block)):
            fh.write(block)
        fh.write(block[:n % len(block)])
    return path


def test_cap_text_cuts_at_a_line_break_or_space():
    text = "first line\nsecond line here and more words"
    assert cap_text(text, 100) == text
    assert cap_text(text, 20) == "first line\nsecond "
    assert cap_text("first line\nsecondlineislong", 18) == "first line\n"
    assert cap_text("aaaa bbbb cccc dddd", 12) == "aaaa bbbb "
    assert cap_text("x" * 50, 10) == "x" * 10


def test_reading_a_fifty_megabyte_file_with_a_cap_keeps_memory_bounded(tmp_path):
    big = write_big_article(tmp_path / "big.txt", 50)
    line = tmp_path / "long.jsonl"
    line.write_text(json.dumps({"id": "short", "text": "A short one."}) + "\n"
                    + json.dumps({"id": "long", "text": "Vexa AI partners with Norrland Labs. " * 20_000}) + "\n")
    tracemalloc.start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = list(read_articles([big, line], max_chars=100_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [a.doc_id for a in got] == ["big", "short", "long"]
    assert 90_000 < len(got[0].text) <= 100_000 and 90_000 < len(got[2].text) <= 100_000
    with open(big) as fh:
        assert got[0].text == fh.read(len(got[0].text))
    assert [str(w.message) for w in caught if issubclass(w.category, TextCappedWarning)] == [
        f"{big}: article of 52,428,800 bytes capped at its first 100,000 characters "
        "(--max-chars raises the cap, 0 removes it)",
        f"{line}:2: article of 740,000 characters capped at its first 100,000 characters "
        "(--max-chars raises the cap, 0 removes it)"]
    assert peak < 16 * 1024 * 1024  # the 50 MB file is counted, not held (without the cap: > 100 MB)


def test_fifty_megabyte_article_through_the_cli_is_capped_with_one_warning(shipped_model, tmp_path):
    big = write_big_article(tmp_path / "big.txt", 50)
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["extract", str(big), "-o", str(out), "--max-chars", "100000"])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert warned == [f"warning: {big}: article of 52,428,800 bytes capped at its first 100,000 characters "
                      "(--max-chars raises the cap, 0 removes it)"]
    assert "1 articles" in result.output and "0 skipped" in result.output
    table = pq.read_table(out).to_pylist()
    with open(big) as fh:
        head = fh.read(100_000)
    assert ("Carrow Telecom", "acquires", "Meridian Fibre") in {(r["head"], r["relation"], r["tail"]) for r in table}
    for r in table:
        assert r["doc_id"] == "big" and r["evidence"] in head
        assert r["tail_span"]["end"] <= 100_000 and head[r["head_span"]["start"]:r["head_span"]["end"]]


def test_the_cap_is_part_of_a_dataset_run_and_counted(shipped_model, tmp_path):
    big = write_big_article(tmp_path / "big.txt", 2)
    with pytest.warns(TextCappedWarning, match=r"big.txt: article of 2,097,152 bytes capped at its first 30,000"):
        summary = run_dataset([big], tmp_path / "ds", model=shipped_model, max_chars=30_000)
    manifest = json.loads((tmp_path / "ds" / "_manifest.json").read_text())
    assert summary.complete and manifest["config"]["max_chars"] == 30_000 and manifest["counts"]["capped"] == 1
    assert all(r["tail_span"]["end"] <= 30_000 for r in rows(tmp_path / "ds"))
    result = runner.invoke(app, ["extract", str(big), "-o", str(tmp_path / "ds"), "--max-chars", "40000"])
    assert result.exit_code == 1 and "max_chars 30000 -> 40000" in result.output  # not resumed with another cap


@pytest.mark.slow
def test_fifty_megabyte_article_with_the_default_cap_in_a_subprocess(tmp_path):
    """The real command, default cap (1,000,000 characters): about a minute and ~2 GB peak RSS on 2 cores."""
    big = write_big_article(tmp_path / "big.txt", 50)
    out = tmp_path / "out.parquet"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "extract", str(big), "-o", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate(timeout=1800)
    assert proc.returncode == 0, stderr
    assert (f"warning: {big}: article of 52,428,800 bytes capped at its first 1,000,000 characters "
            "(--max-chars raises the cap, 0 removes it)") in stderr.splitlines()
    assert "max_length" not in stderr and "Traceback" not in stderr
    assert pq.read_table(out).num_rows > 0


# --------------------------------------------------------------------------- a million tiny articles

WORDS = ("market shares deal supply chips energy battery plant report quarter growth profit loss revenue "
         "bank fund loan bond trade export import factory software cloud network data service retail store "
         "price demand output contract order delivery launch product customer partner investor board share "
         "dividend merger unit division region city country office staff engineer research design model").split()


def write_tiny_articles(path, n, seed=7):
    """``n`` distinct one-sentence English articles as JSON Lines."""
    rng = random.Random(seed)
    with open(path, "w") as fh:
        for i in range(n):
            words = " ".join(rng.choice(WORDS) for _ in range(10))
            fh.write(json.dumps({"id": f"t{i}", "text": f"Item {i}: the {words}."}) + "\n")
    return path


STREAM = """
import json, resource, sys
from pipeline.batch import iter_shards, read_screened
from pipeline.records import Counters
counters = Counters()
items = read_screened([sys.argv[1]], counters=counters, english_only=sys.argv[2] == "1", dedupe=False)
articles = shards = rejects = 0
first = last = None
reasons = set()
for shard in iter_shards(items, 200):
    shards += 1
    articles += len(shard.articles)
    rejects += len(shard.rejects)
    reasons.update(r.reason.split(" (")[0] for r in shard.rejects)
    if shard.articles:
        first = first or shard.articles[0].doc_id
        last = shard.articles[-1].doc_id
print(json.dumps({"articles": articles, "shards": shards, "rejects": rejects, "reasons": sorted(reasons),
                  "first": first, "last": last,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def stream_in_subprocess(path, english_only):
    """Ingest + shard planning of the batch runner, in a fresh process; its counts and peak RSS."""
    done = subprocess.run([sys.executable, "-c", STREAM, str(path), "1" if english_only else "0"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("n, english_only", [
    (200_000, False),
    pytest.param(1_000_000, True, marks=pytest.mark.slow),
])
def test_many_tiny_articles_are_streamed_in_flat_memory(tmp_path, n, english_only):
    small_run = stream_in_subprocess(write_tiny_articles(tmp_path / "small.jsonl", 2_000), english_only)
    big_run = stream_in_subprocess(write_tiny_articles(tmp_path / "big.jsonl", n), english_only)
    assert small_run["articles"] == 2_000 and small_run["shards"] == 10
    # every line is an article or a reject (the language check calls a few random-word lines not English)
    assert big_run["articles"] + big_run["rejects"] == n and big_run["rejects"] <= (n // 10_000 if english_only else 0)
    assert big_run["reasons"] == (["not English"] if big_run["rejects"] else [])
    assert big_run["shards"] == -(-big_run["articles"] // 200) and big_run["first"] == "t0"
    # n / 2,000 times the articles, the same memory: nothing grows with the number of articles read
    assert big_run["maxrss_kb"] - small_run["maxrss_kb"] < 48 * 1024, (small_run, big_run)


def test_cli_batch_run_over_thousands_of_tiny_articles(shipped_model, tmp_path):
    src = write_tiny_articles(tmp_path / "tiny.jsonl", 3_000)
    out = tmp_path / "ds"
    result = runner.invoke(app, ["extract", str(src), "-o", str(out), "--shard-size", "500"])
    assert result.exit_code == 0, result.output
    assert "3000 articles" in result.output and "0 skipped" in result.output and "6 parts" in result.output
    assert sorted(p.name for p in out.glob("part-*.parquet")) == [f"part-{k:05d}.parquet" for k in range(6)]
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["counts"]["articles"] == 3_000
    assert [(s["first"], s["last"]) for s in manifest["shards"]] == [
        (f"t{k * 500}", f"t{k * 500 + 499}") for k in range(6)]
    assert (out / "_SUCCESS").exists() and not stray_files(out)
    pads.dataset(out).to_table()  # the parts read as one table


# --------------------------------------------------------------------------- a dask worker killed mid-run

class _Transitions:
    """A scheduler plugin that records every task's state changes (the scheduler runs in this process)."""

    name = "alliances-test-transitions"

    def __init__(self):
        self.log = []

    def transition(self, key, start, finish, *args, **kwargs):
        self.log.append((key, start, finish))


def test_dask_worker_killed_mid_shard_is_retried_without_loss_or_duplicates(small, model, loose_model_dir, tmp_path):
    distributed = pytest.importorskip("distributed")
    clean_run = run_dataset([small], tmp_path / "clean", model=model, shard_size=1)  # in this process, no faults
    assert clean_run.complete and clean_run.shards == 10
    from distributed.diagnostics.plugin import SchedulerPlugin

    plugin = type("Transitions", (_Transitions, SchedulerPlugin), {})()
    killed = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit=0) as cluster:
        cluster.scheduler.add_plugin(plugin)

        def progress(summary):
            if killed:
                return
            busy = [ws for ws in cluster.scheduler.workers.values() if ws.processing]
            if busy:  # a worker holding a shard's task right now: kill its process
                os.kill(busy[0].pid, signal.SIGKILL)
                killed.append((busy[0].pid, [ts.key for ts in busy[0].processing]))

        summary = run_dataset([small], tmp_path / "ds", model=loose_model_dir, shard_size=1, engine="dask",
                              scheduler=cluster.scheduler_address, workers=2, progress=progress)
    assert killed, "no worker was busy when a shard was committed"
    assert summary.complete and summary.shards_written == 10 and summary.articles == 10
    pid, keys = killed[0]
    for key in keys:  # each task lost with the killed worker went back to the queue and ran again to the end
        states = [(start, finish) for k, start, finish in plugin.log if k == key]
        lost = states.index(("processing", "released"))  # the worker died holding it
        assert [s for s in states[lost:] if s[1] == "processing"] and ("processing", "memory") in states[lost:], states
    # no loss, no duplicates: exactly the rows of the uninterrupted run
    assert_same_rows(rows(tmp_path / "ds"), rows(tmp_path / "clean"))
    assert not stray_files(tmp_path / "ds")
    assert sorted(p.name for p in (tmp_path / "ds").glob("part-*.parquet")) == [f"part-{k:05d}.parquet" for k in range(10)]


# --------------------------------------------------------------------------- disk full, one-file output

def test_disk_full_while_writing_one_parquet_file_is_one_line_and_leaves_nothing(small, loose_model_dir, tmp_path,
                                                                                 monkeypatch):
    import errno

    def full(self, table, *args, **kwargs):
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    out = tmp_path / "out" / "one.parquet"
    out.parent.mkdir()
    result = runner.invoke(app, ["extract", str(small), "-o", str(out), "--model", str(loose_model_dir)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (f"error: [E005] {out}: cannot be written ([errno 28] No space left on "
                                              "device); nothing was written")
    assert list(out.parent.iterdir()) == []  # neither the file nor its temporary


# --------------------------------------------------------------------------- unreadable directories, odd names

def test_an_unreadable_subdirectory_stops_the_run_instead_of_losing_its_articles(tmp_path, monkeypatch):
    from pipeline.errors import InputError
    from pipeline.stages import ingest
    from pipeline.stages.ingest import list_inputs

    (tmp_path / "news" / "sub").mkdir(parents=True)
    (tmp_path / "news" / "a.txt").write_text("Vexa AI partners with Norrland Labs.")
    (tmp_path / "news" / "sub" / "b.txt").write_text("Norrland Labs supplies Vexa AI.")
    assert [p.name for p, _ in list_inputs([tmp_path / "news"])] == ["a.txt", "b.txt"]
    locked = tmp_path / "news" / "sub"
    if os.geteuid() == 0:  # root lists any directory: make this one fail as it does for other users
        real_scandir = os.scandir

        def scandir(path="."):
            if str(path) == str(locked):
                raise PermissionError(13, "Permission denied", str(path))
            return real_scandir(path)

        monkeypatch.setattr(ingest.os, "scandir", scandir)
    else:
        locked.chmod(0)
    try:
        with pytest.raises(InputError, match=rf"^\[E001\] {locked}: cannot be read \(permission denied\)$"):
            list_inputs([tmp_path / "news"])
    finally:
        locked.chmod(0o755)


def test_a_file_name_that_is_not_utf8_still_gives_a_parquet_file(shipped_model, tmp_path):
    """Such names decode to unpaired surrogates (surrogateescape), which Parquet cannot store."""
    folder = tmp_path / "news"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"\xff\xfe-story.txt"), "w") as fh:
        fh.write("Vexa AI said on Tuesday that it had agreed a multi-year partnership with Norrland Labs.")
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["extract", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out).to_pylist()
    assert table and {r["doc_id"] for r in table} == {"\ufffd\ufffd-story"}
    assert all(r["source"].endswith("\ufffd\ufffd-story.txt") for r in table)


# --------------------------------------------------------------------------- untrusted model directories

def test_a_tampered_model_directory_is_a_clear_error_and_no_pickle_is_loaded(tmp_path):
    import pickle

    from pipeline.errors import ModelError
    from pipeline.models import default_model_dir, load_model

    def copy(name):
        return shutil.copytree(default_model_dir(), tmp_path / name)

    marker = tmp_path / "PWNED"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    pickled = copy("pickled")
    (pickled / "relations" / "model.safetensors").unlink()
    (pickled / "relations" / "pytorch_model.bin").write_bytes(pickle.dumps({"weights": Payload()}))
    future = copy("future")
    meta = json.loads((future / "meta.json").read_text())
    (future / "meta.json").write_text(json.dumps({**meta, "format_version": 99}))
    labels = copy("labels")
    config = json.loads((labels / "relations" / "config.json").read_text())
    (labels / "relations" / "config.json").write_text(json.dumps({**config, "labels": ["sues>", *config["labels"][1:]]}))
    missing = copy("missing")
    (missing / "relations" / "config.json").unlink()
    cases = [(tmp_path / "nowhere", "no model directory here"),
             (pickled, "relations: missing model.safetensors; retrain with `alliances train`"),
             (future, "meta.json: model format 99; this version of alliances reads format 1"),
             (labels, "relations: labels .* are not the schema's relations"),
             (missing, "relations: missing config.json")]
    for directory, message in cases:
        with pytest.raises(ModelError, match=message) as e:
            load_model(directory)
        assert str(e.value).startswith(f"[E003] {directory}") and "\n" not in str(e.value)
    assert not marker.exists()  # the pickle was never unpickled


def test_a_shard_dask_gives_up_on_stops_the_run_with_one_line_and_resumes(small, model, loose_model_dir, tmp_path):
    """With no failures allowed, dask raises KilledWorker: the run stops with an AlliancesError, nothing half-written."""
    import threading
    import time

    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    from pipeline.errors import AlliancesError

    out = tmp_path / "ds"
    stop = threading.Event()
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                     memory_limit=0) as cluster:
        def killer():
            while not stop.is_set():
                busy = [ws for ws in cluster.scheduler.workers.values() if ws.processing]
                if busy:
                    os.kill(busy[0].pid, signal.SIGKILL)
                    return
                time.sleep(0.01)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        try:
            with pytest.raises(AlliancesError) as e:
                run_dataset([small], out, model=loose_model_dir, shard_size=10, engine="dask",
                            scheduler=cluster.scheduler_address)
        finally:
            stop.set()
            thread.join()
    message = str(e.value)
    assert message.startswith("[E000] part-00000.parquet: dask workers died while processing this shard (")
    assert message.endswith("nothing of it was written, re-run to resume") and "\n" not in message
    assert not list(out.glob("part-*.parquet")) and not stray_files(out)
    assert json.loads((out / "_manifest.json").read_text())["status"] == "failed"
    summary = run_dataset([small], out, model=model, shard_size=10)  # re-run: resumes and completes
    assert summary.complete and summary.articles == 10 and (out / "_SUCCESS").exists()
