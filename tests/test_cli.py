"""The alliances command line, through typer's CliRunner and as a real subprocess."""
from __future__ import annotations

import re
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import DATA, EXAMPLES, ROOT
from pipeline.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", ["extract", "train", "evaluate", "info"])
def test_every_command_has_help_with_an_example(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example: alliances" in result.output


def test_extract_examples_writes_parquet_and_summary(tmp_path, shipped_model):
    out = tmp_path / "examples.parquet"
    result = runner.invoke(app, ["extract", str(EXAMPLES / "articles"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert re.search(r"8 articles, [\d,]+ words, \d+ triples", result.output)
    table = pq.read_table(out)
    assert table.num_rows >= 5
    assert set(table.column("model_version").to_pylist()) == {shipped_model.version}


def test_extract_reads_stdin_jsonl(tmp_path, shipped_model):
    out = tmp_path / "stdin.parquet"
    line = '{"id": "s1", "text": "Norrland Capital led a $40 million funding round in Vexa AI, the startup said."}\n'
    result = runner.invoke(app, ["extract", "-", "-o", str(out)], input=line + "{oops\n")
    assert result.exit_code == 0, result.output
    assert "skipped <stdin>:2: not valid JSON" in result.output
    assert set(pq.read_table(out).column("doc_id").to_pylist()) <= {"s1"}


def test_missing_input_is_a_one_line_error_and_writes_nothing(tmp_path):
    out = tmp_path / "x.parquet"
    result = runner.invoke(app, ["extract", str(tmp_path / "nope"), "-o", str(out)])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "nope: no such file or directory" in result.output
    assert not out.exists()


def test_evaluate_prints_per_relation_table(shipped_model):
    result = runner.invoke(app, ["evaluate", str(EXAMPLES / "examples_gold.jsonl"), str(EXAMPLES / "articles")])
    assert result.exit_code == 0, result.output
    assert "ALL (micro)" in result.output and "alliance" in result.output and "pairs" in result.output


def test_info_shows_version_labels_and_metrics(shipped_model):
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    assert shipped_model.version in result.output
    assert "competes_with" in result.output and "thresholds" in result.output


def test_train_builds_a_model_that_extract_can_use(tmp_path, tiny_model_dir):
    result = runner.invoke(app, ["info", "--model", str(tiny_model_dir)])
    assert result.exit_code == 0 and "tiny-test" in result.output
    out = tmp_path / "tiny.parquet"
    result = runner.invoke(app, ["extract", str(DATA / "mini_corpus.jsonl"), "-o", str(out), "--model",
                                 str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert set(pq.read_table(out).column("model_version").to_pylist()) <= {"tiny-test"}


def test_train_rejects_unknown_relations(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"doc_id": "b1", "text": "Alpha sues Beta.", "parties": {"Alpha": [], "Beta": []}, '
                   '"triples": [{"head": "Alpha", "relation": "sues", "tail": "Beta", "evidence": "Alpha sues Beta"}]}\n')
    result = runner.invoke(app, ["train", str(bad), "-o", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert "relation 'sues' is not in the schema" in result.output
    assert not (tmp_path / "m").exists()


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and "extract" in result.stdout


def test_readme_commands_exist():
    readme = (ROOT / "README.md").read_text()
    commands = set(re.findall(r"^\s*(?:\$ )?alliances (\w+)", readme, flags=re.M))
    assert {"extract", "train", "evaluate", "info"} <= commands
    registered = {c.name for c in app.registered_commands}
    assert commands <= registered
