"""A short load run: long-polls and a stream of jobs, no errors, no job lost."""

from __future__ import annotations

import threading
import time

import pytest

from tests import load

pytestmark = pytest.mark.real

TOKEN = "load-test-token-0123456789abcdef"
POLLERS = 20
RATE_PER_S = 10.0
DURATION_S = 3.0


def test_long_polls_and_steady_submissions_lose_and_double_nothing(
    start_server, scene_blend, tmp_path
):
    server = start_server(
        ZORDON_TOKEN=TOKEN,
        ZORDON_BLENDER_PATH=str(load.stand_in_blender(tmp_path)),
        ZORDON_LONG_POLL_TIMEOUT_S="5",
    )
    spec = load.upload_scene(server.proxy(), scene_blend)

    result = load.run_load(server.url, TOKEN, spec, POLLERS, RATE_PER_S, DURATION_S)

    assert result.submit_errors == [] and result.poll_errors == []
    assert len(result.submitted) == int(RATE_PER_S * DURATION_S)
    assert result.lost == [] and result.duplicated == []
    assert result.poll_answers >= POLLERS
    assert "Traceback" not in server.log()


def test_every_waiting_long_poll_wakes_on_a_change(start_server, scene_blend, tmp_path):
    server = start_server(
        ZORDON_TOKEN=TOKEN, ZORDON_BLENDER_PATH=str(load.stand_in_blender(tmp_path))
    )
    spec = load.upload_scene(server.proxy(), scene_blend)
    load.finish_jobs(server.url, TOKEN, spec, 3)

    latencies = load.wake_latencies(server.url, TOKEN, pollers=10, rounds=3)

    assert len(latencies) == 30


def test_a_server_stopping_answers_its_waiting_long_polls_and_exits_at_once(
    start_server,
):
    server = start_server(ZORDON_TOKEN=TOKEN)
    proxy = server.proxy(timeout_s=30)
    seen = proxy.get_jobs_with_token()["token"]
    answers: list[object] = []
    polls = [
        threading.Thread(target=lambda: answers.append(proxy.long_poll(seen)))
        for _ in range(POLLERS)
    ]
    for poll in polls:
        poll.start()
    time.sleep(0.5)  # every poll is parked in the server by now

    started = time.monotonic()
    server.stop()
    took = time.monotonic() - started
    for poll in polls:
        poll.join(30)

    assert took < 3.0, "parked polls held the server up"
    assert answers == [None] * POLLERS  # 204: nothing changed
    assert "still running" not in server.log()
    assert "Exception when servicing" not in server.log()
