"""Reading scene facts in a worker process, with a time limit.

blender-asset-tracer can loop for ever on some damaged files. Reading in
the server's own thread would then pin that thread and a core for good, so
reads happen in one long-lived worker process, which is killed and replaced
when a read takes longer than ``READ_TIMEOUT_S``. A read costs about a
millisecond more than in-process; starting the worker costs a fraction of a
second, once.
"""

from __future__ import annotations

import copy
import logging
import multiprocessing
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from zordon.engines.blend_file import read_scene_facts

logger = logging.getLogger(__name__)

READ_TIMEOUT_S = 5.0
KNOWN_FILES = 256


class BlendReader:
    """Reads .blend scene facts in a worker process; one read at a time."""

    def __init__(self, timeout_s: float = READ_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._known: dict[tuple[Any, ...], dict[str, Any]] = {}

    def read(self, path: Path, scene_name: str | None = None) -> dict[str, Any]:
        """Like :func:`read_scene_facts`; a read that hangs is a ``ValueError``.

        The facts of a file that has not changed since it was last read
        (same inode, size and time) come from memory: a shot submitted again
        and again is read once.
        """
        key = _file_key(path, scene_name)
        with self._lock:
            if key is not None and key in self._known:
                return copy.deepcopy(self._known[key])
            facts = self._read(path, scene_name)
            if key is not None:
                self._known[key] = copy.deepcopy(facts)
                while len(self._known) > KNOWN_FILES:
                    self._known.pop(next(iter(self._known)))
        return facts

    def _read(self, path: Path, scene_name: str | None) -> dict[str, Any]:
        conn = self._connection()
        conn.send((str(path), scene_name))
        if not conn.poll(self.timeout_s):
            self._restart()
            logger.warning("%s: reading it took over %s s", path.name, self.timeout_s)
            raise ValueError(
                f"cannot read {path.name}: gave up after {self.timeout_s:g} s"
            )
        ok, value = conn.recv()
        if not ok:
            raise ValueError(value)
        return value

    def warm_up(self) -> None:
        with self._lock:
            self._connection()

    def close(self) -> None:
        with self._lock:
            self._restart()

    def _connection(self) -> Connection:
        if self._process is None or not self._process.is_alive():
            context = multiprocessing.get_context("spawn")
            ours, theirs = context.Pipe()
            self._process = context.Process(
                target=_serve, args=(theirs,), name="blend-reader", daemon=True
            )
            self._process.start()
            theirs.close()
            self._conn = ours
        assert self._conn is not None
        return self._conn

    def _restart(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join()
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None


def _file_key(path: Path, scene_name: str | None) -> tuple[Any, ...] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_ino, st.st_size, st.st_mtime_ns, scene_name)


def _serve(conn: Connection) -> None:
    """The worker: answer each (path, scene) with (True, facts) or (False, why)."""
    while True:
        try:
            path, scene_name = conn.recv()
        except EOFError:
            return
        try:
            conn.send((True, read_scene_facts(Path(path), scene_name)))
        except ValueError as exc:
            conn.send((False, str(exc)))
