"""``alliances evaluate``: run extraction on gold documents (or read predictions) and score."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Sequence

from pipeline.errors import InputError
from pipeline.records import Article


def read_predictions(path: Path) -> dict[str, list[tuple[str, str, str]]]:
    """``doc_id -> [(head, relation, tail)]`` from a Parquet file or directory."""
    import pyarrow.dataset as ds

    table = ds.dataset(str(path), format="parquet").to_table(columns=["doc_id", "head", "relation", "tail"])
    out: dict[str, list] = defaultdict(list)
    for row in table.to_pylist():
        out[str(row["doc_id"])].append((row["head"], row["relation"], row["tail"]))
    return out


def evaluate(gold: str | Path, inputs: Sequence[str | Path] = (), model=None, split: str | None = None,
             save: bool = False) -> dict:
    """Score extraction against ``gold``.

    ``inputs`` are articles to extract from (matched to gold by doc_id), or one
    Parquet file/directory of predictions; empty means the gold documents' own text.
    With ``save`` the result is stored in the model's ``meta.json`` under ``metrics``.
    """
    from pipeline.extract import extract_articles
    from pipeline.models import load_model, read_meta, write_meta
    from pipeline.stages.ingest import read_articles
    from pipeline.training.corpus import read_corpus
    from pipeline.training.evaluate import score
    from pipeline.training.train import split_of

    gold = Path(gold)
    if not gold.exists():
        raise InputError(f"{gold}: no such file or directory")
    docs = read_corpus(gold, require_text=False)
    if split:
        docs = [d for d in docs if split_of(d) == split]
        if not docs:
            raise InputError(f"{gold}: no documents in split {split!r}")
    wanted = {d.doc_id for d in docs}
    predictions: dict[str, list] = defaultdict(list)
    parquet = len(inputs) == 1 and (Path(inputs[0]).suffix == ".parquet" or
                                    (Path(inputs[0]).is_dir() and any(Path(inputs[0]).glob("*.parquet"))))
    loaded = None
    if parquet:
        predictions.update(read_predictions(Path(inputs[0])))
    else:
        loaded = load_model(model)
        if inputs:
            articles = [a for a in read_articles(inputs) if isinstance(a, Article) and a.doc_id in wanted]
        else:
            missing = [d.doc_id for d in docs if not d.text.strip()]
            if missing:
                raise InputError(f"{gold}: document {missing[0]} has no text; give the articles as INPUT")
            articles = [Article(d.doc_id, d.text) for d in docs]
        for triples in extract_articles(articles, loaded):
            for t in triples:
                predictions[t.doc_id].append((t.head, t.relation, t.tail))
    result = score(docs, predictions)
    if save:
        loaded = loaded or load_model(model)
        meta = read_meta(loaded.directory)
        name = f"{gold.stem}" + (f":{split}" if split else "")
        meta.setdefault("metrics", {})[name] = result
        meta.pop("format_version", None)
        write_meta(loaded.directory, meta)
    return result
