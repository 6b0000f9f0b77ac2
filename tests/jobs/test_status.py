import pytest

from zordon.errors import InvalidRequest
from zordon.jobs.status import FINISHED, JobStatus, string_to_status


def test_status_values_are_lowercase_words():
    assert [s.value for s in JobStatus] == [
        "not_started",
        "scheduled",
        "running",
        "waiting_for_subjobs",
        "completed",
        "cancelled",
        "error",
    ]


def test_a_job_moves_from_queued_through_running_to_completed():
    assert JobStatus.NOT_STARTED.can_become(JobStatus.SCHEDULED)
    assert JobStatus.SCHEDULED.can_become(JobStatus.RUNNING)
    assert JobStatus.RUNNING.can_become(JobStatus.COMPLETED)


def test_any_unfinished_job_can_be_cancelled_or_fail():
    for status in JobStatus:
        if not status.finished:
            assert status.can_become(JobStatus.CANCELLED)
            assert status.can_become(JobStatus.ERROR)


def test_finished_jobs_never_change_again():
    for finished in FINISHED:
        assert not any(finished.can_become(other) for other in JobStatus)
        assert finished.finished


def test_a_queued_job_is_scheduled_before_it_runs():
    assert not JobStatus.NOT_STARTED.can_become(JobStatus.RUNNING)
    assert JobStatus.SCHEDULED.can_become(JobStatus.NOT_STARTED)


def test_a_parent_waits_for_subjobs_then_runs_or_finishes():
    assert JobStatus.RUNNING.can_become(JobStatus.WAITING_FOR_SUBJOBS)
    assert JobStatus.WAITING_FOR_SUBJOBS.can_become(JobStatus.RUNNING)
    assert JobStatus.WAITING_FOR_SUBJOBS.can_become(JobStatus.COMPLETED)


@pytest.mark.parametrize(
    "text", ["running", "RUNNING", "Running", " running ", "rUnNiNg"]
)
def test_string_to_status_ignores_case_and_spaces(text):
    assert string_to_status(text) is JobStatus.RUNNING


@pytest.mark.parametrize(
    "text", ["waiting_for_subjobs", "Waiting For Subjobs", "WAITING-FOR-SUBJOBS"]
)
def test_string_to_status_accepts_spaces_and_dashes_for_underscores(text):
    assert string_to_status(text) is JobStatus.WAITING_FOR_SUBJOBS


def test_string_to_status_refuses_unknown_names_and_lists_the_real_ones():
    with pytest.raises(InvalidRequest, match="not_started"):
        string_to_status("paused")
