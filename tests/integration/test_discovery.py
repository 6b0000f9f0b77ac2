"""Zeroconf discovery between two test hosts in network namespaces.

The test makes two namespaces joined by a veth pair, with addresses that
exist only inside them, and starts a server in each without ``--peer``.
Where the kernel or our rights forbid namespaces, it says so and skips.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.real

SUBNET = "10.231.77"
PORT = 8735
DISCOVERY_TIMEOUT_S = 30.0


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def two_hosts() -> Iterator[list[tuple[str, str]]]:
    """Two namespaces on one veth link: [(namespace, address), ...]."""
    tag = uuid.uuid4().hex[:6]
    hosts = [(f"zordon-{tag}-a", f"{SUBNET}.1"), (f"zordon-{tag}-b", f"{SUBNET}.2")]
    links = [f"zv{tag}a", f"zv{tag}b"]
    try:
        for namespace, _ in hosts:
            _ip("netns", "add", namespace)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"network namespaces are not allowed here: {exc}")
    try:
        _ip("link", "add", links[0], "type", "veth", "peer", "name", links[1])
        for (namespace, address), link in zip(hosts, links, strict=True):
            _ip("link", "set", link, "netns", namespace)
            _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", link)
            _ip("-n", namespace, "link", "set", link, "up", "multicast", "on")
            _ip("-n", namespace, "link", "set", "lo", "up")
        yield hosts
    finally:
        for namespace, _ in hosts:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


def _in_namespace(namespace: str, *argv: str) -> list[str]:
    return ["ip", "netns", "exec", namespace, *argv]


def _peers_seen(namespace: str, address: str) -> list[dict]:
    code = (
        "import json, urllib.request;"
        f"print(urllib.request.urlopen('http://{address}:{PORT}"
        "/api/_debug/detected_clients', timeout=3).read().decode())"
    )
    done = subprocess.run(
        _in_namespace(namespace, sys.executable, "-c", code),
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout) if done.returncode == 0 else []


def test_servers_find_each_other_without_a_peer_list(
    two_hosts: list[tuple[str, str]], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZORDON_")}
    procs = []
    for namespace, address in two_hosts:
        argv = [sys.executable, "-m", "zordon.cli.main", "server", "--host", address]
        argv += ["--port", str(PORT), "--data-dir", str(tmp_path / namespace)]
        argv += ["--debug"]
        with open(tmp_path / f"{namespace}.log", "wb") as log:
            procs.append(
                subprocess.Popen(
                    _in_namespace(namespace, *argv), stdout=log, stderr=log, env=env
                )
            )
    try:
        (ns_a, addr_a), (ns_b, addr_b) = two_hosts
        deadline = time.monotonic() + DISCOVERY_TIMEOUT_S
        seen_a: list[dict] = []
        seen_b: list[dict] = []
        while time.monotonic() < deadline:
            seen_a, seen_b = _peers_seen(ns_a, addr_a), _peers_seen(ns_b, addr_b)
            if any(p["up"] for p in seen_a) and any(p["up"] for p in seen_b):
                break
            time.sleep(0.5)

        assert [p["url"] for p in seen_a] == [f"http://{addr_b}:{PORT}"]
        assert [p["url"] for p in seen_b] == [f"http://{addr_a}:{PORT}"]
        assert all(p["source"] == "zeroconf" for p in seen_a + seen_b)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(15)
