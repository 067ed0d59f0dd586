"""Write a corpus split as hard-wrapped plain text, to measure extraction on wrapped news.

    .venv/bin/python benchmarks/hard_wrap.py --split dev --width 72 -o /tmp/dev_wrapped
    alliances evaluate corpus/docs /tmp/dev_wrapped --split dev

Plain-text dumps and e-mail newsletters often wrap every paragraph at a fixed width. Each
document becomes ``OUT/<doc_id>.txt`` with its paragraphs (lines) wrapped at ``--width``
columns by :func:`textwrap.fill`; ``alliances evaluate`` then reads those files (doc_id =
file stem) and scores them against the corpus gold, so the figure can be set beside the
same split read as written (``alliances evaluate corpus/docs --split dev``).
"""
from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wrap(text: str, width: int) -> str:
    """``text`` with every non-empty line wrapped at ``width`` columns."""
    return "\n".join(textwrap.fill(line, width) if line.strip() else line for line in text.split("\n"))


def main(argv: list[str] | None = None) -> int:
    from pipeline.training.train import load_documents

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="*", default=[str(ROOT / "corpus" / "docs")])
    parser.add_argument("--split", default="dev")
    parser.add_argument("--width", type=int, default=72)
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    docs = [d for d in load_documents(args.corpus) if d.split == args.split]  # split set on loading
    for doc in docs:
        (out / f"{doc.doc_id}.txt").write_text(wrap(doc.text, args.width), encoding="utf-8")
    print(f"{len(docs)} documents of split {args.split} wrapped at {args.width} columns in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
