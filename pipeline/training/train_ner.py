"""Fine-tuning spaCy's entity recognizer on the corpus's labeled organizations.

Gold: every occurrence of every labeled party and quoted source is an ``ORG`` span.
To keep the other labels (PERSON matters: it rules out surnames), the base model's own
non-ORG entities that do not overlap a gold span are kept as silver annotations
("pseudo-rehearsal", as spaCy's docs suggest against catastrophic forgetting).
Only the ``ner`` component's weights are saved (``ner/``, spaCy ``to_disk``); at load time
they replace the base pipeline's recognizer, whose architecture they share.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.training.corpus import Document
from pipeline.training.examples import gold_parties


def ner_annotations(nlp, docs: Sequence[Document]) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """``(text, entities)`` per document: gold ORG spans plus the base model's other entities."""
    out = []
    texts = [d.text for d in docs]
    for doc, parsed in zip(docs, nlp.pipe(texts, batch_size=16)):
        gold = sorted({(m.start, m.end) for p in gold_parties(doc) for m in p.mentions})
        taken = [False] * (len(doc.text) + 1)
        ents = []
        for s, e in gold:
            if not any(taken[s:e]):
                ents.append((s, e, "ORG"))
                for i in range(s, e):
                    taken[i] = True
        for ent in parsed.ents:
            if ent.label_ != "ORG" and not any(taken[ent.start_char:ent.end_char]):
                ents.append((ent.start_char, ent.end_char, ent.label_))
                for i in range(ent.start_char, ent.end_char):
                    taken[i] = True
        out.append((doc.text, sorted(ents)))
    return out


def train_ner(docs: Sequence[Document], output: str | Path, epochs: int = 8, seed: int = 13,
              dropout: float = 0.2, progress: Callable[[int, int, float], None] | None = None) -> dict:
    """Fine-tune the recognizer on ``docs``; save its weights to ``output``. Returns losses."""
    import spacy
    from spacy.training import Example, offsets_to_biluo_tags
    from spacy.util import minibatch

    from pipeline.stages.ner import load_nlp

    random.seed(seed)
    spacy.util.fix_random_seed(seed)
    nlp = load_nlp()
    annotations = ner_annotations(nlp, docs)
    examples = []
    for text, ents in annotations:
        doc = nlp.make_doc(text)
        # Drop spans that do not align with token boundaries rather than fail.
        aligned = [(s, e, label) for s, e, label in ents if doc.char_span(s, e) is not None]
        if "-" in offsets_to_biluo_tags(doc, aligned):
            continue
        examples.append(Example.from_dict(doc, {"entities": aligned}))
    optimizer = nlp.resume_training()
    losses_per_epoch = []
    other = [p for p in nlp.pipe_names if p != "ner"]
    with nlp.select_pipes(disable=other):
        for epoch in range(epochs):
            random.shuffle(examples)
            losses: dict[str, float] = {}
            for batch in minibatch(examples, size=8):
                nlp.update(batch, sgd=optimizer, drop=dropout, losses=losses)
            losses_per_epoch.append(round(float(losses.get("ner", 0.0)), 3))
            if progress is not None:
                progress(epoch + 1, epochs, float(losses.get("ner", 0.0)))
    Path(output).mkdir(parents=True, exist_ok=True)
    nlp.get_pipe("ner").to_disk(Path(output))
    return {"epochs": epochs, "loss_per_epoch": losses_per_epoch, "documents": len(examples)}
