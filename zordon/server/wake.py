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

import json
import threading
import time

from zordon.jobs.store import JobStore

MAX_AGE_S = 1.0


class JobListCache:
    """The serialised job list of one store, with the token it was built at."""

    def __init__(self, store: JobStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._token: str | None = None
        self._built_at = 0.0
        self._body = b""

    def body_for(self, seen: str | None) -> bytes:
        """JSON of ``{"jobs": [...], "token": T}`` with T newer than ``seen``."""
        with self._lock:
            fresh = time.monotonic() - self._built_at <= MAX_AGE_S
            if not (fresh and self._store.is_older(seen, self._token)):
                self._build()
            return self._body

    def _build(self) -> None:
        # The token is read first: the list is then at least as new as it.
        token = self._store.token
        jobs = [job.to_dict() for job in self._store.list()]
        self._body = json.dumps({"jobs": jobs, "token": token}).encode()
        self._token = token
        self._built_at = time.monotonic()
