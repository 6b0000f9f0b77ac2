import re
import sys
import textwrap

import psutil
import pytest

from tests import captured
from tests.helpers import new_job
from zordon.engines.base import Engine, Step
from zordon.engines.blender import BlenderEngine
from zordon.errors import JobNotFoundError
from zordon.jobs import runner as runner_module
from zordon.jobs.runner import Runner
from zordon.jobs.status import JobStatus
from zordon.jobs.store import JobStore

WAIT_S = 20.0
FACTS = {"scene": "Scene", "start_frame": 1, "end_frame": 2, "output_is_movie": False}


class ReplayEngine(Engine):
    """Blender's progress tracking, with Python standing in for Blender."""

    name = "blender"
    program = "python3"
    extensions = (".blend",)
    version_pattern = re.compile(r"(?P<version>\d+\.\d+)")

    def __init__(self, script: str) -> None:
        super().__init__(sys.executable)
        self.script = textwrap.dedent(script)

    def version_argv(self):
        return ["--version"]

    def accepted_args(self):
        return {}

    def validate_args(self, args):
        return dict(args)

    def probe(self, input_path, args=None):
        raise NotImplementedError

    def plan(self, task):
        tracker = BlenderEngine(path="blender").plan(task)[0].tracker
        return [Step("render", [sys.executable, "-c", self.script], tracker)]


class OneEngine:
    def __init__(self, engine):
        self.engine = engine

    def get(self, name):
        return self.engine

    def resolve(self, name, version):
        return self.engine


def replay(lines, returncode=0):
    text = "\n".join(lines)
    return f"import sys\nprint({text!r})\nsys.exit({returncode})\n"


@pytest.fixture
def store(tmp_path):
    opened = JobStore(tmp_path / "zordon.sqlite")
    yield opened
    opened.close()


@pytest.fixture
def run_with(store):
    runners = []

    def start(script):
        runner = Runner(store, OneEngine(ReplayEngine(script)))
        runner.start()
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        runner.stop()


def add_job(runner, tmp_path):
    """Queue a job the way the queue does: store it, then wake the runner."""
    job = runner.store.add(new_job(tmp_path / "jobs", end_frame=2, facts=FACTS))
    runner.wake()
    return job


def wait_for(store, job_id, statuses):
    """Wait on the store's change token until the job has one of ``statuses``."""
    token = None
    while not has_status(store, job_id, statuses):
        assert store.wait_for_change(token, WAIT_S), f"job {job_id} never moved"
        token = store.token
    return store.get(job_id)


def has_status(store, job_id, statuses):
    try:
        return store.get(job_id).job_status in statuses
    except JobNotFoundError:
        return False


def test_a_job_runs_to_completed_with_progress_from_the_engine(
    store, run_with, tmp_path
):
    runner = run_with(replay(captured.BLENDER_TWO_FRAMES))
    job = add_job(runner, tmp_path)

    done = wait_for(store, job.id, [JobStatus.COMPLETED, JobStatus.ERROR])

    assert done.job_status is JobStatus.COMPLETED
    assert done.frames_done == 2
    assert done.progress == 1.0


def test_the_job_log_holds_the_engine_output_and_the_outcome(store, run_with, tmp_path):
    runner = run_with(replay(captured.BLENDER_TWO_FRAMES))
    job = add_job(runner, tmp_path)

    wait_for(store, job.id, [JobStatus.COMPLETED, JobStatus.ERROR])

    log = job.log_path.read_text()
    assert "Saved: '/tmp/cap/out/f_0002.png'" in log
    assert log.rstrip().endswith("Zordon: job completed")


def test_an_engine_failure_ends_the_job_in_error_with_its_reason(
    store, run_with, tmp_path
):
    runner = run_with(replay(captured.BLENDER_NO_CAMERA, returncode=1))
    job = add_job(runner, tmp_path)

    failed = wait_for(store, job.id, [JobStatus.COMPLETED, JobStatus.ERROR])

    assert failed.job_status is JobStatus.ERROR
    assert failed.error == "Cannot render, no camera"
    assert "Cannot render, no camera" in job.log_path.read_text()


def test_jobs_run_one_at_a_time_in_the_order_they_came(store, run_with, tmp_path):
    runner = run_with(replay(captured.BLENDER_TWO_FRAMES))
    first = add_job(runner, tmp_path)
    second = add_job(runner, tmp_path)

    second = wait_for(store, second.id, [JobStatus.COMPLETED])
    first = store.get(first.id)

    assert first.job_status is JobStatus.COMPLETED
    assert second.started_at >= first.finished_at


def test_a_job_queued_as_the_runner_finds_the_queue_empty_starts_at_once(
    store, tmp_path, monkeypatch
):
    # A lost wake-up would leave the job waiting the whole idle time.
    monkeypatch.setattr(runner_module, "IDLE_WAIT_S", 600)
    late = new_job(tmp_path / "jobs", end_frame=2, facts=FACTS)
    runner = Runner(store, OneEngine(ReplayEngine(replay(captured.BLENDER_TWO_FRAMES))))
    claim = store.claim_next

    def claim_then_submit():
        job = claim()
        if job is None and late.created_at is None:
            store.add(late)
            runner.wake()
        return job

    monkeypatch.setattr(store, "claim_next", claim_then_submit)
    runner.start()

    try:
        done = wait_for(store, late.id, [JobStatus.COMPLETED, JobStatus.ERROR])
    finally:
        runner.stop()

    assert done.job_status is JobStatus.COMPLETED


def test_cancel_kills_the_engine_process_and_the_job_ends_cancelled(
    store, run_with, tmp_path
):
    pid_file = tmp_path / "engine.pid"
    runner = run_with(
        f"""
        import os, time
        open({str(pid_file)!r} + ".part", "w").write(str(os.getpid()))
        os.replace({str(pid_file)!r} + ".part", {str(pid_file)!r})
        print({captured.BLENDER_TWO_FRAMES[4]!r}, flush=True)
        time.sleep(60)
        """
    )
    job = add_job(runner, tmp_path)
    wait_for(store, job.id, [JobStatus.RUNNING])
    while not runner.is_running(job.id) or not pid_file.exists():
        wait_for(store, job.id, [JobStatus.RUNNING])
    pid = int(pid_file.read_text())

    assert runner.cancel(job.id) is True

    ended = wait_for(store, job.id, [JobStatus.CANCELLED, JobStatus.ERROR])
    assert ended.job_status is JobStatus.CANCELLED
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


def test_stopping_the_runner_puts_a_running_job_back_in_the_queue(
    store, run_with, tmp_path
):
    runner = run_with("import time\ntime.sleep(60)\n")
    job = add_job(runner, tmp_path)
    wait_for(store, job.id, [JobStatus.RUNNING])

    runner.stop()

    assert store.get(job.id).job_status is JobStatus.NOT_STARTED


@pytest.mark.parametrize("lands", ["delete", "cancel"])
def test_a_delete_or_cancel_landing_as_a_job_ends_is_taken_quietly(
    store, run_with, tmp_path, caplog, lands
):
    runner = run_with(replay(captured.BLENDER_TWO_FRAMES))
    real_set_status = store.set_status

    def user_first(job_id, status, *args, **kwargs):
        if status is JobStatus.COMPLETED:  # between the runner's check and write
            if lands == "delete":
                store.delete(job_id)
            else:
                real_set_status(job_id, JobStatus.CANCELLED)
        return real_set_status(job_id, status, *args, **kwargs)

    store.set_status = user_first
    job = add_job(runner, tmp_path)
    token = None
    while store.get_many([job.id]) and not has_status(
        store, job.id, [JobStatus.CANCELLED]
    ):
        assert store.wait_for_change(token, WAIT_S), "the user's action never landed"
        token = store.token
    store.set_status = real_set_status
    after = add_job(runner, tmp_path)

    assert wait_for(store, after.id, [JobStatus.COMPLETED]).progress == 1.0
    assert "runner failed" not in caplog.text
    if lands == "cancel":
        assert store.get(job.id).job_status is JobStatus.CANCELLED
