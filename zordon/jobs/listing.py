"""The job list as JSON bytes, cheap to serve with thousands of jobs.

Each job's JSON is kept between requests and made again only when the store
marks that job changed, so a list of 10,000 jobs costs a join of cached
bytes rather than 10,000 rows turned into dicts. Pages, status filters and a
summary form are cut from the same cache.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

from zordon.errors import InvalidRequest
from zordon.jobs.model import Job
from zordon.jobs.status import string_to_status
from zordon.jobs.store import JobStore

MAX_PAGE = 1000
SUMMARY_FIELDS = (
    "id",
    "name",
    "status",
    "renderer",
    "engine_version",
    "input_file",
    "total_frames",
    "frames_done",
    "progress",
    "error",
    "enable_split_jobs",
    "parent",
    "created_at",
    "started_at",
    "finished_at",
)
CHILD_SUMMARY_FIELDS = ("id", "server", "hostname", "status", "progress", "lost")
MAX_SUMMARY_ERROR = 300


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """Which jobs of the list to send, and in which form."""

    statuses: frozenset[str] | None = None
    offset: int = 0
    limit: int | None = None
    newest_first: bool = False
    summary: bool = False

    @property
    def whole(self) -> bool:
        """True for the plain list every job in full, as the API reference gives."""
        return self == ListQuery()

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ListQuery:
        """Read ``status``, ``offset``, ``limit``, ``order`` and ``fields``."""
        statuses = None
        if args.get("status"):
            names = args["status"].split(",")
            statuses = frozenset(string_to_status(n).value for n in names if n)
        order = args.get("order", "oldest").lower()
        fields = args.get("fields", "full").lower()
        if order not in ("oldest", "newest"):
            raise InvalidRequest("order must be oldest or newest")
        if fields not in ("full", "summary"):
            raise InvalidRequest("fields must be full or summary")
        return cls(
            statuses=statuses,
            offset=_count(args, "offset", 0, None),
            limit=_count(args, "limit", None, MAX_PAGE),
            newest_first=order == "newest",
            summary=fields == "summary",
        )


def _count(args: Mapping[str, str], name: str, default: Any, high: int | None) -> Any:
    text = args.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or (high is not None and int(text) > high):
        top = f" up to {high}" if high is not None else ""
        raise InvalidRequest(f"{name} must be a whole number{top}")
    return int(text)


@dataclasses.dataclass(frozen=True)
class _Entry:
    revision: int
    status: str
    full: bytes
    summary: bytes


@dataclasses.dataclass(frozen=True)
class _Snapshot:
    token: str
    membership: int
    order: list[str]
    entries: dict[str, _Entry]

    @functools.cached_property
    def counts(self) -> dict[str, int]:
        return dict(Counter(entry.status for entry in self.entries.values()))


class JobListing:
    """The store's job list as JSON, kept up to date one changed job at a time."""

    def __init__(self, store: JobStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._snapshot = _Snapshot("", -1, [], {})
        self._whole: tuple[str, bytes] = ("", b"")

    def body(self, query: ListQuery) -> bytes:
        """The JSON body for ``query``: ``{"jobs": [...], "token": T, ...}``."""
        snapshot = self._current()
        if query.whole:
            return self._whole_body(snapshot)
        ids = snapshot.order
        if query.statuses is not None:
            ids = [i for i in ids if snapshot.entries[i].status in query.statuses]
        if query.newest_first:
            ids = ids[::-1]
        end = None if query.limit is None else query.offset + query.limit
        page = ids[query.offset : end]
        field = "summary" if query.summary else "full"
        jobs = b",".join(getattr(snapshot.entries[i], field) for i in page)
        extra = {
            "token": snapshot.token,
            "total": len(ids),
            "offset": query.offset,
            "counts": snapshot.counts,
        }
        return b'{"jobs":[' + jobs + b"]," + _dumps(extra)[1:]

    def _whole_body(self, snapshot: _Snapshot) -> bytes:
        token, body = self._whole
        if token != snapshot.token:
            jobs = b",".join(snapshot.entries[i].full for i in snapshot.order)
            tail = _dumps({"token": snapshot.token})[1:]
            body = b'{"jobs":[' + jobs + b"]," + tail
            self._whole = (snapshot.token, body)
        return body

    def _current(self) -> _Snapshot:
        with self._lock:
            # The token is read first: a change made while the list is built
            # then moves it again, and the next request sees that change.
            token = self._store.token
            if token != self._snapshot.token:
                self._snapshot = self._rebuild(token)
            return self._snapshot

    def _rebuild(self, token: str) -> _Snapshot:
        membership, revisions = self._store.revisions()
        order = self._snapshot.order
        if membership != self._snapshot.membership:
            order = self._store.ordered_ids()
        old = self._snapshot.entries
        stale = [
            i for i in order if i not in old or old[i].revision != revisions.get(i, 0)
        ]
        entries = {i: old[i] for i in order if i in old}
        for job in self._store.get_many(stale):
            entries[job.id] = _entry(job, revisions.get(job.id, 0))
        # A job deleted between the two reads has no row: leave it out.
        order = [i for i in order if i in entries]
        return _Snapshot(token, membership, order, entries)


def _entry(job: Job, revision: int) -> _Entry:
    full = job.to_dict()
    return _Entry(revision, job.status, _dumps(full), _dumps(summary_of(full)))


def summary_of(job: Mapping[str, Any]) -> dict[str, Any]:
    """What a list view needs of a job: no args, facts, or per-child frame lists."""
    summary = {key: job[key] for key in SUMMARY_FIELDS}
    summary["error"] = str(job["error"])[:MAX_SUMMARY_ERROR]
    summary["children"] = [
        {key: child.get(key) for key in CHILD_SUMMARY_FIELDS}
        for child in job["children"]
    ]
    return summary


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
