"""The ``alliances`` command line: thin wrappers that parse, call the library, and print."""
from __future__ import annotations

import json
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from pipeline.errors import AlliancesError
from pipeline.stages.ingest import MAX_ARTICLE_CHARS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Extract typed, sourced alliance triples (partners, investors, suppliers, licensors, "
         "acquirers, owners, rivals) from business news, as Parquet.",
)

ModelOption = typer.Option(None, "--model", "-m", help="Model directory (default: the shipped model, or $ALLIANCES_MODEL).")


def _fail(error: Exception) -> None:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code=1)


@app.command("extract")
def extract_cmd(
    inputs: list[str] = typer.Argument(..., help="Files or directories (.txt, .md, .jsonl[.gz], .csv, .parquet), or - for stdin."),
    output: Path = typer.Option(..., "--output", "-o",
                                help="A name ending in .parquet writes one Parquet file; anything else is a dataset "
                                     "directory of part files (resumable, parallel)."),
    model: Optional[Path] = ModelOption,
    fmt: str = typer.Option("auto", "--format", help="Input format: auto, txt, jsonl, csv or parquet."),
    text_field: str = typer.Option("text", help="Field/column holding the article text."),
    id_field: str = typer.Option("id", help="Field/column holding the article id."),
    date_field: str = typer.Option("date", help="Field/column holding the publication date."),
    url_field: str = typer.Option("url", help="Field/column holding the article URL."),
    limit: Optional[int] = typer.Option(None, help="Stop after this many articles."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes (or dask workers) running shards "
                                                                  "(dataset directory only)."),
    engine: str = typer.Option("local", help="local (processes on this machine) or dask (dataset directory only)."),
    scheduler: Optional[str] = typer.Option(None, help="Dask scheduler address, e.g. tcp://host:8786 "
                                                       "(default with --engine dask: a local cluster)."),
    shard_size: int = typer.Option(200, "--shard-size", min=1, help="Articles per part file (dataset directory only)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a dataset directory written with other "
                                                             "inputs or settings instead of refusing."),
    all_languages: bool = typer.Option(False, "--all-languages",
                                       help="Process articles in any language (default: skip those confidently "
                                            "not in English)."),
    keep_duplicates: bool = typer.Option(False, "--keep-duplicates",
                                         help="Process exact and near duplicates too (default: skip articles that "
                                              "repeat an earlier one, e.g. syndicated wire copy)."),
    max_chars: int = typer.Option(MAX_ARTICLE_CHARS or 0, "--max-chars", min=0,
                                  help="Cap each article at this many characters (cut at a line break or sentence "
                                       "end), with a one-line warning naming it; 0: no cap. The pipeline runs at "
                                       "about 1 MB of text a minute on 2 cores."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
) -> None:
    """Extract triples from articles into one Parquet file or a dataset directory.

    An article longer than --max-chars (default 1,000,000 characters) is capped with a warning such as "warning: big.txt: article of 52,428,800 bytes capped at its first 1,000,000 characters".

    Non-English articles and duplicates of earlier articles are skipped, with the reason and, for a duplicate, the article it repeats (a dataset directory lists them in _duplicates.jsonl); --all-languages and --keep-duplicates turn that off.

    -o NAME.parquet writes one Parquet file when the run completes.
    Any other -o is a dataset directory: part-NNNNN.parquet files (--shard-size articles each), _manifest.json, _rejects/ and _SUCCESS; pandas, pyarrow and DuckDB read it as one table.
    Re-running the same command resumes an interrupted dataset run.

    Example: alliances extract examples/articles -o examples.parquet

    Example: alliances extract news/2025-*.jsonl.gz -o triples/ --workers 2
    """
    from pipeline.stages.ingest import Fields

    fields = Fields(text_field, id_field, date_field, url_field)
    if scheduler is not None and engine != "dask":
        _fail(AlliancesError("--scheduler needs --engine dask"))
    if output.suffix.lower() == ".parquet":
        extras = [name for name, used in (("--workers", workers != 1), ("--engine", engine != "local"),
                                          ("--scheduler", scheduler is not None), ("--shard-size", shard_size != 200),
                                          ("--overwrite", overwrite)) if used]
        if extras:
            _fail(AlliancesError(f"{output}: {', '.join(extras)} apply to a dataset directory; "
                                 "give -o a name without .parquet"))
        with _warnings_as_lines(quiet):
            _extract_file(inputs, output, model, fmt, fields, limit, quiet, english_only=not all_languages,
                          dedupe=not keep_duplicates, max_chars=max_chars)
    else:
        with _warnings_as_lines(quiet):
            _extract_dataset(inputs, output, model, fmt, fields, limit, workers, engine, scheduler, shard_size,
                             overwrite, quiet, english_only=not all_languages, dedupe=not keep_duplicates,
                             max_chars=max_chars)


@contextmanager
def _warnings_as_lines(quiet: bool):
    """Print the package's warnings (a capped article) as one ``warning: ...`` line each, as they happen."""
    from pipeline.stages.ingest import TextCappedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("always", TextCappedWarning)
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, TextCappedWarning):
                if not quiet:
                    typer.echo(f"warning: {message}", err=True)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def _write_error(output: Path, error: OSError, outcome: str) -> AlliancesError:
    """An OSError met while writing ``output`` as one line: which file, why, what is left."""
    from pipeline.errors import OutputError

    reason = (error.strerror or str(error) or type(error).__name__).splitlines()[0]
    if "Detail: " in reason:  # pyarrow: "Error writing bytes to file. Detail: [errno 28] No space left on device"
        reason = reason.split("Detail: ", 1)[1]
    return OutputError(f"{error.filename or output}: cannot be written ({reason}); {outcome}")


#: Duplicate pairs printed after a run (all are in the rejects / _duplicates.jsonl).
SHOWN_DUPLICATES = 5


def _echo_screening(non_english: int, duplicates: int, samples, where: str | None = None) -> None:
    """The counts of skipped non-English articles and duplicates, and the first few "X duplicates Y" lines."""
    if non_english:
        typer.echo(f"{non_english} non-English articles skipped (--all-languages keeps them)", err=True)
    if duplicates:
        listed = f", all listed in {where}" if where else ""
        typer.echo(f"{duplicates} duplicate articles skipped (--keep-duplicates keeps them){listed}:", err=True)
        for d in samples[:SHOWN_DUPLICATES]:
            typer.echo(f"  {d.pair()}", err=True)
        if duplicates > SHOWN_DUPLICATES:
            typer.echo(f"  ... and {duplicates - SHOWN_DUPLICATES} more", err=True)


def _extract_file(inputs, output, model, fmt, fields, limit, quiet, english_only=True, dedupe=True,
                  max_chars=None) -> None:
    from pipeline.extract import run

    bar = None
    if not quiet and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit=" docs", file=sys.stderr)

    def progress(summary) -> None:
        if bar is not None:
            bar.n = summary.articles
            bar.set_postfix(words_s=f"{summary.words_per_second:,.0f}", triples=summary.triples, refresh=False)
            bar.refresh()

    try:
        summary = run(inputs, output, model=model, fmt=fmt, fields=fields, limit=limit, progress=progress,
                      max_chars=max_chars,
                      english_only=english_only, dedupe=dedupe)
    except AlliancesError as e:
        _fail(e)
    except OSError as e:  # disk full or the like while writing: the temporary file is already removed
        _fail(_write_error(output, e, "nothing was written"))
    finally:
        if bar is not None:
            bar.close()
    if quiet:
        return
    from pipeline.batch import Screened

    _echo_rejects(summary.rejects, len(summary.rejects),
                  f"... and {len(summary.rejects) - 20} more skipped records")
    duplicates = [r for r in summary.rejects if isinstance(r, Screened) and r.kind == "duplicate"]
    non_english = sum(1 for r in summary.rejects if isinstance(r, Screened) and r.kind == "non_english")
    _echo_screening(non_english, len(duplicates), duplicates)
    _echo_totals(summary, len(summary.rejects))
    typer.echo(f"wrote {summary.output} (model {summary.model_version})")
    _print_top(output)


def _extract_dataset(inputs, output, model, fmt, fields, limit, workers, engine, scheduler, shard_size,
                     overwrite, quiet, english_only=True, dedupe=True, max_chars=None) -> None:
    import time

    from pipeline.batch import estimate_articles, run_dataset

    bar = None
    last_log = [time.monotonic()]
    if not quiet and sys.stderr.isatty():
        from tqdm import tqdm

        try:
            total = estimate_articles(inputs, fmt, limit)
        except AlliancesError:
            total = None  # run_dataset reports input problems
        bar = tqdm(total=total, unit=" docs", file=sys.stderr, dynamic_ncols=True)

    def progress(s) -> None:
        if bar is not None:
            bar.n = s.articles
            bar.set_postfix(words_s=f"{s.words_per_second:,.0f}", triples=s.triples, shards=s.shards, refresh=False)
            bar.refresh()
        elif not quiet and time.monotonic() - last_log[0] >= 10:
            last_log[0] = time.monotonic()
            typer.echo(f"progress: {s.shards} shards ({s.shards_resumed} resumed), {s.articles} articles, "
                       f"{s.triples} triples, {s.docs_per_second:,.1f} docs/s, {s.words_per_second:,.0f} words/s, "
                       f"{s.seconds:.0f}s", err=True)

    try:
        summary = run_dataset(inputs, output, model=model, fmt=fmt, fields=fields, limit=limit, workers=workers,
                              shard_size=shard_size, engine=engine, scheduler=scheduler, overwrite=overwrite,
                              progress=progress, english_only=english_only, dedupe=dedupe, max_chars=max_chars)
    except AlliancesError as e:
        if bar is not None:
            bar.close()
        _fail(e)
    except OSError as e:  # e.g. the manifest cannot be written: the parts written are kept
        if bar is not None:
            bar.close()
        _fail(_write_error(output, e, "the parts already written are kept, re-run the same command to resume"))
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        typer.echo("interrupted; the parts written are kept: re-run the same command to resume", err=True)
        raise typer.Exit(code=130)
    if bar is not None:
        bar.close()
    if quiet:
        return
    _echo_rejects(summary.reject_samples, summary.rejects,
                  f"... {summary.rejects} skipped records in all, listed in {output / '_rejects'}")
    _echo_screening(summary.non_english, summary.duplicates, summary.duplicate_samples, str(output / "_duplicates.jsonl"))
    resumed = f", {summary.shards_resumed} resumed from an earlier run" if summary.shards_resumed else ""
    _echo_totals(summary, summary.rejects, f"; {summary.shards} parts{resumed}")
    typer.echo(f"wrote {summary.output}/ (model {summary.model_version})")
    _print_top(output)


def _echo_rejects(samples, total: int, more: str) -> None:
    """The first 20 skipped records, one line each, then ``more`` if there were others."""
    for reject in samples[:20]:
        typer.echo(f"skipped {reject.where}: {reject.reason}", err=True)
    if total > 20:
        typer.echo(more, err=True)


def _echo_totals(summary, skipped: int, tail: str = "") -> None:
    """The replaced-bytes warning and the one-line totals of a run (single file or dataset)."""
    if summary.counters.replaced_bytes:
        typer.echo(f"warning: {summary.counters.replaced_bytes} undecodable bytes were replaced with U+FFFD", err=True)
    rels = ", ".join(f"{r} {n}" for r, n in sorted(summary.per_relation.items(), key=lambda kv: -kv[1])) or "none"
    typer.echo(f"{summary.articles} articles, {summary.words:,} words, {summary.triples} triples ({rels}) "
               f"in {summary.seconds:.1f}s ({summary.words_per_second:,.0f} words/s); {skipped} skipped{tail}")


def _print_top(path: Path, n: int = 8) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["doc_id", "head", "relation", "tail", "confidence"])
    rows = sorted(table.to_pylist(), key=lambda r: -r["confidence"])[:n]
    for r in rows:
        typer.echo(f"  {r['confidence']:.2f}  {r['head']} --{r['relation']}--> {r['tail']}  [{r['doc_id']}]")


@app.command("train")
def train_cmd(
    corpus: list[Path] = typer.Argument(None, help="Labeled JSONL files or directories (default: corpus/docs)."),
    output: Path = typer.Option(..., "--output", "-o", help="Model directory to create (replaced if it exists)."),
    init: Optional[Path] = typer.Option(None, help="Fine-tune from this model directory instead of training fresh."),
    texts: Optional[Path] = typer.Option(None, help="Directory of <doc_id>.txt for gold files without text."),
    core: Optional[Path] = typer.Option(None, help="Also train on CORE (directory holding train.json; CC BY 4.0)."),
    epochs: int = typer.Option(3, min=1, help="Passes over the training examples."),
    lr: float = typer.Option(5e-5, help="Learning rate of the encoder."),
    batch_size: int = typer.Option(16, min=1),
    seed: int = typer.Option(13, help="Random seed (same data + seed = same model)."),
    version: Optional[str] = typer.Option(None, help="Model version to record (default: date + corpus hash)."),
    mark_others: bool = typer.Option(False, help="Mark the window's other parties too (~ X ~) in a fresh "
                                                 "classifier: higher precision, not higher dev F1 on our corpus."),
    non_party_negatives: bool = typer.Option(True, help="Also learn from what the recognizers take for "
                                                        "organizations in train documents but the labels do not "
                                                        "name (products, towns, people): negative windows."),
    follow: int = typer.Option(1, min=0, help="Also read a pair's window with up to this many next sentences that "
                                              "name no party but refer back (\"The two companies will ...\"); "
                                              "0 reads windows of named sentences only, as models before "
                                              "2026-11-29 did."),
    resume: bool = typer.Option(False, help="Continue an interrupted run of the same corpus and settings into the "
                                            "same OUTPUT from its last checkpoint (kept in .OUTPUT.partial beside "
                                            "it, saved every 200 steps); without it a partial run is discarded."),
) -> None:
    """Train (or fine-tune) the relation classifier; write a model directory.

    Example: alliances train corpus/docs -o models/alliances
    """
    from tqdm import tqdm

    from pipeline.training.evaluate import format_table
    from pipeline.training.train import train

    corpus = corpus or [Path(__file__).resolve().parent.parent / "corpus" / "docs"]
    bar = None  # created when the classifier's first step is done, after the stage lines

    def stage(message: str) -> None:
        if bar is not None:
            bar.close()  # the classifier's steps are over
        typer.echo(message, err=True)

    def progress(step: int, total: int, loss: float) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, initial=step, unit=" steps", file=sys.stderr)
        bar.total = total
        bar.n = step
        bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        bar.refresh()

    try:
        extra = None
        if core is not None:
            from pipeline.training.core import read_core

            extra = read_core(core)
        meta = train(corpus, output, init=init, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                     version=version, texts=texts, extra_examples=extra, progress=progress,
                     mark_others=mark_others, non_party_negatives=non_party_negatives, follow=follow, resume=resume,
                     stage=stage)
    except AlliancesError as e:
        if bar is not None:
            bar.close()
        _fail(e)
    if bar is not None:
        bar.close()
    c = meta["corpus"]
    typer.echo(f"trained {meta['version']} on {c['train']} documents ({c['examples']} windows) "
               f"in {meta['training']['seconds']:.0f}s; thresholds {meta['thresholds']}")
    for name in ("dev_before", "dev"):
        if name in meta["metrics"]:
            typer.echo(f"\n{name} (classifier on gold parties):\n{format_table(meta['metrics'][name])}")
    typer.echo(f"\nwrote {output}")


@app.command("evaluate")
def evaluate_cmd(
    gold: Path = typer.Argument(..., help="Gold JSONL: the corpus format (with text) or the seeds_gold format."),
    inputs: list[str] = typer.Argument(None, help="Articles to run on (files/dirs), or a Parquet file of predictions. "
                                                  "Default: the gold documents' own text."),
    model: Optional[Path] = ModelOption,
    split: Optional[str] = typer.Option(None, help="Score only documents of this split (train, dev, test)."),
    industry: Optional[str] = typer.Option(
        None, help="Score only documents of these industries, comma-separated; 'held-out' stands for the industries "
                   "no model is trained on (airlines, chemicals, insurance)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    save: bool = typer.Option(False, "--save", help="Store the result in the model's meta.json under metrics."),
) -> None:
    """Score extraction against gold triples: per-relation P/R/F1, micro, alliance, pairs.

    Example: alliances evaluate ../shared/eval/seeds_gold.jsonl ../shared/seeds
    Example: alliances evaluate corpus/docs --split test --industry held-out
    """
    from pipeline.training.evaluate import format_table
    from pipeline.training.run_eval import evaluate

    industries = sorted({name.strip() for name in (industry or "").split(",") if name.strip()})
    try:
        result = evaluate(gold, inputs or [], model=model, split=split, save=save, industries=industries)
    except AlliancesError as e:
        _fail(e)
    typer.echo(json.dumps(result, indent=2) if as_json else format_table(result))


@app.command("info")
def info_cmd(model: Optional[Path] = ModelOption) -> None:
    """Show the model's version, labels, thresholds and stored metrics.

    Example: alliances info
    """
    from pipeline.models import default_model_dir, read_meta
    from pipeline.stages.pairs import MAX_WINDOWS, WINDOW
    from pipeline.stages.relations import PRECISION_ENV, inference_dtype
    from pipeline.training.evaluate import format_table

    directory = model or default_model_dir()
    try:
        meta = read_meta(directory)
        precision = str(inference_dtype()).removeprefix("torch.")
    except AlliancesError as e:
        _fail(e)
    typer.echo(f"model      {meta['version']}  ({directory})")
    typer.echo(f"created    {meta.get('created')}")
    typer.echo(f"labels     {', '.join(meta['labels'])}")
    typer.echo(f"thresholds {json.dumps(meta.get('thresholds', {}))}")
    if meta.get("document_gate"):
        typer.echo(f"doc gate   {meta['document_gate']['value']} (a document's triples are written only when "
                   f"its most confident one reaches this; {meta['document_gate']['rule']})")
        sweep = meta["document_gate"].get("sweep", {})
        if all("micro_f1" in entry for entry in sweep.values()):
            typer.echo("gate sweep " + ", ".join(
                f"{gate}: F1 {entry['micro_f1']:.4f} (-{entry['right_dropped']} right, -{entry['wrong_dropped']} wrong)"
                for gate, entry in sweep.items() if entry["documents_silenced"]) + " on dev; lower gates drop nothing")
    typer.echo(f"base       {json.dumps(meta.get('base_models', {}))}")
    settings = meta.get("settings", {})
    follow = settings.get("follow", 0)
    typer.echo(f"windows    up to {settings.get('max_windows', MAX_WINDOWS)} per pair, of at most "
               f"{settings.get('window', WINDOW)} sentences"
               + ("; no follow-on sentences" if not follow
                  else ", each also read with the next sentence when it names no party and refers back" if follow == 1
                  else f", each also read with up to {follow} next sentences that name no party and refer back"))
    typer.echo(f"precision  classifier runs in {precision} on this machine "
               f"(${PRECISION_ENV}=auto|float32|bfloat16)")
    corpus = meta.get("corpus", {})
    typer.echo(f"corpus     {corpus.get('documents')} documents (hash {corpus.get('hash')}; "
               f"train {corpus.get('train')}, dev {corpus.get('dev')}, test {corpus.get('test')})")
    for name, result in meta.get("metrics", {}).items():
        if isinstance(result, dict) and "per_relation" in result:
            typer.echo(f"\n{name}:\n{format_table(result)}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
