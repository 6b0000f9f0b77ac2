"""Status of real servers on loopback: one with a live peer and a dead port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from tests.helpers import ServerProcess, free_port, wait_until
from zordon import API_VERSION

pytestmark = pytest.mark.real

PEER_TIMEOUT_S = "1.0"


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """``main`` (with --debug) names ``peer`` and a port nothing listens on."""
    root = tmp_path_factory.mktemp("status")
    dead_url = f"http://127.0.0.1:{free_port()}"
    peer = ServerProcess(root / "peer").start()
    main = ServerProcess(
        root / "main",
        env={"ZORDON_PEER_STATUS_TIMEOUT_S": PEER_TIMEOUT_S},
        extra_args=["--debug", "--peer", peer.url, "--peer", dead_url],
    ).start()
    yield {"main": main, "peer": peer, "dead_url": dead_url}
    main.stop()
    peer.stop()


def test_status_of_a_real_server_field_by_field(farm):
    main = farm["main"]
    proxy = main.proxy()
    wait_until(
        lambda: proxy.get_status()["cpu_brand"], timeout_s=20, what="the CPU's name"
    )

    status = proxy.get_status()

    assert status["port"] == main.port and status["url"] == main.url
    assert isinstance(status["cpu_brand"], str) and status["cpu_count"] >= 1
    assert status["os"] == "Linux" and status["os_name"]
    assert status["memory_total"] > status["memory_used"] > 0
    assert set(status["job_counts"]) >= {"running", "not_started", "completed"}
    assert status["api_version"] == API_VERSION
    assert status["cpu_score"] is None


def test_full_status_has_the_live_peer_and_marks_the_dead_one(farm):
    full = farm["main"].proxy().get_full_status()

    by_url = {server["url"]: server for server in full["servers"]}
    own, live, dead = (
        by_url[farm["main"].url],
        by_url[farm["peer"].url],
        by_url[farm["dead_url"]],
    )
    assert own["self"] and own["reachable"]
    assert live["reachable"] and live["status"]["port"] == farm["peer"].port
    assert not dead["reachable"] and dead["status"] is None
    assert dead["silent_s"] > 0 and dead["last_seen"] is None
    assert "cannot reach" in dead["error"]


def test_debug_routes_only_on_the_server_started_with_debug(farm):
    main = farm["main"].proxy()
    wait_until(
        lambda: any(p["up"] for p in main.detected_clients()),
        timeout_s=20,
        what="the peer to answer",
    )

    plain = requests.get(f"{farm['peer'].url}/api/_debug/detected_clients", timeout=5)

    assert {p["url"] for p in main.detected_clients()} == {
        farm["peer"].url,
        farm["dead_url"],
    }
    assert plain.status_code == 404


def test_a_client_of_another_major_version_gets_a_4xx_naming_both(farm):
    response = requests.get(
        f"{farm['main'].url}/api/status", headers={"X-API-Version": "9.0"}, timeout=5
    )

    assert 400 <= response.status_code < 500
    assert API_VERSION in response.text and "9.0" in response.text


def test_zordon_status_prints_the_server_and_its_peers(farm):
    argv = [sys.executable, "-m", "zordon.cli.main", "status"]
    argv += ["--server", farm["main"].url]

    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=_env())

    assert done.returncode == 0, done.stderr
    assert "2 of 3 servers reachable" in done.stdout
    assert "unreachable" in done.stdout
    assert str(farm["peer"].port) in done.stdout


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZORDON_")}
    return {**env, "COLUMNS": "160"}
