"""The farm's full status with peers faked in-process."""

from __future__ import annotations

import threading

from zordon.client import ServerUnreachable
from zordon.cluster.farm import farm_status
from zordon.cluster.peers import Peer

LOCAL = {"status": {"hostname": "here"}, "jobs": [], "timestamp": 1.0}


class FakePeer:
    """Answers get_snapshot by calling ``answer``."""

    def __init__(self, answer):
        self.answer = answer

    def get_snapshot(self, active_only=False, timeout_s=None):
        return self.answer()


def snapshot(hostname, *statuses):
    jobs = [{"id": str(n), "status": s} for n, s in enumerate(statuses)]
    return {"status": {"hostname": hostname}, "jobs": jobs, "timestamp": 2.0}


def status_of(answers, timeout_s=5.0):
    peers = [Peer(url, "static") for url in answers]
    fakes = {url: FakePeer(answer) for url, answer in answers.items()}
    return farm_status(LOCAL, "http://here", peers, fakes.__getitem__, timeout_s)


def test_every_peer_is_asked_at_once():
    together = threading.Barrier(3, timeout=10)

    def answer():
        together.wait()  # breaks unless all three are asked side by side
        return snapshot("peer")

    full = status_of({f"http://p{n}": answer for n in range(3)})

    assert [s["reachable"] for s in full["servers"]] == [True] * 4


def test_a_peer_that_hangs_is_unreachable_once_the_timeout_passes():
    release = threading.Event()

    def hang():
        release.wait(30)
        return snapshot("slow")

    try:
        full = status_of({"http://slow": hang}, timeout_s=0.1)
    finally:
        release.set()

    slow = full["servers"][1]
    assert not slow["reachable"]
    assert slow["error"] == "no answer within 0.1 s"
    assert slow["silent_s"] >= 0 and slow["last_seen"] is None


def test_a_peer_that_refuses_says_why():
    def refuse():
        raise ServerUnreachable("cannot reach http://gone")

    full = status_of({"http://gone": refuse})

    assert full["servers"][1]["error"] == "cannot reach http://gone"


def test_only_unfinished_jobs_are_listed():
    full = status_of({"http://busy": lambda: snapshot("busy", "running", "completed")})

    assert [job["status"] for job in full["servers"][1]["jobs"]] == ["running"]
    assert full["servers"][0]["self"] and full["servers"][0]["url"] == "http://here"
