"""Takes queued jobs in order and runs their engine processes.

Each worker thread claims the oldest job that is not started, asks the
engine for the steps that render it, and runs them one after another. A
frame range is one engine process. Progress read from the engine's output is
written to the store at most every ``PROGRESS_INTERVAL_S``.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from zordon.engines import EngineRegistry, RenderTask, Step
from zordon.errors import EngineError, InvalidRequest, JobNotFoundError, ZordonError
from zordon.jobs import process
from zordon.jobs.model import Job
from zordon.jobs.status import JobStatus
from zordon.jobs.store import JobStore

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.5
IDLE_WAIT_S = 5.0
PID_FILE = "engine.pid"


class Runner:
    """Runs up to ``workers`` jobs at once, one engine process each."""

    def __init__(self, store: JobStore, engines: EngineRegistry, workers: int = 1):
        self.store = store
        self.engines = engines
        self.workers = max(1, workers)
        self._wake = threading.Condition()
        self._wakeups = 0  # counts wake() calls, so none is lost between checks
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._procs: dict[str, subprocess.Popen[str]] = {}
        self._cancelled: set[str] = set()
        # Frames that an interrupted run of a job finished, by job id.
        self._resumed: dict[str, int] = {}
        self._lock = threading.Lock()

    def reclaim(self, jobs: list[Job]) -> None:
        """Kill engines that jobs interrupted by a crash left running."""
        for job in jobs:
            if process.kill_leftover(job.folder / PID_FILE):
                logger.warning(
                    "job %s: stopped its engine from before the restart", job.id
                )

    def start(self) -> None:
        for n in range(self.workers):
            thread = threading.Thread(
                target=self._loop, name=f"runner-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop taking jobs and kill running engines; their jobs requeue at start."""
        self._stopping.set()
        self.wake()
        with self._lock:
            procs = list(self._procs.values())
        for proc in procs:
            process.kill_tree(proc)
        for thread in self._threads:
            thread.join(timeout=5)

    def wake(self) -> None:
        """Tell idle workers that a job may be waiting."""
        with self._wake:
            self._wakeups += 1
            self._wake.notify_all()

    def cancel(self, job_id: str) -> bool:
        """Kill the job's engine processes if it is running; True if it was."""
        with self._lock:
            self._cancelled.add(job_id)
            proc = self._procs.get(job_id)
        if proc is None:
            return False
        process.kill_tree(proc)
        return True

    def is_running(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._procs

    def _loop(self) -> None:
        while not self._stopping.is_set():
            with self._wake:
                seen = self._wakeups
            job = self.store.claim_next()
            if job is None:
                with self._wake:
                    self._wake.wait_for(
                        lambda seen=seen: self._wakeups != seen, IDLE_WAIT_S
                    )
                continue
            try:
                self._run(job)
            except Exception:
                logger.exception("job %s: runner failed", job.id)
                self._finish(job.id, JobStatus.ERROR, "internal error in the runner")
            finally:
                with self._lock:
                    self._cancelled.discard(job.id)
                    self._resumed.pop(job.id, None)

    def _run(self, job: Job) -> None:
        if self._was_cancelled(job.id) or not self._exists(job.id):
            return  # cancelled or deleted since it was claimed
        task = task_for(job)
        done = self.engines.get(job.renderer).finished_frames(task, _read_log(job))
        if done:
            self._resume(job, len(done))

        def plan() -> list[Step]:
            engine = self.engines.resolve(job.renderer, job.engine_version)
            return engine.plan_resumed(task, done)

        self.run_steps(job, plan)

    def _resume(self, job: Job, done: int) -> None:
        """Count the frames an interrupted run finished; only the rest render."""
        logger.info(
            "job %s: resuming, %s of %s frames already rendered",
            job.id,
            done,
            job.total_frames,
        )
        with self._lock:
            self._resumed[job.id] = done
        self.store.update(
            job.id, frames_done=done, progress=done / max(job.total_frames, 1)
        )
        with open(job.log_path, "a", encoding="utf-8") as log:
            log.write(f"Zordon: resuming; {done} frames were already rendered\n")

    def _exists(self, job_id: str) -> bool:
        try:
            self.store.get(job_id)
        except ZordonError:
            return False
        return True

    def run_steps(self, job: Job, plan: Callable[[], list[Step]]) -> None:
        """Run the steps ``plan`` makes for ``job``, logging, then finish the job."""
        job.folder.mkdir(parents=True, exist_ok=True)
        job.output_dir.mkdir(parents=True, exist_ok=True)
        with open(job.log_path, "a", encoding="utf-8") as log:
            try:
                status, error = self._run_steps(job, plan(), log)
            except ZordonError as exc:
                status, error = JobStatus.ERROR, str(exc)
            if error:
                log.write(f"Zordon: job ended in {status}: {error}\n")
            else:
                log.write(f"Zordon: job {status}\n")
        self._finish(job.id, status, error)

    def _run_steps(
        self, job: Job, steps: list[Step], log: TextIO
    ) -> tuple[JobStatus, str]:
        total_weight = sum(step.weight for step in steps) or 1.0
        done_weight = 0.0
        for step in steps:
            if self._was_cancelled(job.id) or self._stopping.is_set():
                return JobStatus.CANCELLED, ""
            log.write(f"Zordon: {step.label}: {subprocess.list2cmdline(step.argv)}\n")
            log.flush()
            returncode = self._run_process(job, step, log, done_weight, total_weight)
            if self._was_cancelled(job.id):
                return JobStatus.CANCELLED, ""
            if self._stopping.is_set():
                return JobStatus.NOT_STARTED, ""
            step.tracker.finish(returncode)
            done_weight += step.weight
        return JobStatus.COMPLETED, ""

    def _run_process(
        self, job: Job, step: Step, log: TextIO, done: float, total: float
    ) -> int:
        try:
            proc = process.start(step.argv, cwd=job.output_dir)
        except OSError as exc:
            raise EngineError(f"cannot start {step.label}: {exc}") from exc
        with self._lock:
            self._procs[job.id] = proc
        try:
            with contextlib.suppress(OSError):  # the folder may be deleted by now
                process.record(proc, job.folder / PID_FILE)
            if self._mark_running(job.id):
                logger.info("job %s: %s started, pid %s", job.id, step.label, proc.pid)
            else:
                process.kill_tree(proc)
                logger.info("job %s: stopped as its %s started", job.id, step.label)
            self._follow(job.id, proc, step, log, done, total)
            return proc.wait()
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
            (job.folder / PID_FILE).unlink(missing_ok=True)
            with self._lock:
                self._procs.pop(job.id, None)

    def _follow(
        self,
        job_id: str,
        proc: subprocess.Popen[str],
        step: Step,
        log: TextIO,
        done: float,
        total: float,
    ) -> None:
        assert proc.stdout is not None
        last_write = 0.0
        frames_written = -1
        tracker = step.tracker
        earlier, share = self._earlier_share(job_id)
        for line in proc.stdout:
            log.write(line)
            if not tracker.feed(line.rstrip("\r\n")):
                continue
            now = time.monotonic()
            new_frame = tracker.frames_done != frames_written
            if new_frame or now - last_write >= PROGRESS_INTERVAL_S:
                # Flushed before the store moves on, so the log always holds
                # every "Saved:" line a resumed run counts on.
                log.flush()
                progress = (done + step.weight * tracker.fraction) / total
                self.store.update(
                    job_id,
                    progress=share + (1.0 - share) * progress,
                    frames_done=earlier + tracker.frames_done,
                )
                last_write, frames_written = now, tracker.frames_done

    def _earlier_share(self, job_id: str) -> tuple[int, float]:
        """Frames an interrupted run finished, and their share of the job."""
        with self._lock:
            earlier = self._resumed.get(job_id, 0)
        if not earlier:
            return 0, 0.0
        total = self.store.get(job_id).total_frames
        return earlier, earlier / max(total, 1)

    def _mark_running(self, job_id: str) -> bool:
        """Record that the engine runs; False if the job was cancelled meanwhile."""
        if self._was_cancelled(job_id):
            return False
        try:
            if self.store.get(job_id).job_status != JobStatus.RUNNING:
                self.store.set_status(job_id, JobStatus.RUNNING)
        except ZordonError:
            return False  # cancelled or deleted between our check and the write
        return True

    def _was_cancelled(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._cancelled

    def _finish(self, job_id: str, status: JobStatus, error: str) -> None:
        try:
            current = self.store.get(job_id).job_status
            if not current.finished and current != status:
                self.store.set_status(job_id, status, error)
        except JobNotFoundError:
            return  # deleted while it ran, or just now
        except InvalidRequest:
            return  # cancelled just as it ended: the cancel stands


def _read_log(job: Job) -> str:
    try:
        return job.log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def task_for(job: Job) -> RenderTask:
    """The engine's view of a job: its file, frames, arguments and folder."""
    return RenderTask(
        job_id=job.id,
        input_path=Path(job.input_path),
        output_dir=job.output_dir,
        start_frame=job.start_frame,
        end_frame=job.end_frame,
        frame_step=job.frame_step,
        args=job.args,
        facts=job.facts,
        frame_list=tuple(job.frame_list) if job.frame_list else None,
    )
