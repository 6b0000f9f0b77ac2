"""Long-polls woken by one change share one serialised job list."""

import json

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
