"""The answer long-polls wake up to: the job list, built once per change.

When a job changes, every waiting long-poll wakes at once. Each used to list
and serialise every job itself, so fifty dashboards cost fifty copies of the
same work, and the last of them answered hundreds of milliseconds late. Here
the first one builds the JSON and the others send the same bytes.

A client is given the cached list whenever it is newer than the token the
client sent and at most ``MAX_AGE_S`` old: that is a change it has not seen,
and it asks again with the new token at once, which builds a fresh list.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from typing import Any

from zordon.errors import JobNotFoundError
from zordon.jobs.model import Job
from zordon.jobs.store import JobStore

MAX_AGE_S = 1.0
GZIP_LEVEL = 1  # JSON shrinks about tenfold even so, at a fraction of the time


class JobListCache:
    """The serialised job list of one store, with the token it was built at.

    Each job's JSON is kept apart, so a rebuild serialises only the jobs the
    store says changed since the last one; a change it cannot name (a
    restart, history cleared) rebuilds the whole list.
    """

    def __init__(self, store: JobStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._token: str | None = None
        self._built_at = 0.0
        self._body = b""
        self._gzipped: bytes | None = None
        self._jobs: dict[str, bytes] = {}

    def body_for(self, seen: str | None, gzipped: bool = False) -> bytes:
        """JSON of ``{"jobs": [...], "token": T}`` with T newer than ``seen``.

        With ``gzipped``, the same compressed: a tenth of the bytes to send to
        each of the many clients a change wakes at once.
        """
        with self._lock:
            fresh = time.monotonic() - self._built_at <= MAX_AGE_S
            if not (fresh and self._store.is_older(seen, self._token)):
                self._build()
            if not gzipped:
                return self._body
            if self._gzipped is None:
                self._gzipped = gzip.compress(self._body, GZIP_LEVEL, mtime=0)
            return self._gzipped

    def _build(self) -> None:
        # The token is read first: the list is then at least as new as it.
        token = self._store.token
        changed = self._store.changed_since(self._token)
        if changed is None:
            self._jobs = {job.id: _encode(job) for job in self._store.list()}
        else:
            self._update(changed)
        jobs = b",".join(self._jobs.values())
        self._body = b'{"jobs":[' + jobs + b'],"token":' + _encode(token) + b"}"
        self._gzipped = None
        self._token = token
        self._built_at = time.monotonic()

    def _update(self, changed: set[str]) -> None:
        """Re-encode the changed jobs; new ones go last, as they are the newest."""
        new = []
        for job_id in changed:
            try:
                job = self._store.get(job_id)
            except JobNotFoundError:
                self._jobs.pop(job_id, None)
                continue
            if job_id in self._jobs:
                self._jobs[job_id] = _encode(job)
            else:
                new.append(job)
        for job in sorted(new, key=lambda j: j.created_at):
            self._jobs[job.id] = _encode(job)


def _encode(value: Any) -> bytes:
    if isinstance(value, Job):
        value = value.to_dict()
    return json.dumps(value).encode()
