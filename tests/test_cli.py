"""The alliances command line, through typer's CliRunner and as a real subprocess."""
from __future__ import annotations

import json
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
    # trained with the default --follow 1, and the model says so
    assert "each also read with the next sentence when it names no party" in result.output
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


def test_a_broken_gold_file_is_a_one_line_error_for_evaluate_and_train(tmp_path):
    bad = tmp_path / "gold.jsonl"
    bad.write_text('{"doc_id": "g1", "text": "Alpha buys Beta.", "parties": {}, "triples": []}\n{oops\n')
    for args in (["evaluate", str(bad)], ["train", str(bad), "-o", str(tmp_path / "m")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        line = result.output.strip().splitlines()[-1]
        assert line.startswith("error: [E001]") and "gold.jsonl:2: not valid JSON" in line, result.output
        assert "Traceback" not in result.output
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


def test_extract_skips_non_english_and_duplicates_unless_asked(tmp_path, tiny_model_dir):
    from test_batch import write_screening_folder

    src = write_screening_folder(tmp_path / "in")
    model = ["--model", str(tiny_model_dir)]
    out = tmp_path / "ds"
    result = runner.invoke(app, ["extract", str(src), "-o", str(out), "--shard-size", "1", *model])
    assert result.exit_code == 0, result.output
    assert "1 articles," in result.output and "3 skipped" in result.output
    assert "not English (detected 'fr')" in result.output
    assert "1 non-English articles skipped" in result.output
    assert f"2 duplicate articles skipped (--keep-duplicates keeps them), all listed in {out / '_duplicates.jsonl'}" \
        in result.output
    assert "  b_near near-duplicates a_original\n  c_copy duplicates a_original\n" in result.output
    pairs = [json.loads(line) for line in (out / "_duplicates.jsonl").read_text().splitlines()]
    assert [f"{p['doc_id']} -> {p['duplicate_of']}" for p in pairs] == ["b_near -> a_original", "c_copy -> a_original"]
    assert set(pq.read_table(out).column("doc_id").to_pylist()) <= {"a_original"}

    result = runner.invoke(app, ["extract", str(src), "-o", str(tmp_path / "all"), "--shard-size", "1", *model,
                                 "--all-languages", "--keep-duplicates"])
    assert result.exit_code == 0, result.output
    assert "4 articles," in result.output and "0 skipped" in result.output and "duplicate" not in result.output
    assert not (tmp_path / "all" / "_duplicates.jsonl").exists()
    manifest = json.loads((tmp_path / "all" / "_manifest.json").read_text())
    assert manifest["counts"]["articles"] == 4 and manifest["config"]["english_only"] is False

    # resuming with other screening settings is refused
    result = runner.invoke(app, ["extract", str(src), "-o", str(out), "--shard-size", "1", *model, "--keep-duplicates"])
    assert result.exit_code == 1 and "dedupe true -> false" in result.output

    # single-file mode: the count and the pairs on stderr, like the skipped records
    result = runner.invoke(app, ["extract", str(src), "-o", str(tmp_path / "one.parquet"), *model])
    assert result.exit_code == 0, result.output
    assert "1 articles," in result.output and "3 skipped" in result.output
    assert "skipped " + str(src / "c_copy.txt") + ": duplicate of 'a_original'" in result.output
    assert "2 duplicate articles skipped (--keep-duplicates keeps them):" in result.output
    assert "  b_near near-duplicates a_original\n  c_copy duplicates a_original\n" in result.output
    result = runner.invoke(app, ["extract", str(src), "-o", str(tmp_path / "all.parquet"), *model,
                                 "--all-languages", "--keep-duplicates"])
    assert result.exit_code == 0, result.output
    assert "4 articles," in result.output and "0 skipped" in result.output


def test_evaluate_scores_only_the_industries_asked_for(tmp_path):
    """``--industry`` keeps the gold documents of those industries ('held-out' names the ones
    no model trains on); a name no document has is a one-line error, not a smaller sample."""
    gold = tmp_path / "gold.jsonl"
    records = [json.loads(line) for line in (DATA / "mini_corpus.jsonl").read_text().splitlines()]
    records[0]["industry"] = "airlines"  # one held-out document beside five others
    gold.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = runner.invoke(app, ["evaluate", str(gold), "--industry", "held-out", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output[result.output.index("{"):])["docs"] == 1
    result = runner.invoke(app, ["evaluate", str(gold), "--industry", "autos, pharma", "--json"])
    assert json.loads(result.output[result.output.index("{"):])["docs"] == 2
    result = runner.invoke(app, ["evaluate", str(gold), "--industry", "autos,pharmaa"])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("error: [E001]") and "gold.jsonl: no documents of industry 'pharmaa'" in line
    result = runner.invoke(app, ["evaluate", str(DATA / "mini_corpus.jsonl"), "--industry", "held-out"])
    assert result.exit_code == 1 and "no documents of the held-out industries" in result.output
