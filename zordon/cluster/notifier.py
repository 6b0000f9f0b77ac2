"""Child jobs tell their parent's server about each change of status.

Every change to a job that has a parent queues that job here; a thread posts
its newest state to ``/api/jobs/<parent>/subjob_update`` when its status
differs from the last one sent. Progress alone is not pushed: the parent
polls its children every two seconds, and a push per progress line would cost
the renders CPU. When the parent answers that it no longer wants the child
(its frames went elsewhere while this server was away), the child is
cancelled here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from zordon.client import ClientError, RenderServerProxy
from zordon.errors import JobNotFoundError
from zordon.jobs.queue import JobQueue

logger = logging.getLogger(__name__)

RETRY_DELAY_S = 1.0
NOTIFY_TIMEOUT_S = 5.0
MAX_TRIES = 60


class ParentNotifier:
    """Pushes child job states to their parents, newest state only."""

    def __init__(
        self, queue: JobQueue, proxy_factory: Callable[[str], RenderServerProxy]
    ) -> None:
        self.queue = queue
        self._proxy_factory = proxy_factory
        self._pending: set[str] = set()
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._unreachable: set[str] = set()
        self._tries: dict[str, int] = {}
        self._sent_status: dict[str, str] = {}

    def start(self) -> None:
        self.queue.store.listeners.append(self._changed)
        threading.Thread(target=self._loop, name="notifier", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        with self._ready:
            self._ready.notify_all()

    def _changed(self, job_id: str) -> None:
        with self._ready:
            self._pending.add(job_id)
            self._ready.notify()

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._ready:
                while not self._pending and not self._stop.is_set():
                    self._ready.wait()
                batch, self._pending = self._pending, set()
            for job_id in batch:
                if not self._send(job_id):
                    self._stop.wait(RETRY_DELAY_S)
                    self._changed(job_id)

    def _send(self, job_id: str) -> bool:
        """Post one child's state; False when the parent should be asked again."""
        try:
            job = self.queue.store.get(job_id)
        except JobNotFoundError:
            return True  # deleted since it changed
        if not job.parent or self._sent_status.get(job_id) == job.status:
            return True  # progress alone: the parent polls for that
        parent_id, _, url = job.parent.partition("@")
        proxy = self._proxy_factory(url)
        proxy.timeout_s = NOTIFY_TIMEOUT_S
        try:
            answer = proxy.send_subjob_update_notification(parent_id, job.to_dict())
        except ClientError as exc:
            return self._unanswered(job_id, url, exc)
        self._unreachable.discard(url)
        self._tries.pop(job_id, None)
        self._sent_status[job_id] = job.status
        if not answer.get("wanted", True) and not job.job_status.finished:
            logger.warning("job %s: its parent %s gave its frames away", job_id, url)
            self.queue.cancel(job_id)
        return True

    def _unanswered(self, job_id: str, url: str, exc: ClientError) -> bool:
        if not exc.retryable:
            logger.warning("job %s: parent %s refused the update: %s", job_id, url, exc)
            return True
        if url not in self._unreachable:
            logger.warning("job %s: parent %s unreachable: %s", job_id, url, exc)
            self._unreachable.add(url)
        self._tries[job_id] = self._tries.get(job_id, 0) + 1
        return self._tries[job_id] >= MAX_TRIES  # the parent polls us anyway
