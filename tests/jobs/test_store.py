import threading

import pytest

from tests.helpers import new_job
from zordon.errors import InvalidRequest, JobNotFoundError
from zordon.jobs.status import JobStatus
from zordon.jobs.store import JobStore

WAKE_TIMEOUT_S = 10.0


@pytest.fixture
def store(tmp_path):
    opened = JobStore(tmp_path / "zordon.sqlite")
    yield opened
    opened.close()


def test_jobs_survive_reopening_the_store(tmp_path, store):
    job = store.add(new_job(tmp_path, name="shot 12", end_frame=40))
    store.close()

    reopened = JobStore(tmp_path / "zordon.sqlite")
    try:
        again = reopened.get(job.id)
    finally:
        reopened.close()

    assert again.name == "shot 12"
    assert again.end_frame == 40
    assert again.job_status is JobStatus.NOT_STARTED


def test_getting_an_unknown_job_raises_job_not_found(store):
    with pytest.raises(JobNotFoundError, match="nope"):
        store.get("nope")


def test_jobs_are_listed_oldest_first_and_filtered_by_status(tmp_path, store):
    first = store.add(new_job(tmp_path))
    second = store.add(new_job(tmp_path))
    store.set_status(second.id, JobStatus.CANCELLED)

    assert [j.id for j in store.list()] == [first.id, second.id]
    assert [j.id for j in store.list(JobStatus.CANCELLED)] == [second.id]


def test_claim_next_schedules_the_oldest_waiting_job(tmp_path, store):
    first = store.add(new_job(tmp_path))
    store.add(new_job(tmp_path))

    claimed = store.claim_next()

    assert claimed.id == first.id
    assert store.get(first.id).job_status is JobStatus.SCHEDULED


def test_claim_next_returns_none_when_nothing_waits(store):
    assert store.claim_next() is None


def test_a_finished_job_refuses_a_new_status(tmp_path, store):
    job = store.add(new_job(tmp_path))
    store.set_status(job.id, JobStatus.CANCELLED)

    with pytest.raises(InvalidRequest, match="cancelled"):
        store.set_status(job.id, JobStatus.RUNNING)


def test_completing_a_job_stamps_progress_and_times(tmp_path, store):
    job = store.add(new_job(tmp_path))
    store.set_status(job.id, JobStatus.SCHEDULED)
    store.set_status(job.id, JobStatus.RUNNING)

    done = store.set_status(job.id, JobStatus.COMPLETED)

    assert done.progress == 1.0
    assert done.frames_done == 3
    assert done.started_at is not None
    assert done.finished_at is not None


def test_an_error_status_keeps_its_reason(tmp_path, store):
    job = store.add(new_job(tmp_path))

    store.set_status(job.id, JobStatus.ERROR, "Cannot render, no camera")

    assert store.get(job.id).error == "Cannot render, no camera"


def test_interrupted_jobs_are_queued_again_with_their_progress(tmp_path, store):
    job = store.add(new_job(tmp_path))
    store.set_status(job.id, JobStatus.SCHEDULED)
    store.set_status(job.id, JobStatus.RUNNING)
    store.update(job.id, progress=0.5, frames_done=1)

    requeued = store.requeue_interrupted()

    again = store.get(job.id)
    assert [j.id for j in requeued] == [job.id]
    assert again.job_status is JobStatus.NOT_STARTED
    assert (again.progress, again.frames_done) == (0.5, 1)


def test_a_split_job_interrupted_while_joining_waits_for_its_children_again(
    tmp_path, store
):
    children = [{"server": "http://127.0.0.1:1", "id": "abc", "status": "completed"}]
    job = store.add(new_job(tmp_path, children=children, enable_split_jobs=True))
    store.set_status(job.id, JobStatus.WAITING_FOR_SUBJOBS)
    store.set_status(job.id, JobStatus.RUNNING)

    store.requeue_interrupted()

    assert store.get(job.id).job_status is JobStatus.WAITING_FOR_SUBJOBS


def test_requeue_leaves_finished_and_waiting_jobs_alone(tmp_path, store):
    done = store.add(new_job(tmp_path))
    store.set_status(done.id, JobStatus.ERROR, "boom")
    waiting = store.add(new_job(tmp_path))

    assert store.requeue_interrupted() == []
    assert store.get(done.id).job_status is JobStatus.ERROR
    assert store.get(waiting.id).job_status is JobStatus.NOT_STARTED


def test_clear_history_removes_only_finished_jobs(tmp_path, store):
    finished = store.add(new_job(tmp_path))
    store.set_status(finished.id, JobStatus.CANCELLED)
    waiting = store.add(new_job(tmp_path))

    removed = store.clear_history()

    assert [j.id for j in removed] == [finished.id]
    assert [j.id for j in store.list()] == [waiting.id]


def test_every_write_changes_the_token(tmp_path, store):
    tokens = [store.token]
    job = store.add(new_job(tmp_path))
    tokens.append(store.token)
    store.update(job.id, progress=0.25)
    tokens.append(store.token)
    store.delete(job.id)
    tokens.append(store.token)

    assert len(set(tokens)) == 4


def test_the_token_differs_after_a_restart(tmp_path, store):
    before = store.token
    reopened = JobStore(tmp_path / "zordon.sqlite")
    try:
        assert reopened.token != before
    finally:
        reopened.close()


def test_wait_for_change_returns_false_when_nothing_changes(store):
    assert store.wait_for_change(store.token, timeout_s=0.05) is False


def test_wait_for_change_returns_at_once_for_a_stale_token(store):
    assert store.wait_for_change("stale-token", timeout_s=WAKE_TIMEOUT_S) is True


def test_wait_for_change_wakes_when_a_job_changes(tmp_path, store):
    job = store.add(new_job(tmp_path))
    token = store.token
    results: list[bool] = []
    waiter = threading.Thread(
        target=lambda: results.append(store.wait_for_change(token, WAKE_TIMEOUT_S))
    )
    waiter.start()

    store.update(job.id, progress=0.5)
    waiter.join(WAKE_TIMEOUT_S)

    assert results == [True]
