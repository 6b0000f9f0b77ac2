"""The job list as JSON bytes, cheap to serve with thousands of jobs.

Each job's JSON is kept between requests and made again only when the store
marks that job changed, so a list of 10,000 jobs costs a join of cached
bytes rather than 10,000 rows turned into dicts. Pages, status filters and a
summary form are cut from the same cache.

Long-polls wait here, not on the store. After a change one publisher thread
builds the body each waiting poll asked for, once per distinct request, and
only then wakes them: fifty dashboards woken together each pick up finished
bytes instead of queueing behind one another to build the same list.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gzip
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from zordon.errors import InvalidRequest
from zordon.jobs.model import Job
from zordon.jobs.status import string_to_status
from zordon.jobs.store import JobStore

logger = logging.getLogger(__name__)

MAX_PAGE = 1000
MAX_COUNT_DIGITS = 9
LIST_PARAMETERS = ("status", "offset", "limit", "order", "fields")
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
# Snapshots a body is made from at most, when jobs vanish as it is made.
RENDER_TRIES = 3
# How often an idle publisher looks up from the store to see if it should stop.
PUBLISHER_IDLE_S = 1.0


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """Which jobs of the list to send, and in which form."""

    statuses: frozenset[str] | None = None
    offset: int = 0
    limit: int | None = None
    newest_first: bool = False
    summary: bool = False
    # Any of the parameters was given, even at its default: the answer then
    # says how many jobs match, as a page does.
    paged: bool = False

    @property
    def whole(self) -> bool:
        """True for the plain list, every job in full, as the API reference has it."""
        return self == ListQuery()

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ListQuery:
        """Read ``status``, ``offset``, ``limit``, ``order`` and ``fields``."""
        statuses = None
        names = [n for n in args.get("status", "").split(",") if n.strip()]
        if names:
            statuses = frozenset(string_to_status(n).value for n in names)
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
            paged=any(name in args for name in LIST_PARAMETERS),
        )


def _count(args: Mapping[str, str], name: str, default: Any, high: int | None) -> Any:
    text = args.get(name)
    if text is None or text == "":
        return default
    digits = text.isascii() and text.isdigit() and len(text) <= MAX_COUNT_DIGITS
    if not digits or (high is not None and int(text) > high):
        top = f" up to {high}" if high is not None else ""
        raise InvalidRequest(f"{name} must be a whole number{top}")
    return int(text)


class _JobsGone(Exception):
    """Jobs a snapshot lists were deleted before their JSON was made."""


@dataclasses.dataclass(frozen=True)
class _Entry:
    full: bytes
    summary: bytes


_Key = tuple[dt.datetime, str]  # how the store orders jobs: creation, then id
_Want = tuple[ListQuery, bool]  # a query, and whether its body is gzipped


@dataclasses.dataclass(frozen=True)
class _Snapshot:
    """Which jobs there are, in order, with their status, at one store token."""

    token: str
    order: list[str]
    statuses: dict[str, str]
    keys: dict[str, _Key]

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
        self._snapshot = _Snapshot("", [], {}, {})
        self._entries: dict[str, _Entry] = {}
        self._whole: tuple[str, bytes] = ("", b"")
        self._whole_gzipped: tuple[str, bytes] = ("", b"")
        # What the publisher last built, and for whom: long-polls wait on it.
        self._published = threading.Condition()
        self._published_version = -1
        self._published_bodies: dict[_Want, bytes] = {}
        self._waiting: Counter[_Want] = Counter()
        self._publisher: threading.Thread | None = None
        self._closed = False

    def close(self) -> None:
        """Answer waiting polls now (as if nothing changed), and stop the
        publisher within ``PUBLISHER_IDLE_S``."""
        with self._published:
            self._closed = True
            self._published.notify_all()

    def body(self, query: ListQuery, gzipped: bool = False) -> bytes:
        """The JSON body for ``query``: ``{"jobs": [...], "token": T, ...}``.

        With ``gzipped``, the body gzip-compressed; the whole list is
        compressed once per change, however many clients ask.
        """
        want = (query, gzipped)
        with self._lock:
            return self._rendered([want])[1][want]

    def wait(
        self, query: ListQuery, gzipped: bool, token: str | None, timeout_s: float
    ) -> bytes | None:
        """The body for ``query`` once the list is newer than ``token``.

        None when nothing changed within ``timeout_s``. A token that is not
        the current one (older, of an earlier start, made up, or none) gets
        the list at once.
        """
        seen = self._store.version_of(token)
        if seen is None or seen != self._store.version:
            return self.body(query, gzipped)
        self._start_publisher()
        want = (query, gzipped)
        deadline = time.monotonic() + timeout_s
        with self._published:
            self._waiting[want] += 1
            try:
                while self._published_version <= seen:
                    left = deadline - time.monotonic()
                    if left <= 0 or self._closed:
                        break
                    self._published.wait(left)
                newer = self._published_version > seen
                built = self._published_bodies.get(want) if newer else None
            finally:
                self._waiting[want] -= 1
                if not self._waiting[want]:
                    del self._waiting[want]
        if built is not None:
            return built
        # Not built for this poll (it came while the bodies were being made),
        # or the publisher is gone: the store still says whether to answer.
        return self.body(query, gzipped) if self._store.version > seen else None

    def _start_publisher(self) -> None:
        with self._published:
            if self._publisher is None:
                self._publisher = threading.Thread(
                    target=self._publish_changes, name="job-list", daemon=True
                )
                self._publisher.start()

    def _publish_changes(self) -> None:
        """Build what the waiting polls want after each change, then wake them.

        Changes that come while bodies are being built are taken together
        on the next turn, so a burst of writes costs one build, not one each.
        """
        published = None
        while not self._closed:
            try:
                if self._store.wait_for_change(published, PUBLISHER_IDLE_S):
                    published = self._publish()
            except Exception:
                if self._closed:
                    break  # the store closed under it: the server is stopping
                logger.exception("job list: building it for waiting polls failed")
                time.sleep(PUBLISHER_IDLE_S)
        with self._published:
            self._published.notify_all()

    def _publish(self) -> str:
        """Make each waiting poll's body, then wake them all; the token published.

        Each body takes the lock on its own, so a plain request waits for one
        body at most, not for all of them. A later body may come from a newer
        snapshot than the first, never an older one: the first is published.
        """
        with self._published:
            wanted = list(self._waiting)
        with self._lock:
            first = self._current()
        bodies: dict[_Want, bytes] = {}
        for want in wanted:
            with self._lock:
                bodies.update(self._rendered([want])[1])
        with self._published:
            self._published_version = self._store.version_of(first.token) or 0
            self._published_bodies = bodies
            self._published.notify_all()
        return first.token

    def _rendered(self, wants: list[_Want]) -> tuple[_Snapshot, dict[_Want, bytes]]:
        """The current snapshot, and each wanted body made from it.

        When jobs the snapshot lists were deleted before their JSON was made,
        again from a newer snapshot, so a page does not come up short of the
        total it states; the last try keeps what it finds.
        """
        for tries_left in reversed(range(RENDER_TRIES)):
            snapshot = self._current()
            try:
                bodies = {
                    want: self._render(snapshot, *want, strict=tries_left > 0)
                    for want in wants
                }
            except _JobsGone:
                continue
            return snapshot, bodies
        raise AssertionError("the last try is never strict")

    def _render(
        self, snapshot: _Snapshot, query: ListQuery, gzipped: bool, strict: bool
    ) -> bytes:
        if query.whole and gzipped:
            return self._whole_gzipped_body(snapshot, strict)
        if query.whole:
            return self._whole_body(snapshot, strict)
        ids = snapshot.order
        if query.statuses is not None:
            ids = [i for i in ids if snapshot.statuses[i] in query.statuses]
        if query.newest_first:
            ids = ids[::-1]
        end = None if query.limit is None else query.offset + query.limit
        entries = self._entries_of(snapshot, ids[query.offset : end], strict)
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

    def _whole_gzipped_body(self, snapshot: _Snapshot, strict: bool) -> bytes:
        token, body = self._whole_gzipped
        if token != snapshot.token:
            body = gzip.compress(self._whole_body(snapshot, strict), GZIP_LEVEL)
            self._whole_gzipped = (snapshot.token, body)
        return body

    def _whole_body(self, snapshot: _Snapshot, strict: bool) -> bytes:
        token, body = self._whole
        if token != snapshot.token:
            entries = self._entries_of(snapshot, snapshot.order, strict)
            jobs = b",".join(entry.full for entry in entries)
            tail = _dumps({"token": snapshot.token})[1:]
            body = b'{"jobs":[' + jobs + b"]," + tail
            self._whole = (snapshot.token, body)
        return body

    def _current(self) -> _Snapshot:
        if self._store.token != self._snapshot.token:
            self._snapshot = self._reread()
        return self._snapshot

    def _reread(self) -> _Snapshot:
        """The order and statuses, asking the store only about changed jobs.

        A snapshot's token is read before its rows, so the rows are never
        older than the token says: a change made meanwhile moves the token
        again, and the next request takes that change too.
        """
        old = self._snapshot
        since = self._store.changes_since(old.token) if old.token else None
        if since is None:
            return self._read_all()
        token, changed, membership = since
        for job_id in changed:
            self._entries.pop(job_id, None)  # made again when next needed
        rows = self._store.statuses(changed)
        statuses = {**old.statuses, **_of(rows)}
        keys = dict(old.keys)
        order = old.order
        if membership:
            order = _new_order(old, rows, changed, statuses, keys)
        if not len(order) == len(statuses) == len(keys):
            logger.warning("job list: its order went astray; reading it all again")
            return self._read_all()
        return _Snapshot(token, order, statuses, keys)

    def _read_all(self) -> _Snapshot:
        token = self._store.token  # before the read: the rows are no older
        rows = self._store.statuses()
        keys = {i: (created, i) for i, _, created in rows}
        self._entries.clear()
        return _Snapshot(token, list(keys), _of(rows), keys)

    def _entries_of(
        self, snapshot: _Snapshot, ids: list[str], strict: bool
    ) -> list[_Entry]:
        """The JSON of each job in ``ids``, made now for those not yet made.

        :class:`_JobsGone` when ``strict`` and some were deleted meanwhile.
        """
        missing = [i for i in ids if i not in self._entries]
        found = self._store.get_many(missing)
        for job in found:
            self._entries[job.id] = _entry(job)
        if strict and len(found) < len(missing):
            raise _JobsGone
        if len(self._entries) > len(snapshot.order) * 2:
            self._forget_gone(snapshot)
        return [self._entries[i] for i in ids if i in self._entries]

    def _forget_gone(self, snapshot: _Snapshot) -> None:
        self._entries = {
            i: e for i, e in self._entries.items() if i in snapshot.statuses
        }


def _of(rows: Iterable[tuple[str, str, dt.datetime]]) -> dict[str, str]:
    return {i: status for i, status, _ in rows}


def _new_order(
    old: _Snapshot,
    rows: list[tuple[str, str, dt.datetime]],
    changed: set[str],
    statuses: dict[str, str],
    keys: dict[str, _Key],
) -> list[str]:
    """The order after jobs came or went: those gone drop out, new ones go
    in their place, which for jobs made now is the end. ``statuses`` and
    ``keys`` are updated."""
    found = {i for i, _, _ in rows}
    gone = (changed & old.statuses.keys()) - found
    added = sorted((created, i) for i, _, created in rows if i not in old.statuses)
    order = [i for i in old.order if i not in gone] if gone else list(old.order)
    for i in gone:
        statuses.pop(i, None)
        keys.pop(i, None)
    keys.update({i: (created, i) for created, i in added})
    if added and order and added[0] < keys[order[-1]]:
        return sorted(keys, key=keys.__getitem__)
    return order + [i for _, i in added]


def _entry(job: Job) -> _Entry:
    full = job.to_dict()
    return _Entry(_dumps(full), _dumps(summary_of(full)))


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
