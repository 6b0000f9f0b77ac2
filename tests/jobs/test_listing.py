import datetime as dt
import json

import pytest

from tests.helpers import new_job
from zordon.errors import InvalidRequest
from zordon.jobs.listing import JobListing, ListQuery
from zordon.jobs.status import JobStatus
from zordon.jobs.store import JobStore

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path):
    opened = JobStore(tmp_path / "zordon.sqlite")
    yield opened
    opened.close()


@pytest.fixture
def jobs(tmp_path, store):
    """Five jobs made a minute apart: two running, three queued."""
    made = []
    for n in range(5):
        status = "running" if n in (1, 3) else "not_started"
        created = START + dt.timedelta(minutes=n)
        job = new_job(tmp_path, name=f"shot {n}", status=status, created_at=created)
        made.append(store.add(job))
    return made


def listed(listing, **args):
    return json.loads(listing.body(ListQuery.from_args(args)))


def test_the_whole_list_is_every_job_in_full_with_the_token(store, jobs):
    body = listed(JobListing(store))

    assert set(body) == {"jobs", "token"}
    assert body["jobs"] == [job.to_dict() for job in store.list()]
    assert body["token"] == store.token


def test_a_change_to_one_job_shows_and_reloads_only_that_job(store, jobs):
    listing = JobListing(store)
    listed(listing)
    asked = []
    real_get_many = store.get_many
    store.get_many = lambda ids: asked.extend(ids) or real_get_many(ids)

    store.update(jobs[2].id, progress=0.5)
    body = listed(listing)

    assert asked == [jobs[2].id]
    assert body["jobs"][2]["progress"] == 0.5
    assert body["token"] == store.token


def test_added_and_deleted_jobs_come_and_go(tmp_path, store, jobs):
    listing = JobListing(store)
    listed(listing)

    store.delete(jobs[0].id)
    added = store.add(new_job(tmp_path, created_at=START + dt.timedelta(hours=1)))
    ids = [j["id"] for j in listed(listing)["jobs"]]

    assert ids == [j.id for j in jobs[1:]] + [added.id]


def test_a_page_says_how_many_jobs_match_and_counts_each_status(store, jobs):
    body = listed(JobListing(store), offset="1", limit="2")

    assert [j["name"] for j in body["jobs"]] == ["shot 1", "shot 2"]
    assert body["total"] == 5
    assert body["offset"] == 1
    assert body["counts"] == {"running": 2, "not_started": 3}


def test_newest_first_with_a_status_filter(store, jobs):
    body = listed(JobListing(store), status="Running", order="newest")

    assert [j["name"] for j in body["jobs"]] == ["shot 3", "shot 1"]
    assert body["total"] == 2


def test_several_statuses_at_once(store, jobs):
    body = listed(JobListing(store), status="running,not_started", limit="1")

    assert body["total"] == 5


def test_the_summary_leaves_out_args_facts_and_child_frame_lists(store, jobs):
    child = {"id": "c1", "server": "http://b:8735", "frames": list(range(500))}
    store.update(jobs[0].id, args={"samples": 8}, children=[child])

    summary = listed(JobListing(store), fields="summary", limit="1")["jobs"][0]

    assert "args" not in summary
    assert "facts" not in summary
    assert summary["children"][0]["server"] == "http://b:8735"
    assert "frames" not in summary["children"][0]


@pytest.mark.parametrize(
    "args",
    [
        {"limit": "-1"},
        {"limit": "1001"},
        {"offset": "x"},
        {"order": "random"},
        {"fields": "some"},
        {"status": "sleeping"},
    ],
)
def test_bad_list_parameters_are_refused(args):
    with pytest.raises(InvalidRequest):
        ListQuery.from_args(args)


def test_a_progress_update_does_not_read_the_order_of_the_jobs_again(store, jobs):
    listing = JobListing(store)
    listed(listing)
    real_statuses = store.statuses
    store.statuses = lambda ids=None: (
        pytest.fail("the order was read again") if ids is None else real_statuses(ids)
    )

    store.update(jobs[1].id, progress=0.25)

    assert listed(listing)["jobs"][1]["progress"] == 0.25


def test_the_store_counts_jobs_by_status(store, jobs):
    assert store.status_counts() == {"running": 2, "not_started": 3}


def test_the_store_lists_unfinished_jobs_without_the_finished(store, jobs):
    store.set_status(jobs[0].id, JobStatus.CANCELLED)

    assert [job.id for job in store.unfinished()] == [job.id for job in jobs[1:]]
