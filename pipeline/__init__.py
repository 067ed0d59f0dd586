"""alliances: typed, sourced business-alliance triples from news text.

>>> from pipeline import extract
>>> triples = extract("Norrland Capital led a $40 million round in Vexa AI.")
"""
from pipeline.extract import extract, extract_df, run
from pipeline.models import load_model
from pipeline.records import RELATIONS, SYMMETRIC, Article, Triple


def train(*args, **kwargs):
    """Train a model directory; see :func:`pipeline.training.train.train`."""
    from pipeline.training.train import train as _train

    return _train(*args, **kwargs)


__all__ = ["extract", "extract_df", "run", "train", "load_model", "Article", "Triple", "RELATIONS", "SYMMETRIC"]
