"""Long-polls woken by one change share one serialised job list."""

import gzip
import json

import pytest

from tests.helpers import new_job
from zordon.server.wake import JobListCache


def test_the_list_is_built_once_for_every_poll_that_wakes_on_one_change(
    services, monkeypatch
):
    services.store.add(new_job(services.config.jobs_dir))
    seen = "before"
    cache = JobListCache(services.store)
    calls = []
    listing = services.store.list
    monkeypatch.setattr(services.store, "list", lambda: calls.append(1) or listing())

    bodies = {cache.body_for(seen) for _ in range(50)}

    assert len(bodies) == 1 and len(calls) == 1


def test_a_client_that_has_the_cached_list_gets_a_fresh_one(services):
    cache = JobListCache(services.store)
    first = json.loads(cache.body_for(None))
    job = services.store.add(new_job(services.config.jobs_dir))

    second = json.loads(cache.body_for(first["token"]))

    assert second["token"] != first["token"]
    assert [j["id"] for j in second["jobs"]] == [job.id]


def test_tokens_compare_by_version_within_one_start_of_the_store(services):
    store = services.store
    old = store.token
    store.add(new_job(services.config.jobs_dir))
    new = store.token

    assert store.is_older(old, new) and not store.is_older(new, old)
    assert store.is_older(None, new) and store.is_older("x-1", new)
    assert not store.is_older(new, new) and not store.is_older(old, None)


def test_a_long_poll_answers_with_the_list_and_its_token(client, services):
    token = client.get("/api/jobs").get_json()["token"]
    job = services.store.add(new_job(services.config.jobs_dir))

    body = client.get("/api/jobs/long_poll", query_string={"token": token}).get_json()

    assert [j["id"] for j in body["jobs"]] == [job.id]
    assert body["token"] == services.store.token


def test_a_rebuild_encodes_only_the_jobs_that_changed(services, monkeypatch):
    jobs_dir = services.config.jobs_dir
    first, second = (services.store.add(new_job(jobs_dir)) for _ in range(2))
    cache = JobListCache(services.store)
    seen = json.loads(cache.body_for(None))["token"]
    services.store.update(first.id, progress=0.5)
    third = services.store.add(new_job(jobs_dir))
    services.store.delete(second.id)
    monkeypatch.setattr(services.store, "list", lambda: pytest.fail("full rebuild"))

    body = json.loads(cache.body_for(seen))

    assert [j["id"] for j in body["jobs"]] == [first.id, third.id]
    assert body["jobs"][0]["progress"] == 0.5
    assert body["token"] == services.store.token


def test_a_change_the_store_cannot_name_rebuilds_the_whole_list(services):
    job = services.store.add(new_job(services.config.jobs_dir, status="completed"))
    cache = JobListCache(services.store)
    seen = json.loads(cache.body_for(None))["token"]

    services.store.clear_history()

    assert services.store.changed_since(seen) is None
    assert json.loads(cache.body_for(seen))["jobs"] == []
    assert job.id not in cache.body_for(seen).decode()


def test_a_long_poll_that_accepts_gzip_gets_the_list_compressed(client, services):
    token = client.get("/api/jobs").get_json()["token"]
    job = services.store.add(new_job(services.config.jobs_dir))

    response = client.get(
        "/api/jobs/long_poll",
        query_string={"token": token},
        headers={"Accept-Encoding": "gzip"},
    )

    assert response.headers["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(response.get_data()))
    assert [j["id"] for j in body["jobs"]] == [job.id]
