"""Batch runs into a dataset directory: layout, readers, resume, exactly-once under failures, workers, dask."""
from __future__ import annotations

import errno
import fcntl
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time

import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import EXAMPLES, ROOT
from pipeline import batch
from pipeline.batch import iter_shards, run_dataset
from pipeline.cli import app
from pipeline.errors import OutputError
from pipeline.models import load_model
from pipeline.stages.write import SCHEMA

KEY = ("doc_id", "head", "relation", "tail")


# -- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def loose_model_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model with every threshold at 0 and no document gate, so each candidate pair
    gives rows to compare."""
    out = tmp_path_factory.mktemp("models") / "loose"
    shutil.copytree(tiny_model_dir, out)
    meta = json.loads((out / "meta.json").read_text())
    meta["thresholds"] = {rel: 0.0 for rel in meta["thresholds"]}
    meta.pop("document_gate", None)
    meta["version"] = "tiny-loose"
    (out / "meta.json").write_text(json.dumps(meta))
    return out


@pytest.fixture(scope="module")
def model(loose_model_dir):
    return load_model(loose_model_dir)


def _write_articles(path, n, rejects_after=()):
    """``n`` news articles from corpus/docs as JSON Lines, with a bad line after the given article numbers."""
    texts = []
    for name in sorted((ROOT / "corpus" / "docs").glob("*.jsonl")):
        for line in name.read_text().splitlines():
            rec = json.loads(line)
            if rec.get("text", "").strip():
                texts.append((rec["doc_id"], rec["text"][:1200], rec.get("published")))
            if len(texts) >= n:
                break
        if len(texts) >= n:
            break
    assert len(texts) == n
    with open(path, "w") as fh:
        for i, (doc_id, text, date) in enumerate(texts):
            fh.write(json.dumps({"id": doc_id, "text": text, "date": date}) + "\n")
            if i in rejects_after:
                fh.write("{not json\n" if i % 2 else json.dumps({"id": f"empty-{i}", "text": "  "}) + "\n")
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """10 articles and 2 bad records -> shards of 4: [0-4) with a reject, [4-8) with a reject, [8-10)."""
    return _write_articles(tmp_path_factory.mktemp("in") / "small.jsonl", 10, rejects_after=(1, 6))


@pytest.fixture(scope="module")
def clean(small, model, tmp_path_factory):
    """An uninterrupted run on ``small``: (directory, sorted rows)."""
    out = tmp_path_factory.mktemp("clean") / "ds"
    summary = run_dataset([small], out, model=model, shard_size=4)
    assert summary.complete and summary.shards == 3
    return out, rows(out)


def rows(directory):
    table = pq.read_table(directory)
    return sorted(table.to_pylist(), key=lambda r: tuple(r[k] for k in KEY))


def assert_same_rows(got, want):
    assert len(got) == len(want) > 0
    assert [tuple(r[k] for k in KEY) for r in got] == [tuple(r[k] for k in KEY) for r in want]
    for a, b in zip(got, want):
        # bfloat16 scores move by ~0.002 with the number of windows batched together.
        assert a["confidence"] == pytest.approx(b["confidence"], abs=5e-3)
        assert {k: v for k, v in a.items() if k != "confidence"} == {k: v for k, v in b.items() if k != "confidence"}


def article_ids(path):
    ids = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec["text"].strip():
            ids.append(rec["id"])
    return ids


def stray_files(directory):
    """Temporary files left behind (the run must clean them)."""
    return [p.name for d in (directory, directory / "_rejects") if d.exists() for p in d.iterdir()
            if p.name.endswith(".tmp")]


def parts(directory):
    return sorted(p.name for p in directory.glob("part-*.parquet"))


# -- layout and readers --------------------------------------------------------------------

def test_shards_are_cut_by_article_position():
    from pipeline.records import Article
    from pipeline.stages.ingest import Reject

    items = [Reject("f:1", "x")] + [Article(str(i), "text") for i in range(5)] + [Reject("f:9", "y")]
    shards = list(iter_shards(items, 2))
    assert [[a.doc_id for a in s.articles] for s in shards] == [["0", "1"], ["2", "3"], ["4"]]
    assert [[r.where for r in s.rejects] for s in shards] == [["f:1"], [], ["f:9"]]
    assert [len(s.articles) for s in iter_shards(items, 2, limit=3)] == [2, 1]
    assert len(list(iter_shards([], 2))) == 1  # an empty input still gives one (empty) part


def test_dataset_layout_manifest_rejects_and_three_readers(clean, small, model, tmp_path):
    out, want = clean
    assert parts(out) == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert (out / "_SUCCESS").exists() and not stray_files(out)
    assert all(p.name.startswith(("_", ".")) or p.suffix == ".parquet" for p in out.iterdir())
    for part in parts(out):
        assert pq.read_schema(out / part).remove_metadata().equals(SCHEMA)

    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["config"]["shard_size"] == 4 and manifest["config"]["format"] == "auto"
    assert manifest["config"]["fields"]["text"] == "text" and manifest["config"]["model_version"] == "tiny-loose"
    assert manifest["inputs"][0]["path"] == str(small.resolve())
    assert manifest["counts"]["articles"] == 10 and manifest["counts"]["rejects"] == 2
    assert manifest["counts"]["triples"] == len(want)
    assert [s["articles"] for s in manifest["shards"]] == [4, 4, 2]
    assert manifest["runs"][0]["seconds"] > 0

    # each reject is listed once, in the shard that was being filled when it was met
    listed = {p.name: [json.loads(line) for line in p.read_text().splitlines()] for p in (out / "_rejects").iterdir()}
    assert sorted(listed) == ["part-00000.jsonl", "part-00001.jsonl"]
    assert [r["where"] for r in listed["part-00000.jsonl"]] == [f"{small}:3"]
    assert "not valid JSON" in listed["part-00000.jsonl"][0]["reason"]
    assert [r["where"] for r in listed["part-00001.jsonl"]] == [f"{small}:9"]
    assert listed["part-00001.jsonl"][0]["reason"] == "empty text"

    # the same rows as a single-file run
    from pipeline.extract import run

    run([small], tmp_path / "one.parquet", model=model)
    assert_same_rows(rows(tmp_path / "one.parquet"), want)

    import pandas as pd

    df = pd.read_parquet(out)
    assert len(df) == len(want) and list(df.columns) == SCHEMA.names
    table = pads.dataset(out, format="parquet").to_table()
    assert table.num_rows == len(want) and table.schema.remove_metadata().equals(SCHEMA)
    duckdb = pytest.importorskip("duckdb")
    [(n, docs)] = duckdb.sql(f"select count(*), count(distinct doc_id) from read_parquet('{out}/*.parquet')").fetchall()
    assert n == len(want) and docs == len({r["doc_id"] for r in want})


def test_an_empty_shard_still_writes_an_empty_part(model, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "the weather was mild and nobody signed anything."}) + "\n"
                   + "{broken\n" + json.dumps({"id": "b", "text": "rain later today."}) + "\n")
    summary = run_dataset([src], tmp_path / "ds", model=model, shard_size=1)
    assert parts(tmp_path / "ds") == ["part-00000.parquet", "part-00001.parquet"]
    assert summary.triples == 0 and summary.rejects == 1
    assert pq.read_table(tmp_path / "ds").num_rows == 0
    assert pq.read_table(tmp_path / "ds" / "part-00001.parquet").schema.remove_metadata().equals(SCHEMA)


# -- resume, config checks, lock -------------------------------------------------------------

def test_rerun_skips_done_shards_and_redoes_a_missing_one(clean, small, model, tmp_path, monkeypatch):
    out = tmp_path / "ds"
    shutil.copytree(clean[0], out)
    (out / "part-00001.parquet").unlink()
    (out / "_SUCCESS").unlink()
    calls = []
    real = batch.process_articles
    monkeypatch.setattr(batch, "process_articles", lambda m, arts, bs=16: calls.append(len(arts)) or real(m, arts, bs))
    summary = run_dataset([small], out, model=model, shard_size=4)
    assert calls == [4]
    assert summary.shards_written == 1 and summary.shards_resumed == 2 and summary.articles == 10
    assert_same_rows(rows(out), clean[1])
    assert (out / "_SUCCESS").exists()
    assert len(json.loads((out / "_manifest.json").read_text())["runs"]) == 2
    calls.clear()
    run_dataset([small], out, model=model, shard_size=4)  # complete: nothing to do
    assert calls == []


def test_other_config_or_inputs_are_refused_unless_overwrite(clean, small, model, tmp_path):
    out = tmp_path / "ds"
    shutil.copytree(clean[0], out)
    with pytest.raises(OutputError, match=r"different configuration \(shard_size 4 -> 5\).*--overwrite") as e:
        run_dataset([small], out, model=model, shard_size=5)
    assert "\n" not in str(e.value)
    changed = tmp_path / "small.jsonl"
    changed.write_text(small.read_text() + json.dumps({"id": "extra", "text": "Extra text."}) + "\n")
    with pytest.raises(OutputError, match="different inputs"):
        run_dataset([changed], out, model=model, shard_size=4)
    with pytest.raises(OutputError, match="limit"):
        run_dataset([small], out, model=model, shard_size=4, limit=5)
    summary = run_dataset([small], out, model=model, shard_size=5, limit=7, overwrite=True)
    assert parts(out) == ["part-00000.parquet", "part-00001.parquet"] and summary.articles == 7
    assert json.loads((out / "_manifest.json").read_text())["config"]["shard_size"] == 5
    first7 = article_ids(small)[:7]
    assert_same_rows(rows(out), [r for r in clean[1] if r["doc_id"] in first7])


def test_a_directory_of_other_files_is_refused(small, model, tmp_path):
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not part of an alliances dataset"):
        run_dataset([small], tmp_path / "ds", model=model, overwrite=True)
    assert (tmp_path / "ds" / "notes.txt").exists()


def test_a_second_run_on_the_same_output_is_refused(small, model, tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    with open(out / ".lock", "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(OutputError, match="another run .* is writing this dataset"):
            run_dataset([small], out, model=model, shard_size=4)
    assert parts(out) == []
    run_dataset([small], out, model=model, shard_size=4, limit=1)  # lock released: runs
    assert parts(out) == ["part-00000.parquet"]


# -- failures: exactly once ----------------------------------------------------------------

class Crash(BaseException):
    """Stands for the process dying at that point (nothing after it runs, no cleanup of ours)."""


@pytest.mark.parametrize("point", ["after_rejects", "before_rename", "after_rename"])
def test_a_crash_at_any_step_of_a_commit_resumes_to_the_same_rows(point, clean, small, model, tmp_path, monkeypatch):
    out = tmp_path / "ds"
    real_replace, seen = os.replace, []

    def replace(src, dst):
        name = os.path.basename(dst)
        if name == "part-00001.parquet" and point == "before_rename":
            raise Crash()
        real_replace(src, dst)
        if name == "part-00001.jsonl" and point == "after_rejects":
            raise Crash()
        if name == "part-00001.parquet" and point == "after_rename":
            raise Crash()
        seen.append(name)

    monkeypatch.setattr(batch.os, "replace", replace)
    monkeypatch.setattr(batch, "_quietly", lambda fn, *a: None)  # a dead process updates no manifest
    with pytest.raises(Crash):
        run_dataset([small], out, model=model, shard_size=4)
    monkeypatch.undo()
    assert not (out / "_SUCCESS").exists()
    (out / ".part-00001.parquet.99999.tmp").write_bytes(b"PAR1 left by a killed run")
    expected = ["part-00000.parquet"] + (["part-00001.parquet"] if point == "after_rename" else [])
    assert parts(out) == expected
    assert pq.read_table(out).num_rows == sum(pq.read_metadata(out / p).num_rows for p in expected)
    summary = run_dataset([small], out, model=model, shard_size=4)
    assert summary.shards_resumed == len(expected)
    assert_same_rows(rows(out), clean[1])
    assert sum(len(p.read_text().splitlines()) for p in (out / "_rejects").iterdir()) == 2
    assert not stray_files(out)


def test_disk_full_stops_with_one_line_keeps_parts_and_resumes(clean, small, model, tmp_path, monkeypatch):
    out = tmp_path / "ds"
    real_write, calls = batch._write_table, []

    def write(table, path):
        calls.append(path)
        if len(calls) == 2:
            path.write_bytes(b"PAR1 half a file")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_write(table, path)

    monkeypatch.setattr(batch, "_write_table", write)
    with pytest.raises(OutputError) as e:
        run_dataset([small], out, model=model, shard_size=4)
    message = str(e.value)
    assert "\n" not in message and "part-00001.parquet: cannot be written (No space left on device)" in message
    assert parts(out) == ["part-00000.parquet"] and not stray_files(out)
    pq.read_table(out / "part-00000.parquet")  # the finished part is valid
    assert json.loads((out / "_manifest.json").read_text())["status"] == "failed"
    monkeypatch.undo()
    assert run_dataset([small], out, model=model, shard_size=4).shards_resumed == 1
    assert_same_rows(rows(out), clean[1])


def interrupt_second_shard(monkeypatch) -> None:
    """Make the run raise KeyboardInterrupt (Ctrl-C) when it starts its second shard."""
    real, calls = batch.process_articles, []

    def process(m, articles, bs=16):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(m, articles, bs)

    monkeypatch.setattr(batch, "process_articles", process)


def test_ctrl_c_stops_cleanly_and_resumes(clean, small, model, tmp_path, monkeypatch):
    out = tmp_path / "ds"
    interrupt_second_shard(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        run_dataset([small], out, model=model, shard_size=4)
    assert parts(out) == ["part-00000.parquet"] and not stray_files(out)
    assert json.loads((out / "_manifest.json").read_text())["status"] == "interrupted"
    monkeypatch.undo()
    run_dataset([small], out, model=model, shard_size=4)
    assert_same_rows(rows(out), clean[1])


def test_sigkill_of_the_cli_then_resume_gives_the_rows_of_a_clean_run(model, loose_model_dir, tmp_path):
    src = _write_articles(tmp_path / "news.jsonl", 40, rejects_after=(5, 22))
    clean_dir = tmp_path / "clean"
    run_dataset([src], clean_dir, model=model, shard_size=4)
    out = tmp_path / "ds"
    cmd = [sys.executable, "-m", "pipeline", "extract", str(src), "-o", str(out), "--shard-size", "4",
           "--model", str(loose_model_dir), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (out / "part-00000.parquet").exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "_SUCCESS").exists() and len(parts(out)) < 10  # killed mid-run
    done_before = len(parts(out))
    resumed = subprocess.run(cmd[:-1], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done_before} resumed from an earlier run" in resumed.stdout
    assert parts(out) == [f"part-{k:05d}.parquet" for k in range(10)]
    assert not stray_files(out) and (out / "_SUCCESS").exists()
    assert_same_rows(rows(out), rows(clean_dir))
    rejects = [line for p in (out / "_rejects").iterdir() for line in p.read_text().splitlines()]
    assert len(rejects) == 2


# -- workers and dask ----------------------------------------------------------------------

def test_two_worker_processes_survive_a_killed_worker(clean, small, loose_model_dir, tmp_path):
    killed = []

    def progress(summary):
        if not killed:
            workers = [p for p in multiprocessing.active_children() if type(p).__name__ == "SpawnProcess"]
            assert workers
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(workers[0].pid)

    summary = run_dataset([small], tmp_path / "ds", model=loose_model_dir, shard_size=2, workers=2, progress=progress)
    assert killed and summary.complete and summary.shards_written == 5
    assert summary.retries >= 1
    assert_same_rows(rows(tmp_path / "ds"), clean[1])
    assert not stray_files(tmp_path / "ds")


def test_dask_engine_commits_the_same_shards(clean, small, loose_model_dir, model, tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "ds"
    shutil.copytree(clean[0], out)
    (out / "part-00002.parquet").unlink()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        summary = run_dataset([small], out, model=loose_model_dir, shard_size=4, engine="dask",
                              scheduler=cluster.scheduler_address)
        assert summary.shards_written == 1 and summary.shards_resumed == 2
        assert_same_rows(rows(out), clean[1])
        fresh = run_dataset([small], tmp_path / "fresh", model=loose_model_dir, shard_size=4, engine="dask",
                            scheduler=cluster.scheduler_address)
    assert fresh.shards_written == 3
    assert_same_rows(rows(tmp_path / "fresh"), clean[1])


# -- CLI and the real model ----------------------------------------------------------------

def test_cli_writes_a_directory_unless_the_name_ends_in_parquet(small, loose_model_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "ds"
    result = runner.invoke(app, ["extract", str(small), "-o", str(out), "--model", str(loose_model_dir),
                                 "--shard-size", "4", "--limit", "6"])
    assert result.exit_code == 0, result.output
    assert "6 articles" in result.output and "1 skipped" in result.output and f"wrote {out}/" in result.output
    assert parts(out) == ["part-00000.parquet", "part-00001.parquet"]
    result = runner.invoke(app, ["extract", str(small), "-o", str(out), "--model", str(loose_model_dir),
                                 "--shard-size", "3"])
    assert result.exit_code == 1 and "different configuration" in result.output
    assert result.output.strip().count("\n") == 0
    result = runner.invoke(app, ["extract", str(small), "-o", str(tmp_path / "one.parquet"), "--workers", "2"])
    assert result.exit_code == 1 and "--workers apply to a dataset directory" in result.output
    assert not (tmp_path / "one.parquet").exists()


def test_real_model_dataset_matches_the_single_file_run(shipped_model, tmp_path):
    from pipeline.extract import run

    summary = run_dataset([EXAMPLES / "articles"], tmp_path / "ds", model=shipped_model, shard_size=3)
    run([EXAMPLES / "articles"], tmp_path / "one.parquet", model=shipped_model)
    assert summary.articles == 8 and summary.shards == 3
    assert summary.model_version == shipped_model.version
    assert_same_rows(rows(tmp_path / "ds"), rows(tmp_path / "one.parquet"))


# -- screening: language and duplicates ------------------------------------------------------

ORIGINAL = ("Vexa AI said on Tuesday that it had agreed a multi-year partnership with Norrland Labs to design "
            "low-power chips for data centres, in a deal that both companies described as the largest in their "
            "history. Under the agreement, Norrland Labs will supply custom processors to Vexa AI for at least five "
            "years, and the two companies will set up a joint research team in Stockholm with about two hundred "
            "engineers. Vexa AI will also take a minority stake in Norrland Labs, buying newly issued shares worth "
            "150 million dollars, the companies said in a statement. Analysts said the partnership gives Vexa AI a "
            "secure supply of chips at a time when demand for computing power far outstrips what manufacturers can "
            "build, while Norrland gains a large and reliable customer for its first generation of products. The "
            "deal still needs the approval of regulators in Sweden and the European Union, which is expected before "
            "the end of the year. Shares of Norrland Labs rose eleven percent in early trading after the announcement.")
#: The same story with a few words changed (another outlet's copy of the wire story).
NEAR = (ORIGINAL.replace("on Tuesday", "on Wednesday").replace("eleven percent", "nine percent")
        .replace("Analysts said", "Several analysts said"))
FRENCH = ("Renault et Nissan ont annoncé mardi un nouvel accord de partenariat industriel pour développer "
          "ensemble des véhicules électriques destinés au marché européen, selon un communiqué. Les deux "
          "constructeurs partageront leurs usines et leurs plateformes techniques pendant dix ans.")
OTHER = ("Halden Grocers has signed a supply agreement with Brightfield Farms under which the farm cooperative "
         "will provide own-label vegetables to all of the chain's three hundred stores from next spring. The "
         "contract runs for four years and covers potatoes, carrots and onions, Halden said in a statement.")
THIRD = ("Pelican Air and Coastal Airways announced a code-share agreement on routes between northern Europe and "
         "the Mediterranean, letting passengers book connecting flights on a single ticket. The airlines said "
         "they would also coordinate schedules and share airport lounges in Oslo and Barcelona.")


def write_screening_folder(directory):
    """An English article, its near duplicate, an exact copy and a French article (read in this order)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in (("a_original", ORIGINAL), ("b_near", NEAR), ("c_copy", ORIGINAL), ("d_french", FRENCH)):
        (directory / f"{name}.txt").write_text(text)
    return directory


def rejects_of(directory):
    return [json.loads(line) for p in sorted((directory / "_rejects").glob("*.jsonl"))
            for line in p.read_text().splitlines()]


def duplicates_of(directory):
    return [(r["doc_id"], r["duplicate_of"], r["kind"])
            for r in map(json.loads, (directory / "_duplicates.jsonl").read_text().splitlines())]


def test_dataset_skips_non_english_and_duplicates_and_lists_the_pairs(model, tmp_path):
    src = write_screening_folder(tmp_path / "in")
    out = tmp_path / "ds"
    summary = run_dataset([src], out, model=model, shard_size=1)
    assert summary.articles == 1 and summary.rejects == 3
    assert summary.duplicates == 2 and summary.non_english == 1
    assert set(pq.read_table(out).column("doc_id").to_pylist()) == {"a_original"}
    reasons = {r["where"]: r["reason"] for r in rejects_of(out)}
    assert reasons == {str(src / "b_near.txt"): "near-duplicate of 'a_original'",
                       str(src / "c_copy.txt"): "duplicate of 'a_original'",
                       str(src / "d_french.txt"): "not English (detected 'fr')"}
    assert duplicates_of(out) == [("b_near", "a_original", "near"), ("c_copy", "a_original", "exact")]
    assert [f"{d.doc_id} -> {d.duplicate_of}" for d in summary.duplicate_samples] == [
        "b_near -> a_original", "c_copy -> a_original"]
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["config"]["english_only"] is True and manifest["config"]["dedupe"] is True
    assert manifest["counts"]["duplicates"] == 2 and manifest["counts"]["non_english"] == 1
    assert manifest["duplicates_file"] == "_duplicates.jsonl"
    assert sum(s["duplicates"] for s in manifest["shards"]) == 2

    # other screening settings are another configuration: refused, not mixed in
    with pytest.raises(OutputError, match=r"dedupe true -> false"):
        run_dataset([src], out, model=model, shard_size=1, dedupe=False)
    with pytest.raises(OutputError, match=r"english_only true -> false"):
        run_dataset([src], out, model=model, shard_size=1, english_only=False)

    everything = run_dataset([src], tmp_path / "all", model=model, shard_size=1, english_only=False, dedupe=False)
    assert everything.articles == 4 and everything.rejects == 0
    assert everything.duplicates == 0 and everything.non_english == 0
    assert set(pq.read_table(tmp_path / "all").column("doc_id").to_pylist()) <= {
        "a_original", "b_near", "c_copy", "d_french"}
    assert not (tmp_path / "all" / "_duplicates.jsonl").exists()
    assert json.loads((tmp_path / "all" / "_manifest.json").read_text())["config"]["dedupe"] is False


def test_duplicate_reports_are_the_same_after_an_interrupted_and_a_finished_resume(model, tmp_path, monkeypatch):
    src = tmp_path / "in"
    src.mkdir()
    # shards of 1: [1_a], [3_b] + reject 2_a_near, [6_c] + rejects 4_b_copy, 5_fr: the original of
    # 2_a_near is in shard 0, which the resumed run does not process again
    for name, text in (("1_a", ORIGINAL), ("2_a_near", NEAR), ("3_b", OTHER), ("4_b_copy", OTHER),
                       ("5_fr", FRENCH), ("6_c", THIRD)):
        (src / f"{name}.txt").write_text(text)
    want_pairs = [("2_a_near", "1_a", "near"), ("4_b_copy", "3_b", "exact")]
    clean_dir = tmp_path / "clean"
    run_dataset([src], clean_dir, model=model, shard_size=1)
    assert duplicates_of(clean_dir) == want_pairs

    out = tmp_path / "ds"
    interrupt_second_shard(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        run_dataset([src], out, model=model, shard_size=1)
    monkeypatch.undo()
    assert parts(out) == ["part-00000.parquet"]
    assert not (out / "_duplicates.jsonl").exists() and not stray_files(out)

    for _ in range(2):  # resume the interrupted run, then "resume" the finished one
        summary = run_dataset([src], out, model=model, shard_size=1)
        assert summary.duplicates == 2 and summary.non_english == 1 and summary.rejects == 3
        assert [d.pair() for d in summary.duplicate_samples] == ["2_a_near near-duplicates 1_a",
                                                                  "4_b_copy duplicates 3_b"]
        assert duplicates_of(out) == want_pairs
        assert (out / "_duplicates.jsonl").read_text() == (clean_dir / "_duplicates.jsonl").read_text()
        assert rejects_of(out) == rejects_of(clean_dir)
        manifest = json.loads((out / "_manifest.json").read_text())
        assert manifest["counts"]["duplicates"] == 2 and manifest["counts"]["non_english"] == 1
        assert not stray_files(out) and not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    assert summary.shards_resumed == 3 and summary.shards_written == 0
    assert_same_rows(rows(out), rows(clean_dir))


def test_single_file_run_skips_and_names_duplicates(model, tmp_path):
    from pipeline.batch import Screened
    from pipeline.extract import run

    src = write_screening_folder(tmp_path / "in")
    summary = run([src], tmp_path / "one.parquet", model=model)
    assert summary.articles == 1
    screened = [r for r in summary.rejects if isinstance(r, Screened)]
    assert [(r.kind, r.doc_id, r.duplicate_of) for r in screened] == [
        ("duplicate", "b_near", "a_original"), ("duplicate", "c_copy", "a_original"), ("non_english", None, None)]
    assert summary.counters.extra["duplicates"] == 2 and summary.counters.extra["not_english"] == 1
    summary = run([src], tmp_path / "all.parquet", model=model, english_only=False, dedupe=False)
    assert summary.articles == 4 and summary.rejects == []


def test_estimate_counts_only_uncompressed_lines(tmp_path):
    import gzip

    import zstandard

    from pipeline.batch import estimate_articles

    lines = b"".join(json.dumps({"id": f"d{i}", "text": f"Article {i}.\n" * 3}).encode() + b"\n" for i in range(50))
    (tmp_path / "plain.jsonl").write_bytes(lines)
    (tmp_path / "noname").write_bytes(lines)  # sniffed as JSON Lines
    assert estimate_articles([tmp_path / "plain.jsonl"]) == 50
    assert estimate_articles([tmp_path / "noname"]) == 50
    assert estimate_articles([tmp_path / "plain.jsonl"], limit=7) == 7
    # compressed: the newlines of the compressed bytes mean nothing, whatever the name says
    (tmp_path / "news.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(lines * 40))
    (tmp_path / "news.jsonl.gz").write_bytes(gzip.compress(lines * 40))
    (tmp_path / "misnamed.jsonl").write_bytes(gzip.compress(lines * 40))
    (tmp_path / "nosuffix").write_bytes(zstandard.ZstdCompressor().compress(lines))
    for name in ("news.jsonl.zst", "news.jsonl.gz", "misnamed.jsonl", "nosuffix"):
        assert estimate_articles([tmp_path / name]) is None, name
    # a compressed text file or HTML page is still one article
    (tmp_path / "one.txt.gz").write_bytes(gzip.compress(b"One article.\n" * 100))
    assert estimate_articles([tmp_path / "plain.jsonl", tmp_path / "one.txt.gz"]) == 51
