"""A trained model is a self-describing directory::

    models/alliances/
      meta.json         version, base models, corpus hash, thresholds, metrics, settings
      relations/        config.json (labels), model.safetensors, tokenizer files
      ner/              (optional) a fine-tuned spaCy entity recognizer (spaCy to_disk)

Only JSON, safetensors and spaCy's own formats are read; nothing is unpickled.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline.errors import ModelError
from pipeline.records import RELATIONS

META_FORMAT = 1
ENV_VAR = "ALLIANCES_MODEL"


def default_model_dir() -> Path:
    """``$ALLIANCES_MODEL`` if set, else ``models/alliances`` beside the package."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return Path(__file__).resolve().parent.parent / "models" / "alliances"


def read_meta(directory: str | Path) -> dict:
    """The ``meta.json`` of a model directory, checked for format and labels."""
    directory = Path(directory)
    path = directory / "meta.json"
    if not directory.is_dir():
        raise ModelError(f"{directory}: no model directory here; train one with `alliances train` "
                         f"or point --model / ${ENV_VAR} at one")
    if not path.exists():
        raise ModelError(f"{directory}: missing meta.json; not a model directory")
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ModelError(f"{path}: not valid JSON ({e.msg})") from e
    if meta.get("format_version") != META_FORMAT:
        raise ModelError(f"{path}: model format {meta.get('format_version')!r}; "
                         f"this version of alliances reads format {META_FORMAT}")
    unknown = set(meta.get("thresholds", {})) - set(RELATIONS)
    if unknown:
        raise ModelError(f"{path}: thresholds for relations outside the schema: {sorted(unknown)}")
    return meta


def write_meta(directory: str | Path, meta: dict) -> None:
    directory = Path(directory)
    meta = {"format_version": META_FORMAT, **meta}
    tmp = directory / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, directory / "meta.json")


@dataclass
class Model:
    """Everything extraction needs, loaded once: spaCy pipeline, rules, classifier, thresholds."""

    directory: Path
    meta: dict
    nlp: object
    finder: object
    classifier: object
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.meta.get("version", "unknown")

    @property
    def settings(self) -> dict:
        return self.meta.get("settings", {})

    @property
    def document_gate(self) -> float:
        """A document's triples are output only when its most confident one reaches this
        (``meta.json`` ``document_gate``, chosen on the dev split; 0 when absent)."""
        return float(self.meta.get("document_gate", {}).get("value", 0.0))

    def calibrate(self, relation: str, p: float) -> float:
        """The output confidence for a raw document-level probability ``p`` of ``relation``:
        the model's fitted calibration map (``meta.json`` ``calibration``), else ``p``."""
        params = self.meta.get("calibration", {}).get("params")
        if not params:
            return p
        from pipeline.training.calibration import apply_platt

        return apply_platt(params, p)


def load_model(directory: str | Path | None = None, *, cached: bool = True) -> Model:
    """Load a model directory (default: the shipped model); cached per path unless ``cached``
    is false (a fresh copy, for code that is about to change the directory's meta.json)."""
    directory = str((Path(directory) if directory else default_model_dir()).resolve())
    return _load(directory) if cached else _read_model(directory)


def forget_loaded_models() -> None:
    """Drop the cache of :func:`load_model`, so a model directory rewritten on disk is read anew."""
    _load.cache_clear()


@lru_cache(maxsize=4)
def _load(directory: str) -> Model:
    return _read_model(directory)


def _read_model(directory: str) -> Model:
    from pipeline.stages.ner import OrganizationFinder, load_nlp
    from pipeline.stages.relations import RelationClassifier

    path = Path(directory)
    meta = read_meta(path)
    classifier = RelationClassifier.load(path / "relations")
    nlp = load_nlp(path / "ner" if (path / "ner").exists() else None)
    thresholds = {rel: float(meta.get("thresholds", {}).get(rel, 0.5)) for rel in RELATIONS}
    return Model(path, meta, nlp, OrganizationFinder(nlp), classifier, thresholds)
