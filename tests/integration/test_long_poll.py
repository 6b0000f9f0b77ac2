"""Long-polls hold no thread another request needs."""

import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from zordon.client import RenderServerProxy

pytestmark = pytest.mark.real

OPEN_POLLS = 50
HEARTBEATS = 10
HEARTBEAT_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 30.0


def established_to(port):
    """Our own TCP connections to ``port`` on loopback that are open."""
    return [
        c
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    ]


def wait_for_connections(port, count):
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while len(established_to(port)) < count:
        assert time.monotonic() < deadline, "the long-polls never connected"
        time.sleep(0.05)


def test_heartbeat_answers_while_fifty_long_polls_wait(start_server):
    server = start_server(extra_args=["--debug"])
    token = server.proxy().get_jobs_with_token()["token"]
    pollers = [RenderServerProxy(server.url) for _ in range(OPEN_POLLS)]

    with ThreadPoolExecutor(max_workers=OPEN_POLLS) as pool:
        polls = [pool.submit(p.long_poll, token) for p in pollers]
        wait_for_connections(server.port, OPEN_POLLS)

        quick = server.proxy(timeout_s=HEARTBEAT_TIMEOUT_S)
        beats = [quick.heartbeat() for _ in range(HEARTBEATS)]
        still_waiting = sum(not poll.done() for poll in polls)

        server.proxy().clear_history()  # any change wakes every long-poll
        results = [poll.result() for poll in polls]

    assert len(beats) == HEARTBEATS
    assert still_waiting == OPEN_POLLS
    assert all(r is not None and r["token"] != token for r in results)


def test_a_long_poll_wakes_when_a_job_changes(start_server, scene_blend):
    server = start_server()
    proxy = server.proxy()
    token = proxy.get_jobs_with_token()["token"]

    with ThreadPoolExecutor(max_workers=1) as pool:
        poll = pool.submit(server.proxy().long_poll, token)
        job = proxy.create_job({"name": "wake up"}, scene_blend)
        result = poll.result()

    assert job["id"] in [j["id"] for j in result["jobs"]]
