"""The job list as JSON bytes, cheap to serve with thousands of jobs.

Each job's JSON is kept between requests and made again only when the store
marks that job changed, so a list of 10,000 jobs costs a join of cached
bytes rather than 10,000 rows turned into dicts. Pages, status filters and a
summary form are cut from the same cache.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
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
# Fast compression: the whole list shrinks about tenfold at this level, in
# a fraction of the time a stronger one takes.
GZIP_LEVEL = 1


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
        """True for the plain list, every job in full, as the API reference has it."""
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
    full: bytes
    summary: bytes


@dataclasses.dataclass(frozen=True)
class _Snapshot:
    """Which jobs there are, in order, with their status, at one store token."""

    token: str
    membership: int
    revisions: dict[str, int]
    order: list[str]
    statuses: dict[str, str]

    @functools.cached_property
    def counts(self) -> dict[str, int]:
        return dict(Counter(self.statuses.values()))


class JobListing:
    """The store's job list as JSON, kept up to date one changed job at a time.

    A job is turned into JSON only when a response first needs it, so the
    first page after a start costs its own jobs, not all of them.
    """

    def __init__(self, store: JobStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._snapshot = _Snapshot("", -1, {}, [], {})
        self._entries: dict[str, _Entry] = {}
        self._whole: tuple[str, bytes] = ("", b"")
        self._whole_gzipped: tuple[str, bytes] = ("", b"")

    def body(self, query: ListQuery, gzipped: bool = False) -> bytes:
        """The JSON body for ``query``: ``{"jobs": [...], "token": T, ...}``.

        With ``gzipped``, the body gzip-compressed; the whole list is
        compressed once per change, however many clients ask.
        """
        with self._lock:
            snapshot = self._current()
            if query.whole and gzipped:
                return self._whole_gzipped_body(snapshot)
            if query.whole:
                return self._whole_body(snapshot)
            ids = snapshot.order
            if query.statuses is not None:
                ids = [i for i in ids if snapshot.statuses[i] in query.statuses]
            if query.newest_first:
                ids = ids[::-1]
            end = None if query.limit is None else query.offset + query.limit
            entries = self._entries_of(snapshot, ids[query.offset : end])
        field = "summary" if query.summary else "full"
        jobs = b",".join(getattr(entry, field) for entry in entries)
        extra = {
            "token": snapshot.token,
            "total": len(ids),
            "offset": query.offset,
            "counts": snapshot.counts,
        }
        body = b'{"jobs":[' + jobs + b"]," + _dumps(extra)[1:]
        return gzip.compress(body, GZIP_LEVEL) if gzipped else body

    def _whole_gzipped_body(self, snapshot: _Snapshot) -> bytes:
        token, body = self._whole_gzipped
        if token != snapshot.token:
            body = gzip.compress(self._whole_body(snapshot), GZIP_LEVEL)
            self._whole_gzipped = (snapshot.token, body)
        return body

    def _whole_body(self, snapshot: _Snapshot) -> bytes:
        token, body = self._whole
        if token != snapshot.token:
            entries = self._entries_of(snapshot, snapshot.order)
            jobs = b",".join(entry.full for entry in entries)
            tail = _dumps({"token": snapshot.token})[1:]
            body = b'{"jobs":[' + jobs + b"]," + tail
            self._whole = (snapshot.token, body)
        return body

    def _current(self) -> _Snapshot:
        # The token is read first: a change made while the list is read then
        # moves it again, and the next request sees that change.
        token = self._store.token
        if token != self._snapshot.token:
            self._snapshot = self._reread(token)
        return self._snapshot

    def _reread(self, token: str) -> _Snapshot:
        """The order and statuses, asking the store only about changed jobs."""
        old = self._snapshot
        membership, revisions = self._store.revisions()
        if membership != old.membership:
            rows = self._store.statuses()
        else:
            changed = {
                i for i in old.order if revisions.get(i, 0) != old.revisions.get(i, 0)
            }
            rows = [(i, old.statuses[i]) for i in old.order]
            fresh = dict(self._store.statuses(changed))
            # A job deleted since the revisions were read drops out here.
            rows = [
                (i, fresh.get(i, s)) for i, s in rows if i not in changed or i in fresh
            ]
        return _Snapshot(token, membership, revisions, [i for i, _ in rows], dict(rows))

    def _entries_of(self, snapshot: _Snapshot, ids: list[str]) -> list[_Entry]:
        """The JSON of each job in ``ids``, made now for those not yet made."""
        stale = [
            i
            for i in ids
            if i not in self._entries
            or self._entries[i].revision != snapshot.revisions.get(i, 0)
        ]
        for job in self._store.get_many(stale):
            self._entries[job.id] = _entry(job, snapshot.revisions.get(job.id, 0))
        if len(self._entries) > len(snapshot.order) * 2:
            self._forget_gone(snapshot)
        return [self._entries[i] for i in ids if i in self._entries]

    def _forget_gone(self, snapshot: _Snapshot) -> None:
        self._entries = {
            i: e for i, e in self._entries.items() if i in snapshot.statuses
        }


def _entry(job: Job, revision: int) -> _Entry:
    full = job.to_dict()
    return _Entry(revision, _dumps(full), _dumps(summary_of(full)))


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
