"""CPU and disk benchmarks, one at a time on a server.

The CPU score is the megabytes per second that zlib compresses on every
core at once. zlib lets go of Python's lock while it works, so one thread
per core keeps them all busy; the figure grows with both the cores and
their speed, which is what a split job's share should follow.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from zordon.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

SAMPLE_BYTES = 1 << 20
COMPRESS_LEVEL = 6
BLOCK_BYTES = 1_000_000
MB = 1_000_000


class BenchmarkGate:
    """Lets one benchmark run at a time; a second gets :class:`ServiceUnavailable`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def only_one(self, name: str) -> Iterator[None]:
        if not self._lock.acquire(blocking=False):
            raise ServiceUnavailable("a benchmark is running; try again when it ends")
        logger.info("%s benchmark started", name)
        try:
            yield
        finally:
            self._lock.release()


def cpu_score(duration_s: float, threads: int | None = None) -> float:
    """MB/s zlib compresses on ``threads`` threads (one per core) for ``duration_s``."""
    sample = _sample_text()
    threads = threads or os.cpu_count() or 1
    started = time.monotonic()
    deadline = started + duration_s
    with ThreadPoolExecutor(threads, thread_name_prefix="cpu-benchmark") as pool:
        rounds = sum(
            pool.map(lambda _: _compress_until(sample, deadline), range(threads))
        )
    elapsed = time.monotonic() - started
    score = rounds * len(sample) / elapsed / MB
    logger.info("CPU benchmark: %.1f on %s threads in %.1f s", score, threads, elapsed)
    return score


def _sample_text() -> bytes:
    """A megabyte of word-like text, the same on every machine."""
    rng = random.Random(0)
    letters = b"abcdefghijklmnopqrstuvwxyz"
    words = [bytes(rng.choices(letters, k=rng.randint(2, 9))) for _ in range(2000)]
    text = b" ".join(rng.choices(words, k=SAMPLE_BYTES // 4))
    return text[:SAMPLE_BYTES]


def _compress_until(sample: bytes, deadline: float) -> int:
    rounds = 0
    while rounds == 0 or time.monotonic() < deadline:
        zlib.compress(sample, COMPRESS_LEVEL)
        rounds += 1
    return rounds


def disk_speeds(folder: Path, size_mb: int) -> dict[str, Any]:
    """Write then read ``size_mb`` MB in ``folder``; MB/s each way.

    The file is synced to disk before the write is timed as done, and dropped
    from the page cache before it is read back, so both figures are the
    disk's and not memory's. The file is removed afterwards.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"disk-benchmark-{uuid.uuid4().hex}"
    block = os.urandom(BLOCK_BYTES)
    blocks = max(1, size_mb * MB // BLOCK_BYTES)
    try:
        write_s = _timed_write(path, block, blocks)
        read_s = _timed_read(path)
    finally:
        path.unlink(missing_ok=True)
    size = blocks * BLOCK_BYTES
    result = {
        "write_mb_s": round(size / write_s / MB, 1),
        "read_mb_s": round(size / read_s / MB, 1),
        "size_mb": round(size / MB, 1),
        "folder": str(folder),
    }
    logger.info("disk benchmark in %s: %s", folder, result)
    return result


def _timed_write(path: Path, block: bytes, blocks: int) -> float:
    started = time.perf_counter()
    with open(path, "wb", buffering=0) as out:
        for _ in range(blocks):
            out.write(block)
        os.fsync(out.fileno())
    return time.perf_counter() - started


def _timed_read(path: Path) -> float:
    with open(path, "rb", buffering=0) as source:
        os.posix_fadvise(source.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        started = time.perf_counter()
        while source.read(BLOCK_BYTES):
            pass
        return time.perf_counter() - started
