"""Batch runs over news dumps into a resumable Parquet dataset directory.

:func:`run_dataset` writes::

    OUT/
      part-00000.parquet      triples of articles [0, shard_size), schema of stages/write.py
      part-00001.parquet      ... one part per shard, an empty part for a shard without triples
      _rejects/part-00000.jsonl   records of that shard that were not processed (only if any)
      _duplicates.jsonl       one line per duplicate article: its doc_id, the doc_id it duplicates,
                              "exact" or "near" (written when the run completes; only with dedupe)
      _manifest.json          inputs, config, counts, model version, timings (rewritten atomically)
      _SUCCESS                written last, when every shard is done
      .lock                   fcntl lock held while a run writes here

Non-Parquet files start with ``_`` or ``.``, so ``pd.read_parquet(OUT)``,
``pyarrow.dataset.dataset(OUT)`` and DuckDB's ``read_parquet('OUT/*.parquet')``
read the parts as one table.

Shards are deterministic: the driver streams every input in order and cuts shard
``k`` = articles ``[k*shard_size, (k+1)*shard_size)``; rejects belong to the shard
being filled when they are met. A part is written under a temporary ``.``-name and
renamed when complete, after its rejects file; the rename is the shard's commit.
Only the driver writes, so a shard is committed exactly once however workers fail,
and a run stopped at any moment (Ctrl-C, SIGKILL, disk full) resumes from the parts
that exist: re-run the same command.

By default articles are screened as they are read: confidently non-English ones and
exact or near duplicates of earlier articles are rejected with a reason
(``english_only``/``dedupe``; both are part of the configuration). The deduplicator
only lives in memory: a resumed run rebuilds it by re-streaming every input (done
shards included), so the same articles are called duplicates of the same originals,
and ``_duplicates.jsonl`` is rewritten whole, never appended to.
"""
from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import AlliancesError, OutputError
from pipeline.models import Model, default_model_dir, load_model, read_meta
from pipeline.records import Article, Counters
from pipeline.stages import ingest
from pipeline.stages.dedupe import Deduplicator
from pipeline.stages.ingest import GZIP_MAGIC, ZSTD_MAGIC, Fields, Reject, list_inputs, read_articles
from pipeline.stages.write import SCHEMA, to_table

DATASET_FORMAT = 1
MANIFEST = "_manifest.json"
DUPLICATES = "_duplicates.jsonl"
SUCCESS = "_SUCCESS"
REJECTS_DIR = "_rejects"
LOCK = ".lock"
PART_META_KEY = b"alliances.shard"
ENGINES = ("local", "dask")
#: Attempts per shard when worker processes die (the first run counts as one).
MAX_ATTEMPTS = 3
#: Samples of rejects kept in the summary (all are in ``_rejects/``).
REJECT_SAMPLES = 50
#: Duplicate pairs kept in the summary (all are in ``_duplicates.jsonl``).
DUPLICATE_SAMPLES = 50
#: Stands for "the cap of :data:`pipeline.stages.ingest.MAX_ARTICLE_CHARS` when called".
DEFAULT_MAX_CHARS = object()


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


@dataclass(frozen=True)
class Screened(Reject):
    """A reject of the screening: ``kind`` "non_english" or "duplicate" (then ``doc_id`` duplicates ``duplicate_of``)."""

    kind: str = ""
    doc_id: str | None = None
    duplicate_of: str | None = None
    near: bool = False

    def pair(self) -> str:
        """``"X duplicates Y"`` (``near-duplicates`` for a near duplicate)."""
        return f"{self.doc_id} {'near-duplicates' if self.near else 'duplicates'} {self.duplicate_of}"


class _RecordingDeduplicator(Deduplicator):
    """A Deduplicator that remembers which article its last hit was about (ingest's rejects name only the original)."""

    last: tuple[str, str, str] | None = None

    def check_detail(self, article: Article) -> tuple[str, str] | None:
        found = super().check_detail(article)
        self.last = (article.doc_id, found[0], found[1]) if found else None
        return found


def _max_chars(max_chars) -> int | None:
    """The cap on article length: ``max_chars`` if given, else :data:`pipeline.stages.ingest.MAX_ARTICLE_CHARS`
    as it is now (the CLI's ``--max-chars`` sets it); 0 or None: no cap."""
    if max_chars is DEFAULT_MAX_CHARS:
        max_chars = ingest.MAX_ARTICLE_CHARS
    if max_chars is not None and max_chars < 0:
        raise AlliancesError(f"max_chars must be 0 (no cap) or more, got {max_chars}")
    return max_chars or None


def read_screened(inputs: Sequence[str | Path], fmt: str = "auto", fields: Fields = Fields(),
                  counters: Counters | None = None, *, english_only: bool = True,
                  dedupe: bool = True, max_chars=DEFAULT_MAX_CHARS) -> Iterator[Article | Reject]:
    """:func:`~pipeline.stages.ingest.read_articles` with the screening on by default.

    Rejects of the screening come as :class:`Screened`, which also names the duplicate
    article's doc_id (``Screened.doc_id`` duplicates ``Screened.duplicate_of``).
    Articles longer than ``max_chars`` (default :data:`pipeline.stages.ingest.MAX_ARTICLE_CHARS`,
    read when called) are capped with a one-line
    :class:`~pipeline.stages.ingest.TextCappedWarning`, counted in ``counters.truncated``.
    """
    max_chars = _max_chars(max_chars)
    counters = counters if counters is not None else Counters()
    deduplicator = _RecordingDeduplicator() if dedupe else None
    non_english = counters.extra.get("not_english", 0)
    for item in read_articles(inputs, fmt, fields, counters, english_only=english_only,
                              dedupe=deduplicator if deduplicator is not None else False, max_chars=max_chars):
        if isinstance(item, Reject):
            # screening happens inside the very step that yields its reject, so what it
            # recorded since the previous item belongs to this one
            if deduplicator is not None and deduplicator.last is not None:
                doc_id, kind, earlier = deduplicator.last
                item = Screened(item.where, item.reason, "duplicate", doc_id, earlier, kind == "near")
            elif counters.extra.get("not_english", 0) > non_english:
                item = Screened(item.where, item.reason, "non_english")
        non_english = counters.extra.get("not_english", 0)
        if deduplicator is not None:
            deduplicator.last = None
        yield item


@dataclass
class Shard:
    """Articles ``[index*shard_size, (index+1)*shard_size)`` of the stream, and the rejects met while filling it."""

    index: int
    articles: list[Article]
    rejects: list[Reject]
    words: int = 0

    @property
    def name(self) -> str:
        return part_name(self.index)

    @property
    def duplicates(self) -> list[Screened]:
        return [r for r in self.rejects if isinstance(r, Screened) and r.kind == "duplicate"]

    @property
    def non_english(self) -> int:
        return sum(1 for r in self.rejects if isinstance(r, Screened) and r.kind == "non_english")


@dataclass
class DatasetSummary:
    """What a :func:`run_dataset` did (so far, when passed to ``progress``)."""

    output: str
    articles: int = 0
    words: int = 0
    triples: int = 0
    rejects: int = 0
    reject_samples: list[Reject] = field(default_factory=list)
    duplicates: int = 0
    duplicate_samples: list[Screened] = field(default_factory=list)
    non_english: int = 0
    shards: int = 0
    shards_written: int = 0
    shards_resumed: int = 0
    articles_resumed: int = 0
    words_resumed: int = 0
    retries: int = 0
    seconds: float = 0.0
    per_relation: dict[str, int] = field(default_factory=dict)
    counters: Counters = field(default_factory=Counters)
    model_version: str = ""
    complete: bool = False

    @property
    def words_per_second(self) -> float:
        """Words of the shards processed by this run (not resumed ones) per second."""
        return (self.words - self.words_resumed) / self.seconds if self.seconds else 0.0

    @property
    def docs_per_second(self) -> float:
        return (self.articles - self.articles_resumed) / self.seconds if self.seconds else 0.0


# -- shards ------------------------------------------------------------------------------

def iter_shards(items: Iterable[Article | Reject], shard_size: int, limit: int | None = None) -> Iterator[Shard]:
    """Cut a stream of articles and rejects into deterministic shards.

    There is always at least one shard (an empty one for an empty stream), so the
    output is always a readable dataset.
    """
    if shard_size < 1:
        raise ValueError("shard_size must be at least 1")
    index, n = 0, 0
    current = Shard(0, [], [])
    for item in items:
        if isinstance(item, Reject):
            current.rejects.append(item)
            continue
        if limit is not None and n >= limit:
            break
        current.articles.append(item)
        current.words += len(item.text.split())
        n += 1
        if len(current.articles) == shard_size:
            yield current
            index += 1
            current = Shard(index, [], [])
        if limit is not None and n >= limit:
            break
    if current.articles or current.rejects or index == 0:
        yield current


def estimate_articles(inputs: Sequence[str | Path], fmt: str = "auto", limit: int | None = None) -> int | None:
    """A cheap upper estimate of the number of articles (for an ETA), or None when not cheap.

    Text and HTML files count one each (compressed or not), uncompressed JSON Lines one
    per line, Parquet from its footer; anything else (CSV, WARC, compressed JSON Lines
    -- recognised by its magic bytes, whatever the name says -- stdin) makes the total
    unknown. Screening (language, duplicates) is not foreseen: the estimate is an upper bound.
    """
    total = 0
    for path, f in list_inputs(inputs, fmt):
        if path is None:
            return None
        if f in ("txt", "html"):
            total += 1
        elif f == "jsonl":
            with open(path, "rb") as fh:
                if fh.read(4).startswith((GZIP_MAGIC, ZSTD_MAGIC)):
                    return None  # newlines of compressed bytes mean nothing
                fh.seek(0)
                lines, last = 0, b"\n"
                while chunk := fh.read(1 << 20):
                    lines += chunk.count(b"\n")
                    last = chunk[-1:]
            total += lines + (last != b"\n")
        elif f == "parquet":
            try:
                total += pq.ParquetFile(path).metadata.num_rows
            except Exception:  # not readable as Parquet: the run reports it
                return None
        else:
            return None
    return min(total, limit) if limit is not None else total


# -- processing (driver or worker side) --------------------------------------------------

def process_articles(model: Model, articles: Sequence[Article], batch_size: int = 16) -> pa.Table:
    """The triples of some articles, as an Arrow table of the output schema."""
    from pipeline.extract import extract_articles

    return to_table(t for triples in extract_articles(articles, model, batch_size) for t in triples)


_WORKER_MODEL: Model | None = None


def _init_worker(model_dir: str) -> None:
    """Process-pool initializer: ignore Ctrl-C (the driver stops the pool), one torch thread, load the model once."""
    global _WORKER_MODEL
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    torch.set_num_threads(1)
    _WORKER_MODEL = load_model(model_dir)


def _pool_task(articles: list[Article], batch_size: int) -> pa.Table:
    return process_articles(_WORKER_MODEL, articles, batch_size)


def _dask_task(model_dir: str, articles: list[Article], batch_size: int, driver_pid: int) -> pa.Table:
    """One shard on a dask worker; the model is cached per worker process by :func:`load_model`."""
    if os.getpid() != driver_pid:
        import torch

        torch.set_num_threads(1)
    return process_articles(load_model(model_dir), articles, batch_size)


class _InlineExecutor:
    """Runs each task when submitted, in this process (``workers=1``)."""

    def __init__(self, model: Model):
        self.model = model

    def submit(self, articles, batch_size) -> Future:
        future: Future = Future()
        future.set_result(process_articles(self.model, articles, batch_size))
        return future

    def shutdown(self) -> None:
        pass


class _PoolExecutor:
    """``workers`` spawned processes, each with the model loaded once."""

    def __init__(self, model_dir: str, workers: int):
        self.model_dir, self.workers = model_dir, workers
        self.restart()

    def restart(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_init_worker, initargs=(self.model_dir,))

    def submit(self, articles, batch_size) -> Future:
        return self.pool.submit(_pool_task, articles, batch_size)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def kill(self) -> None:
        """Stop now: cancel queued tasks and terminate the worker processes."""
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            try:
                p.terminate()
            except (OSError, ValueError):
                pass
        for p in processes:
            try:
                p.join(timeout=10)
            except (OSError, ValueError, AssertionError):
                pass


class _DaskExecutor:
    """Shards as dask tasks on a scheduler (an address, a cluster or a client) or a new LocalCluster."""

    def __init__(self, model_dir: str, scheduler, workers: int):
        try:
            from distributed import Client, LocalCluster
        except ImportError as e:
            raise AlliancesError("engine 'dask' needs dask: pip install 'alliances[dask]'") from e
        self.cluster = None
        self.own_client = True
        if scheduler is None:
            self.cluster = LocalCluster(n_workers=max(workers, 1), threads_per_worker=1)
            self.client = Client(self.cluster)
        elif isinstance(scheduler, Client):
            self.client, self.own_client = scheduler, False
        else:
            self.client = Client(scheduler)
        self.model_dir = model_dir
        self.executor = self.client.get_executor(pure=False)

    def submit(self, articles, batch_size) -> Future:
        return self.executor.submit(_dask_task, self.model_dir, articles, batch_size, os.getpid())

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False)
        if self.own_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# -- files -------------------------------------------------------------------------------

def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _commit_file(tmp: Path, final: Path) -> None:
    """Make a finished temporary file durable, rename it to ``final``, and make the rename
    durable: after a crash the file is either absent or whole, never partial."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    _fsync_dir(final.parent)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        _commit_file(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_table(table: pa.Table, path: Path) -> None:
    """Write one Parquet file (tests replace this to simulate a full disk)."""
    pq.write_table(table, str(path), compression="zstd")


def _read_part_info(path: Path) -> dict | None:
    """The shard record stored in a part's footer, or None if the part is unreadable or not ours."""
    try:
        meta = pq.read_schema(path).metadata or {}
        return json.loads(meta[PART_META_KEY])
    except Exception:  # a foreign or damaged file: the shard is redone
        return None


def _one_line(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__


class _Dataset:
    """The output directory: lock, manifest, parts and rejects."""

    def __init__(self, path: Path):
        self.path = path
        self.lock_fh = None

    # lock ---------------------------------------------------------------------------
    def lock(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise OutputError(f"{self.path}: is a file; give a directory (or a name ending in .parquet for one file)")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fh = open(self.path / LOCK, "a+")
        except OSError as e:
            raise OutputError(f"{self.path}: cannot be written ({_one_line(e)})") from e
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise OutputError(f"{self.path}: another run (pid {holder}) is writing this dataset; "
                                  "wait for it or choose another output") from e
            raise OutputError(f"{self.path}: cannot be locked ({_one_line(e)})") from e
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self.lock_fh = fh

    def unlock(self) -> None:
        if self.lock_fh is not None:
            fcntl.flock(self.lock_fh.fileno(), fcntl.LOCK_UN)
            self.lock_fh.close()
            self.lock_fh = None

    # contents -----------------------------------------------------------------------
    def ours(self, name: str) -> bool:
        return (name in (MANIFEST, SUCCESS, REJECTS_DIR, LOCK, DUPLICATES) or (name.startswith("part-") and name.endswith(".parquet"))
                or (name.startswith(".") and name.endswith(".tmp")))

    def read_manifest(self) -> dict | None:
        path = self.path / MANIFEST
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise OutputError(f"{path}: unreadable manifest ({e}); pass --overwrite to start again") from e

    def write_manifest(self, manifest: dict) -> None:
        _atomic_write_bytes(self.path / MANIFEST, (json.dumps(manifest, indent=2, default=str) + "\n").encode())

    def clear(self) -> None:
        """Remove a previous run's files (only files this module writes)."""
        (self.path / SUCCESS).unlink(missing_ok=True)
        (self.path / MANIFEST).unlink(missing_ok=True)
        (self.path / DUPLICATES).unlink(missing_ok=True)
        for p in self.path.iterdir():
            if p.name.startswith("part-") and p.name.endswith(".parquet") or p.name.endswith(".tmp"):
                p.unlink(missing_ok=True)
        rejects = self.path / REJECTS_DIR
        if rejects.is_dir():
            for p in rejects.iterdir():
                p.unlink(missing_ok=True)

    def remove_temporaries(self) -> None:
        for directory in (self.path, self.path / REJECTS_DIR):
            if directory.is_dir():
                for p in directory.iterdir():
                    if p.name.startswith(".") and p.name.endswith(".tmp"):
                        p.unlink(missing_ok=True)

    # shards -------------------------------------------------------------------------
    def done(self, shard: Shard, config_hash: str) -> dict | None:
        path = self.path / shard.name
        if not path.exists():
            return None
        info = _read_part_info(path)
        if info is None or info.get("config") != config_hash or info.get("shard") != shard.index:
            return None
        return info

    def commit(self, shard: Shard, table: pa.Table, config_hash: str) -> dict:
        """Write the shard's rejects, then its part under a temporary name, then rename it into place."""
        info = {"shard": shard.index, "config": config_hash, "articles": len(shard.articles),
                "words": shard.words, "triples": table.num_rows, "rejects": len(shard.rejects),
                "duplicates": len(shard.duplicates), "non_english": shard.non_english,
                "first": shard.articles[0].doc_id if shard.articles else None,
                "last": shard.articles[-1].doc_id if shard.articles else None,
                "per_relation": _per_relation(table)}
        final = self.path / shard.name
        rejects = self.path / REJECTS_DIR / f"{final.stem}.jsonl"
        tmp = self.path / f".{shard.name}.{os.getpid()}.tmp"
        try:
            if shard.rejects:
                rejects.parent.mkdir(exist_ok=True)
                lines = "".join(json.dumps(_reject_record(shard.index, r)) + "\n" for r in shard.rejects)
                _atomic_write_bytes(rejects, lines.encode())
            else:
                rejects.unlink(missing_ok=True)
            table = table.cast(SCHEMA).replace_schema_metadata({PART_META_KEY: json.dumps(info).encode()})
            _write_table(table, tmp)
            _commit_file(tmp, final)
        except OSError as e:
            raise OutputError(f"{final}: cannot be written ({_one_line(e)}); the parts already written are kept, "
                              "re-run the same command to resume") from e
        finally:
            tmp.unlink(missing_ok=True)
        return info


def _reject_record(shard: int, r: Reject) -> dict:
    rec = {"shard": shard, "where": r.where, "reason": r.reason}
    if isinstance(r, Screened) and r.kind == "duplicate":
        rec.update(doc_id=r.doc_id, duplicate_of=r.duplicate_of, kind="near" if r.near else "exact")
    return rec


def _duplicate_record(shard: int, r: Screened) -> dict:
    return {"doc_id": r.doc_id, "duplicate_of": r.duplicate_of, "kind": "near" if r.near else "exact",
            "where": r.where, "shard": shard}


def _per_relation(table: pa.Table) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in table.column("relation").to_pylist():
        out[r] = out.get(r, 0) + 1
    return out


def _input_fingerprint(inputs: Sequence[str | Path], fmt: str) -> list[dict]:
    out = []
    for path, f in list_inputs(inputs, fmt):
        if path is None:
            out.append({"path": "-", "format": f})
            continue
        st = path.stat()
        out.append({"path": str(path.resolve()), "format": f, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


def _differences(old: dict, new: dict) -> str:
    diffs = []
    for key in sorted(set(old.get("config", {})) | set(new["config"])):
        a, b = old.get("config", {}).get(key), new["config"].get(key)
        if a != b:
            diffs.append(f"{key} {json.dumps(a)} -> {json.dumps(b)}")
    if old.get("inputs") != new["inputs"]:
        diffs.append("different inputs")
    return ", ".join(diffs) or "different configuration"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# -- the run -----------------------------------------------------------------------------

def run_dataset(inputs: Sequence[str | Path], out_dir: str | Path, model: Model | str | Path | None = None,
                fmt: str = "auto", fields: Fields = Fields(), limit: int | None = None, workers: int = 1,
                shard_size: int = 200, engine: str = "local", scheduler=None, overwrite: bool = False,
                progress: Callable[[DatasetSummary], None] | None = None, batch_size: int = 16, *,
                english_only: bool = True, dedupe: bool = True, max_chars=DEFAULT_MAX_CHARS) -> DatasetSummary:
    """Extract triples from files into a dataset directory of Parquet parts; resumable.

    Re-running the same call resumes: shards whose part exists are not processed
    again. An output directory holding a run with another configuration (shard
    size, format, fields, limit, model version) or other inputs is refused unless
    ``overwrite``. ``workers`` > 1 runs shards in that many spawned processes;
    ``engine="dask"`` runs them as tasks on ``scheduler`` (an address, a
    ``distributed`` cluster or client; None starts a LocalCluster). Either way only
    this process writes, so each shard is committed exactly once.

    ``english_only`` rejects confidently non-English articles, ``dedupe`` exact and near
    duplicates of earlier articles of the run (``_duplicates.jsonl`` lists them); both
    are on by default and part of the configuration. So is ``max_chars``: articles longer
    than that many characters (default :data:`pipeline.stages.ingest.MAX_ARTICLE_CHARS`;
    0 or None: no cap) are capped with a one-line warning and counted as ``capped``.
    """
    max_chars = _max_chars(max_chars)
    if engine not in ENGINES:
        raise AlliancesError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    if workers < 1:
        raise AlliancesError(f"workers must be at least 1, got {workers}")
    if shard_size < 1:
        raise AlliancesError(f"shard size must be at least 1, got {shard_size}")
    started = time.perf_counter()
    started_at = _now()
    fingerprint = _input_fingerprint(inputs, fmt)  # raises InputError before anything is written

    inline = engine == "local" and workers == 1
    if isinstance(model, Model):
        loaded: Model | None = model
        model_dir = str(Path(model.directory).resolve())
        version = model.version
    else:
        model_dir = str(Path(model).resolve() if model else default_model_dir().resolve())
        loaded = None  # loaded after the output checks, which are quick
        version = read_meta(model_dir).get("version", "unknown")

    config = {"shard_size": shard_size, "format": fmt, "fields": asdict(fields), "limit": limit,
              "english_only": bool(english_only), "dedupe": bool(dedupe), "max_chars": max_chars,
              "model_version": version, "schema": hashlib.sha256(str(SCHEMA).encode()).hexdigest()[:12]}
    wanted = {"config": config, "inputs": fingerprint}
    config_hash = hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()[:16]

    out = _Dataset(Path(out_dir))
    out.lock()
    try:
        previous = out.read_manifest()
        foreign = [p.name for p in out.path.iterdir() if not out.ours(p.name) and not p.name.startswith(".")]
        if foreign:
            raise OutputError(f"{out.path}: holds files that are not part of an alliances dataset "
                              f"({', '.join(sorted(foreign)[:3])}); choose an empty or new directory")
        has_parts = any(p.name.startswith("part-") for p in out.path.iterdir())
        if overwrite:
            out.clear()
            previous = None
        elif previous is not None and previous.get("config_hash") != config_hash:
            raise OutputError(f"{out.path}: holds a run with a different configuration ({_differences(previous, wanted)}); "
                              "pass --overwrite to replace it or choose another output")
        elif previous is None and has_parts:
            raise OutputError(f"{out.path}: holds part files without a manifest; pass --overwrite to replace them")
        elif previous is not None and any(i["path"] == "-" for i in fingerprint):
            raise OutputError(f"{out.path}: holds a run that read stdin, which cannot be resumed; "
                              "pass --overwrite to start again")
        out.remove_temporaries()
        (out.path / SUCCESS).unlink(missing_ok=True)

        runs = (previous or {}).get("runs", [])
        manifest = {"format": "alliances-dataset", "format_version": DATASET_FORMAT, "status": "running",
                    "config_hash": config_hash, "inputs_given": [str(i) for i in inputs], **wanted,
                    "model": {"version": version, "directory": model_dir},
                    "engine": {"engine": engine, "workers": workers,
                               "scheduler": scheduler if isinstance(scheduler, str) or scheduler is None else type(scheduler).__name__},
                    "runs": runs + [{"started": started_at}]}
        out.write_manifest(manifest)

        summary = DatasetSummary(output=str(out.path), model_version=version)
        shard_infos: dict[int, dict] = {}
        executor = None
        try:
            if inline:
                executor = _InlineExecutor(loaded or load_model(model_dir))
            elif engine == "local":
                executor = _PoolExecutor(model_dir, workers)
            else:
                executor = _DaskExecutor(model_dir, scheduler, workers)
            _drive(out, executor, summary, shard_infos, inputs, fmt, fields, limit, shard_size, batch_size,
                   config_hash, workers, started, progress, english_only, dedupe, max_chars)
        except BaseException as e:
            if isinstance(executor, _PoolExecutor):
                executor.kill()
            elif executor is not None:
                _quietly(executor.shutdown)
            executor = None
            manifest["status"] = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
            manifest["runs"][-1].update(finished=_now(), seconds=round(time.perf_counter() - started, 3),
                                        shards_written=summary.shards_written, error=str(e) or type(e).__name__)
            _quietly(out.write_manifest, manifest)
            raise
        finally:
            if executor is not None:
                executor.shutdown()

        summary.seconds = time.perf_counter() - started
        summary.complete = True
        shards = [shard_infos[k] for k in sorted(shard_infos)]
        manifest.update(
            status="complete",
            counts={"articles": summary.articles, "words": summary.words, "triples": summary.triples,
                    "rejects": summary.rejects, "duplicates": summary.duplicates,
                    "non_english": summary.non_english, "shards": len(shards), "per_relation": summary.per_relation,
                    "replaced_bytes": summary.counters.replaced_bytes, "capped": summary.counters.truncated},
            shards=[{"part": part_name(s["shard"]), **{k: s.get(k, 0) for k in ("articles", "words", "triples", "rejects",
                                                                               "duplicates", "non_english")},
                     "first": s["first"], "last": s["last"]} for s in shards],
        )
        if dedupe:
            manifest["duplicates_file"] = DUPLICATES
        manifest["runs"][-1].update(finished=_now(), seconds=round(summary.seconds, 3),
                                    shards_written=summary.shards_written, shards_resumed=summary.shards_resumed,
                                    retries=summary.retries)
        manifest["timings"] = {"first_started": manifest["runs"][0]["started"], "finished": _now(),
                               "seconds_total": round(sum(r.get("seconds", 0) for r in manifest["runs"]), 3),
                               "words_per_second_last_run": round(summary.words_per_second, 1)}
        try:
            out.write_manifest(manifest)
            _atomic_write_bytes(out.path / SUCCESS, b"")
        except OSError as e:
            raise OutputError(f"{out.path / MANIFEST}: cannot be written ({_one_line(e)}); "
                              "re-run the same command to finish") from e
        return summary
    finally:
        out.unlock()


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except Exception:
        pass


def _drive(out: _Dataset, executor, summary: DatasetSummary, shard_infos: dict[int, dict], inputs, fmt, fields,
           limit, shard_size, batch_size, config_hash, workers, started, progress, english_only=True,
           dedupe=True, max_chars=None) -> None:
    """Stream shards, skip done ones, keep a bounded number in flight, commit results as they complete.

    With ``dedupe``, the duplicates of every shard streamed (done ones included: the
    stream is the same on every run) are written to a temporary file that replaces
    ``_duplicates.jsonl`` once every shard is committed.
    """
    pending: dict[Future, Shard] = {}
    attempts: dict[int, int] = {}
    max_in_flight = 1 if isinstance(executor, _InlineExecutor) else 2 * workers

    def account(shard: Shard, info: dict, resumed: bool) -> None:
        shard_infos[shard.index] = info
        summary.shards += 1
        summary.articles += info["articles"]
        summary.words += info["words"]
        summary.triples += info["triples"]
        summary.rejects += info["rejects"]
        summary.duplicates += info.get("duplicates", 0)
        summary.non_english += info.get("non_english", 0)
        for r, n in info.get("per_relation", {}).items():
            summary.per_relation[r] = summary.per_relation.get(r, 0) + n
        if resumed:
            summary.shards_resumed += 1
            summary.articles_resumed += info["articles"]
            summary.words_resumed += info["words"]
        else:
            summary.shards_written += 1
            room = REJECT_SAMPLES - len(summary.reject_samples)
            summary.reject_samples.extend(shard.rejects[:max(room, 0)])
        summary.seconds = time.perf_counter() - started
        if progress is not None:
            progress(summary)

    def submit(shard: Shard) -> None:
        attempts[shard.index] = attempts.get(shard.index, 0) + 1
        pending[executor.submit(shard.articles, batch_size)] = shard

    def collect(block: bool) -> None:
        if not pending:
            return
        done, _ = wait(list(pending), timeout=None if block else 0, return_when=FIRST_COMPLETED)
        broken = []
        for future in sorted(done, key=lambda f: pending[f].index):
            shard = pending.pop(future)
            error = future.exception()
            if error is None:
                account(shard, out.commit(shard, future.result(), config_hash), resumed=False)
            elif isinstance(error, BrokenProcessPool):
                broken.append(shard)
            elif type(error).__name__ == "KilledWorker":
                # dask already retried the task on other workers (distributed.scheduler.allowed-failures)
                raise AlliancesError(f"{shard.name}: dask workers died while processing this shard ({error}); "
                                     "nothing of it was written, re-run to resume") from error
            else:
                raise error
        if broken:
            # A worker died: every task still in the pool is lost with it. Start a new pool and
            # resubmit them; nothing of theirs was committed, so nothing is duplicated.
            lost = broken + [pending.pop(f) for f in list(pending)]
            for shard in lost:
                if attempts[shard.index] >= MAX_ATTEMPTS:
                    raise AlliancesError(f"{shard.name}: worker processes died {attempts[shard.index]} times "
                                         "while processing this shard (out of memory?); re-run to resume")
            executor.kill()
            executor.restart()
            summary.retries += len(lost)
            for shard in sorted(lost, key=lambda s: s.index):
                submit(shard)

    counters = summary.counters
    items = read_screened(inputs, fmt, fields, counters, english_only=english_only, dedupe=dedupe,
                          max_chars=max_chars)
    dup_final = out.path / DUPLICATES
    dup_tmp = out.path / f".{DUPLICATES}.{os.getpid()}.tmp"
    dup_fh = None
    try:
        if dedupe:
            try:
                dup_fh = open(dup_tmp, "w")  # noqa: SIM115 - closed below
            except OSError as e:
                raise OutputError(f"{dup_final}: cannot be written ({_one_line(e)})") from e
        for shard in iter_shards(items, shard_size, limit):
            duplicates = shard.duplicates
            if dup_fh is not None and duplicates:
                room = DUPLICATE_SAMPLES - len(summary.duplicate_samples)
                summary.duplicate_samples.extend(duplicates[:max(room, 0)])
                try:
                    dup_fh.write("".join(json.dumps(_duplicate_record(shard.index, r)) + "\n" for r in duplicates))
                except OSError as e:
                    raise OutputError(f"{dup_final}: cannot be written ({_one_line(e)}); "
                                      "re-run the same command to resume") from e
            info = out.done(shard, config_hash)
            if info is not None:
                account(shard, info, resumed=True)
                continue
            while len(pending) >= max_in_flight:
                collect(block=True)
            submit(shard)
            collect(block=False)
        while pending:
            collect(block=True)
        if dup_fh is not None:
            try:
                dup_fh.close()
                _commit_file(dup_tmp, dup_final)
            except OSError as e:
                raise OutputError(f"{dup_final}: cannot be written ({_one_line(e)}); "
                                  "re-run the same command to finish") from e
    finally:
        if dup_fh is not None and not dup_fh.closed:
            _quietly(dup_fh.close)
        dup_tmp.unlink(missing_ok=True)
