"""Jobs in a SQLite file, and a token that changes whenever any job does.

Long-polls wait on :meth:`JobStore.wait_for_change`, so every write here wakes
them at once. Rows come back detached: callers read them freely and change
them only through the store.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from zordon.errors import InvalidRequest, JobNotFoundError
from zordon.jobs.model import Base, Job, utcnow
from zordon.jobs.status import FINISHED, JobStatus

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_IN_CHUNK = 500  # ids per IN (...), well under SQLite's variable limit
# Writes remembered for changes_since(); a cache further behind reads all again.
CHANGE_LOG = 4096
MAX_VERSION_DIGITS = 18


class _Change(NamedTuple):
    version: int
    job_ids: tuple[str, ...]
    membership: bool  # jobs were added or removed


class JobStore:
    """Every job this server holds, in ``db_path``."""

    def __init__(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._engine = create_engine(
            f"sqlite:///{db_path}", connect_args={"check_same_thread": False}
        )
        event.listen(self._engine, "connect", _tune_sqlite)
        Base.metadata.create_all(self._engine)
        _add_new_columns(self._engine)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._lock = threading.RLock()
        # Its own lock: waking long-polls never queue behind a write.
        self._changed = threading.Condition()
        self._boot = uuid.uuid4().hex[:8]
        self._version = 0
        # The latest writes, oldest first: what caches of the list go by.
        self._log: collections.deque[_Change] = collections.deque(maxlen=CHANGE_LOG)
        # Called with a job id after each change to that job, outside the lock.
        self.listeners: list[Callable[[str], None]] = []

    def close(self) -> None:
        self._engine.dispose()

    @property
    def token(self) -> str:
        """Changes whenever any job changes; differs after every restart."""
        return f"{self._boot}-{self._version}"

    @property
    def version(self) -> int:
        """How many changes there were since start: the number in the token."""
        return self._version

    def version_of(self, token: str | None) -> int | None:
        """The version a token of this start names; None for any other token."""
        boot, _, version = (token or "").partition("-")
        digits = version.isascii() and version.isdigit()
        if boot != self._boot or not digits or len(version) > MAX_VERSION_DIGITS:
            return None
        return int(version)

    def changes_since(self, token: str) -> tuple[str, set[str], bool] | None:
        """What changed after ``token``: the token now, the ids of the jobs
        changed, and whether jobs came or went. None when ``token`` is not of
        this start, or older than the writes kept."""
        since = self.version_of(token)
        with self._changed:
            if since is None or since > self._version:
                return None
            if since < self._version - len(self._log):
                return None  # the writes in between are no longer kept
            changed: set[str] = set()
            membership = False
            for change in reversed(self._log):
                if change.version <= since:
                    break
                changed.update(change.job_ids)
                membership = membership or change.membership
            return self.token, changed, membership

    def wait_for_change(self, token: str | None, timeout_s: float) -> bool:
        """Block until the token differs from ``token``; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self.token == token:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    @contextmanager
    def _write(
        self, job_ids: Iterable[str] = (), membership: bool = False
    ) -> Iterator[Session]:
        """A transaction; then the token moves and ``job_ids`` are marked changed.

        ``job_ids`` is read after the transaction, so a list filled inside the
        ``with`` block works. ``membership`` says jobs were added or removed.
        """
        with self._lock, self._sessions.begin() as session:
            yield session
        with self._changed:
            self._version += 1
            self._log.append(_Change(self._version, tuple(job_ids), membership))
            self._changed.notify_all()

    def add(self, job: Job) -> Job:
        return self.add_all([job])[0]

    def add_all(self, jobs: list[Job]) -> list[Job]:
        """Add the jobs in one transaction: after a crash, all are there or none."""
        for job in jobs:
            job.created_at = job.created_at or utcnow()
        added: list[str] = []  # read by _write once the transaction is done
        with self._write(added, membership=True) as session:
            session.add_all(jobs)
            session.flush()
            added.extend(job.id for job in jobs)
        for job in jobs:
            logger.info(
                "job %s: added (%s, frames %s-%s)",
                job.id,
                job.renderer,
                job.start_frame,
                job.end_frame,
            )
        return jobs

    def get(self, job_id: str) -> Job:
        with self._sessions() as session:
            job = session.get(Job, job_id)
        if job is None:
            raise JobNotFoundError(job_id)
        return job

    def list(self, status: JobStatus | None = None) -> list[Job]:
        query = select(Job).order_by(Job.created_at)
        if status is not None:
            query = query.where(Job.status == status.value)
        with self._sessions() as session:
            return list(session.scalars(query))

    def unfinished(self) -> list[Job]:
        """Jobs still queued, running or waiting, oldest first, asked of SQLite."""
        done = [status.value for status in FINISHED]
        query = select(Job).where(Job.status.not_in(done)).order_by(Job.created_at)
        with self._sessions() as session:
            return list(session.scalars(query))

    def status_counts(self) -> dict[str, int]:
        """How many jobs have each status, counted by SQLite."""
        query = select(Job.status, func.count()).group_by(Job.status)
        with self._sessions() as session:
            return {status: count for status, count in session.execute(query)}

    def statuses(
        self, job_ids: Iterable[str] | None = None
    ) -> list[tuple[str, str, dt.datetime]]:
        """``(id, status, created_at)`` of every job, or of those in ``job_ids``,
        oldest first (ties by id)."""
        query = select(Job.id, Job.status, Job.created_at)
        query = query.order_by(Job.created_at, Job.id)
        if job_ids is None:
            with self._sessions() as session:
                return [(i, s, c) for i, s, c in session.execute(query)]
        wanted = list(job_ids)
        found: list[tuple[str, str, dt.datetime]] = []
        with self._sessions() as session:
            for start in range(0, len(wanted), SQLITE_IN_CHUNK):
                chunk = wanted[start : start + SQLITE_IN_CHUNK]
                rows = session.execute(query.where(Job.id.in_(chunk)))
                found.extend((i, s, c) for i, s, c in rows)
        return sorted(found, key=lambda row: (row[2], row[0]))

    def get_many(self, job_ids: Iterable[str]) -> list[Job]:
        """The jobs among ``job_ids`` that exist, in no particular order."""
        wanted = list(job_ids)
        found: list[Job] = []
        with self._sessions() as session:
            for start in range(0, len(wanted), SQLITE_IN_CHUNK):
                chunk = wanted[start : start + SQLITE_IN_CHUNK]
                found.extend(session.scalars(select(Job).where(Job.id.in_(chunk))))
        return found

    def update(self, job_id: str, **fields: Any) -> Job:
        """Set plain fields (progress, children, ...) on one job."""
        with self._write([job_id]) as session:
            job = session.get(Job, job_id)
            if job is None:
                raise JobNotFoundError(job_id)
            for key, value in fields.items():
                setattr(job, key, value)
        self._announce(job_id)
        return job

    def set_status(self, job_id: str, status: JobStatus, error: str = "") -> Job:
        """Move a job to ``status``; refuses moves out of a finished state."""
        with self._write([job_id]) as session:
            job = session.get(Job, job_id)
            if job is None:
                raise JobNotFoundError(job_id)
            current = job.job_status
            if current != status and not current.can_become(status):
                raise InvalidRequest(
                    f"job {job_id} is {current}, it cannot become {status}"
                )
            _stamp(job, status, error)
        self._announce(job_id)
        logger.info(
            "job %s: %s -> %s%s",
            job_id,
            current,
            status,
            f" ({error})" if error else "",
        )
        return job

    def _announce(self, job_id: str) -> None:
        for listener in self.listeners:
            listener(job_id)

    def claim_next(self) -> Job | None:
        """Mark the oldest job waiting to run as scheduled and return it."""
        query = (
            select(Job)
            .where(Job.status == JobStatus.NOT_STARTED.value)
            .order_by(Job.created_at)
            .limit(1)
        )
        with self._lock:
            with self._sessions() as session:
                job = session.scalars(query).first()
            if job is None:
                return None
            return self.set_status(job.id, JobStatus.SCHEDULED)

    def delete(self, job_id: str) -> None:
        with self._write([job_id], membership=True) as session:
            job = session.get(Job, job_id)
            if job is None:
                raise JobNotFoundError(job_id)
            session.delete(job)

    def clear_history(self) -> list[Job]:
        """Remove finished jobs from the store; returns them for clean-up."""
        done = [s.value for s in FINISHED]
        touched: list[str] = []
        with self._write(touched, membership=True) as session:
            jobs = list(session.scalars(select(Job).where(Job.status.in_(done))))
            for job in jobs:
                session.delete(job)
            touched.extend(job.id for job in jobs)
        return jobs

    def requeue_interrupted(self) -> list[Job]:
        """Put jobs that were running when the server stopped back in the queue.

        Their progress stays: the runner resumes them with the frames that are
        missing. A split job that was joining its children's output goes back
        to waiting for them, which joins again.
        """
        interrupted = [JobStatus.SCHEDULED.value, JobStatus.RUNNING.value]
        touched: list[str] = []
        with self._write(touched) as session:
            query = select(Job).where(Job.status.in_(interrupted))
            jobs = list(session.scalars(query))
            touched.extend(job.id for job in jobs)
            for job in jobs:
                job.status = (
                    JobStatus.WAITING_FOR_SUBJOBS.value
                    if job.children
                    else JobStatus.NOT_STARTED.value
                )
                job.started_at = None
        for job in jobs:
            logger.warning("job %s: was running at shutdown, queued again", job.id)
        return jobs


def _stamp(job: Job, status: JobStatus, error: str) -> None:
    job.status = status.value
    if status == JobStatus.RUNNING and job.started_at is None:
        job.started_at = utcnow()
    if status.finished:
        job.finished_at = utcnow()
    if status == JobStatus.COMPLETED:
        job.progress = 1.0
        job.frames_done = job.total_frames
    if error:
        job.error = error


def _tune_sqlite(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _add_new_columns(engine: Engine) -> None:
    """Give a store made by an older Zordon the columns added since."""
    existing = {c["name"] for c in inspect(engine).get_columns(Job.__tablename__)}
    with engine.begin() as connection:
        for column in Job.__table__.columns:
            if column.name not in existing:
                kind = column.type.compile(engine.dialect)
                table = Job.__tablename__
                connection.execute(
                    text(f"ALTER TABLE {table} ADD COLUMN {column.name} {kind}")
                )
                logger.info("store: added column %s", column.name)
