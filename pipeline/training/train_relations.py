"""Fine-tuning the relation classifier on labeled documents, with ``datasets``."""
from __future__ import annotations

import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.records import SYMMETRIC
from pipeline.stages.pairs import FOLLOW, MAX_WINDOWS, WINDOW
from pipeline.stages.relations import RelationClassifier, decode_label
from pipeline.training.corpus import Document
from pipeline.training.examples import Example, corpus_examples


def to_dataset(examples: Sequence[Example], classifier: RelationClassifier):
    """A tokenized ``datasets.Dataset`` with marker positions and multi-hot labels."""
    from datasets import Dataset

    from pipeline.stages.relations import Marked

    index = {label: i for i, label in enumerate(classifier.labels)}
    rows = {"text": [], "e1": [], "e2": [], "labels": []}
    for ex in examples:
        rows["text"].append(ex.text)
        rows["e1"].append(ex.e1)
        rows["e2"].append(ex.e2)
        vec = [0.0] * len(index)
        for label in ex.labels:
            vec[index[label]] = 1.0
        rows["labels"].append(vec)
    dataset = Dataset.from_dict(rows)

    def tokenize(batch):
        marked = [Marked(t, a, b) for t, a, b in zip(batch["text"], batch["e1"], batch["e2"])]
        ids, positions = classifier.tokenize(marked)
        return {"input_ids": ids, "e1_index": [e1 for e1, _ in positions], "e2_index": [e2 for _, e2 in positions]}

    return dataset.map(tokenize, batched=True, batch_size=256, remove_columns=["text", "e1", "e2"])


def _batches(dataset, batch_size: int, rng: random.Random):
    """Shuffled batches of similar length (sorted within chunks of 50 batches)."""
    order = list(range(len(dataset)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    lengths = [len(ids) for ids in dataset["input_ids"]]
    for k in range(0, len(order), chunk):
        part = sorted(order[k:k + chunk], key=lambda i: lengths[i])
        batches.extend(part[j:j + batch_size] for j in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def _collate(dataset, idx: list[int]):
    import torch

    rows = dataset.select(idx)
    width = max(len(ids) for ids in rows["input_ids"])
    ids = torch.zeros((len(idx), width), dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for r, seq in enumerate(rows["input_ids"]):
        ids[r, :len(seq)] = torch.tensor(seq)
        mask[r, :len(seq)] = 1
    return ({"input_ids": ids, "attention_mask": mask, "e1_index": torch.tensor(rows["e1_index"]),
             "e2_index": torch.tensor(rows["e2_index"])}, torch.tensor(rows["labels"]))


def partial_file(path: Path) -> Path:
    """Where :func:`write_atomic` writes ``path`` before it is complete."""
    return path.with_name(path.name + ".tmp")


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` then rename ``tmp`` to ``path``: a run killed mid-write leaves the
    previous ``path`` intact (and at most :func:`partial_file`)."""
    tmp = partial_file(path)
    write(tmp)
    os.replace(tmp, path)


def fit(classifier: RelationClassifier, examples: Sequence[Example], epochs: int = 3, lr: float = 5e-5,
        head_lr: float = 1e-3, batch_size: int = 16, seed: int = 13, weight_decay: float = 0.01,
        progress: Callable[[int, int, float], None] | None = None, checkpoint: str | Path | None = None,
        checkpoint_every: int = 200) -> list[float]:
    """Train the classifier in place; returns the mean loss of each epoch.

    ``progress(step, total_steps, loss)`` is called after every optimizer step.

    With ``checkpoint`` (a file path) the whole training state (weights, optimizer,
    learning-rate schedule, the batch order's and dropout's random states, losses so far)
    is saved there every ``checkpoint_every`` steps and at the end of every epoch, and a
    call that finds the file continues from it: an interrupted run, continued with the
    same examples and settings, ends with the weights an uninterrupted run would have.
    """
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    dataset = to_dataset(examples, classifier)
    network = classifier.network
    frozen = set(classifier.config.get("frozen", []))
    params = dict(network.named_parameters())
    for name in frozen:
        params[name].requires_grad_(False)
    groups = [
        {"params": [p for n, p in params.items() if n.startswith("encoder.") and n not in frozen], "lr": lr},
        {"params": [p for n, p in params.items() if n.startswith("head.")], "lr": head_lr},
    ]
    optimizer = torch.optim.AdamW(groups, weight_decay=weight_decay)
    steps_per_epoch = (len(dataset) + batch_size - 1) // batch_size
    total = max(1, steps_per_epoch * epochs)
    warmup = max(1, total // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / max(1, total - warmup)))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    history, step, first_epoch, done_in_epoch, losses = [], 0, 0, 0, []
    epoch_rng_state = rng.getstate()
    checkpoint = Path(checkpoint) if checkpoint is not None else None
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        if state["total"] != total or state["examples"] != len(dataset):
            raise ValueError(f"{checkpoint}: saved by a run of {state['total']} steps over {state['examples']} "
                             f"examples, not {total} over {len(dataset)}")
        network.load_state_dict(state["network"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, step, losses = state["history"], state["step"], state["losses"]
        first_epoch, done_in_epoch, epoch_rng_state = state["epoch"], state["done_in_epoch"], state["rng"]
        torch.set_rng_state(state["torch_rng"])

    def save(epoch: int, done: int, rng_state) -> None:
        state = {"network": network.state_dict(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict(), "history": history, "step": step, "losses": losses,
                 "epoch": epoch, "done_in_epoch": done, "rng": rng_state, "torch_rng": torch.get_rng_state(),
                 "total": total, "examples": len(dataset)}
        write_atomic(checkpoint, lambda tmp: torch.save(state, tmp))

    network.train()
    for epoch in range(first_epoch, epochs):
        rng.setstate(epoch_rng_state)
        batches = _batches(dataset, batch_size, rng)
        for k, idx in enumerate(batches):
            if k < done_in_epoch:
                continue  # done before the run was interrupted
            inputs, labels = _collate(dataset, idx)
            loss = loss_fn(network(**inputs), labels)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            losses.append(loss.item())
            if checkpoint is not None and step % checkpoint_every == 0 and k + 1 < len(batches):
                save(epoch, k + 1, epoch_rng_state)
            if progress is not None:
                progress(step, total, losses[-1])
        history.append(sum(losses) / max(1, len(losses)))
        losses, done_in_epoch, epoch_rng_state = [], 0, rng.getstate()
        if checkpoint is not None:
            save(epoch + 1, 0, epoch_rng_state)
    network.eval()
    return history


def score_candidates(classifier: RelationClassifier, docs: Sequence[Document], nlp, window: int = WINDOW,
                     max_windows: int = MAX_WINDOWS, follow: int = FOLLOW) -> list[tuple[str, tuple[str, str, str], float]]:
    """Document-level confidence of every possible triple between gold parties' pairs.

    Used for threshold selection and calibration: ``(doc_id, (head, relation, tail), p)``
    with ``p`` the best window's probability.
    """
    from pipeline.stages.relations import Marked

    examples = corpus_examples(docs, nlp, window, max_windows, classifier.other_marker, labeled=False, follow=follow)
    probs = classifier.predict_proba([Marked(ex.text, ex.e1, ex.e2) for ex in examples])
    best: dict[tuple[str, tuple[str, str, str]], float] = {}
    for ex, row in zip(examples, probs):
        for label, p in zip(classifier.labels, row):
            relation, head_is_a = decode_label(label)
            head, tail = (ex.a, ex.b) if head_is_a else (ex.b, ex.a)
            if relation in SYMMETRIC and tail.casefold() < head.casefold():
                head, tail = tail, head
            key = (ex.doc_id, (head, relation, tail))
            best[key] = max(best.get(key, 0.0), float(p))
    return [(doc_id, triple, p) for (doc_id, triple), p in best.items()]


__all__ = ["fit", "score_candidates", "to_dataset", "corpus_examples", "write_atomic", "partial_file"]
