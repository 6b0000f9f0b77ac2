import datetime as dt
import gzip
import json
import random
import threading
import time

import pytest

from tests.helpers import new_job
from zordon.errors import InvalidRequest
from zordon.jobs import store as store_module
from zordon.jobs.listing import JobListing, ListQuery
from zordon.jobs.status import JobStatus
from zordon.jobs.store import JobStore

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WAIT_S = 10.0
WHOLE = ListQuery()


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


def _listed_once_then_no_full_reread(store):
    """A listing that has listed every job; the store then fails the test if
    asked for the order of all jobs again."""
    listing = JobListing(store)
    listed(listing)
    real_statuses = store.statuses
    store.statuses = lambda ids=None: (
        pytest.fail("the order was read again") if ids is None else real_statuses(ids)
    )
    return listing


def test_a_progress_update_does_not_read_the_order_of_the_jobs_again(store, jobs):
    listing = _listed_once_then_no_full_reread(store)

    store.update(jobs[1].id, progress=0.25)

    assert listed(listing)["jobs"][1]["progress"] == 0.25


def test_a_deletion_does_not_read_the_order_of_the_jobs_again(store, jobs):
    listing = _listed_once_then_no_full_reread(store)

    store.delete(jobs[2].id)

    names = [j["name"] for j in listed(listing)["jobs"]]
    assert names == ["shot 0", "shot 1", "shot 3", "shot 4"]


def test_a_job_made_earlier_than_the_newest_goes_in_its_place(tmp_path, store, jobs):
    listing = JobListing(store)
    listed(listing)
    between = START + dt.timedelta(minutes=1, seconds=30)

    store.add(new_job(tmp_path, name="late", created_at=between))

    names = [j["name"] for j in listed(listing)["jobs"]]
    assert names == ["shot 0", "shot 1", "late", "shot 2", "shot 3", "shot 4"]
    assert names == [job.name for job in store.list()]


def test_the_list_follows_any_mix_of_adds_changes_and_deletions(tmp_path, store):
    """Against the store's own order after every step, seeded, so a failure
    comes back the same way."""
    listing = JobListing(store)
    rng = random.Random(7)
    for step in range(120):
        ids = [job_id for job_id, _, _ in store.statuses()]
        action = rng.choice(["add", "add", "change", "delete", "clear"])
        if action == "add" or not ids:
            minutes = rng.randint(0, 600)  # now and then older than the newest
            store.add_all(
                [
                    new_job(tmp_path, created_at=START + dt.timedelta(minutes=minutes))
                    for _ in range(rng.randint(1, 4))
                ]
            )
        elif action == "change":
            store.update(rng.choice(ids), status=rng.choice(["running", "cancelled"]))
        elif action == "delete":
            store.delete(rng.choice(ids))
        elif rng.random() < 0.3:
            store.clear_history()
        body = listed(listing, status="running,cancelled,not_started", limit="1000")
        expected = [(i, s) for i, s, _ in store.statuses()]

        assert [(j["id"], j["status"]) for j in body["jobs"]] == expected, step
        assert body["total"] == sum(body["counts"].values()) == len(expected)


def test_a_list_further_behind_than_the_store_remembers_is_read_again(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(store_module, "CHANGE_LOG", 3)
    store = JobStore(tmp_path / "zordon.sqlite")
    listing = JobListing(store)
    first = store.add(new_job(tmp_path))
    listed(listing)
    for n in range(5):
        store.add(new_job(tmp_path, name=f"later {n}"))
    store.delete(first.id)

    names = [j["name"] for j in listed(listing)["jobs"]]

    assert names == [f"later {n}" for n in range(5)]
    store.close()


def test_a_job_deleted_while_the_page_is_made_leaves_it_whole(store, jobs):
    real_get_many = store.get_many
    deleted = []

    def deleted_first(ids):
        ids = list(ids)
        if not deleted:
            store.delete(ids[2])  # lands after the order was read
            deleted.append(ids[2])
        return real_get_many(ids)

    store.get_many = deleted_first

    body = listed(JobListing(store), limit="10")

    assert len(body["jobs"]) == body["total"] == sum(body["counts"].values()) == 4
    assert deleted[0] not in [j["id"] for j in body["jobs"]]


def test_any_list_parameter_asks_for_the_page_figures(store, jobs):
    assert set(listed(JobListing(store), offset="0")) >= {"total", "offset", "counts"}


def test_an_empty_status_filter_filters_nothing(store, jobs):
    assert listed(JobListing(store), status=",")["total"] == len(jobs)


@pytest.mark.parametrize("text", ["\u00b2", "1" * 5000])
def test_a_count_python_reads_as_digits_but_not_as_a_number_is_refused(text):
    with pytest.raises(InvalidRequest):
        ListQuery.from_args({"offset": text})


def _wait_in_threads(listing, token, count, query=WHOLE, gzipped=False):
    """Start ``count`` long-polls; returns their answers list and their threads."""
    answers = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(listing.wait(query, gzipped, token, WAIT_S))
        )
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    return answers, threads


def _until_waiting(listing, count):
    deadline = time.monotonic() + WAIT_S
    while sum(listing._waiting.values()) < count:
        assert time.monotonic() < deadline, "the polls never started waiting"
        time.sleep(0.01)


def test_a_waiting_poll_gets_the_list_once_a_job_changes(store, jobs):
    listing = JobListing(store)
    answers, threads = _wait_in_threads(listing, store.token, 1)
    _until_waiting(listing, 1)

    store.update(jobs[0].id, progress=0.5)
    threads[0].join(WAIT_S)
    listing.close()

    body = json.loads(answers[0])
    assert body["token"] == store.token
    assert body["jobs"][0]["progress"] == 0.5


def test_polls_waiting_for_the_same_list_share_one_build(store, jobs):
    listing = JobListing(store)
    query = ListQuery.from_args({"fields": "summary", "limit": "2"})
    answers, threads = _wait_in_threads(listing, store.token, 5, query, True)
    _until_waiting(listing, 5)

    store.update(jobs[1].id, progress=0.75)
    for thread in threads:
        thread.join(WAIT_S)
    listing.close()

    assert len(answers) == 5
    assert all(answer is answers[0] for answer in answers)
    summary = json.loads(gzip.decompress(answers[0]))
    assert [j["progress"] for j in summary["jobs"]] == [0.0, 0.75]


def test_a_poll_with_nothing_new_ends_empty_handed(store, jobs):
    listing = JobListing(store)

    assert listing.wait(WHOLE, False, store.token, timeout_s=0.05) is None
    listing.close()


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "earlier-3",
        "nonsense",
        "{boot}-99",
        "{boot}-\u00b2",
        "{boot}-" + "9" * 5000,
    ],
)
def test_a_poll_with_a_token_that_is_not_current_is_answered_at_once(
    store, jobs, token
):
    if token:
        token = token.format(boot=store.token.partition("-")[0])
    body = JobListing(store).wait(WHOLE, False, token, timeout_s=WAIT_S)

    assert json.loads(body)["token"] == store.token


def test_a_poll_that_missed_a_change_is_answered_at_once(store, jobs):
    listing = JobListing(store)
    seen = store.token
    store.update(jobs[0].id, progress=0.5)

    body = listing.wait(WHOLE, False, seen, timeout_s=WAIT_S)

    assert json.loads(body)["jobs"][0]["progress"] == 0.5


def test_the_store_counts_jobs_by_status(store, jobs):
    assert store.status_counts() == {"running": 2, "not_started": 3}


def test_the_store_lists_unfinished_jobs_without_the_finished(store, jobs):
    store.set_status(jobs[0].id, JobStatus.CANCELLED)

    assert [job.id for job in store.unfinished()] == [job.id for job in jobs[1:]]
