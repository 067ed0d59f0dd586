"""The error sorting of ``benchmarks/errors.py`` on a hand-made gold document."""
import importlib.util
from pathlib import Path

from pipeline.training.corpus import parse_record
from pipeline.training.evaluate import GoldDocument

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "errors.py"


def load_script():
    spec = importlib.util.spec_from_file_location("benchmark_errors", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_errors_are_sorted_by_where_they_come_from():
    errors = load_script()
    text = ("Kovra Rail buys batteries from Voltaren Cells, and Ostbahn Regional owns 20% of Kovra. "
            "Stadler, a rival, builds trains in Linz.")
    doc = GoldDocument(parse_record({
        "doc_id": "x-1", "text": text,
        "parties": {"Kovra Rail": ["Kovra"], "Voltaren Cells": [], "Ostbahn Regional": [], "Stadler": []},
        "triples": [{"head": "Voltaren Cells", "relation": "supplies", "tail": "Kovra Rail", "evidence": "x"},
                    {"head": "Ostbahn Regional", "relation": "invests_in", "tail": "Kovra Rail", "evidence": "x"},
                    {"head": "Kovra Rail", "relation": "competes_with", "tail": "Stadler", "evidence": "x"}],
        "optional": [],
    }, "test"))
    predicted = [
        ("Kovra", "supplies", "Voltaren Cells"),        # reversed: the pair has a tie, not this one
        ("Ostbahn Regional", "invests_in", "Kovra"),    # right, through the alias
        ("Stadler", "supplies", "Linz"),                # Linz is no party
        ("Ostbahn Regional", "supplies", "Stadler"),    # two parties the labels do not tie
    ]
    kinds = sorted((kind, r) for kind, _, r, _ in errors.classify_errors(doc, predicted))
    assert kinds == [
        ("missed: pair mistyped", "supplies"),    # Voltaren -> Kovra: the pair got the reversed output
        ("missed: pair silent", "competes_with"),  # Kovra - Stadler: nothing for the pair
        ("wrong: no tie", "supplies"),
        ("wrong: non-party", "supplies"),
        ("wrong: other tie", "supplies"),
    ]
