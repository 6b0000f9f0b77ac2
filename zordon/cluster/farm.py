"""The farm at a glance: this server's snapshot and each peer's, side by side.

Peers are asked all at once, each with a short timeout, and the whole call
waits no longer than that timeout (plus a little), however many peers there
are. A peer that has not answered by then is marked unreachable, with how
long it has been silent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from zordon.client import ClientError, RenderServerProxy
from zordon.cluster.peers import Peer
from zordon.jobs.status import FINISHED

FINISHED_NAMES = frozenset(status.value for status in FINISHED)

logger = logging.getLogger(__name__)

MAX_PARALLEL_PEERS = 32
GRACE_S = 0.5


def farm_status(
    local: dict[str, Any],
    self_url: str | None,
    peers: list[Peer],
    proxy: Callable[[str], RenderServerProxy],
    timeout_s: float,
) -> dict[str, Any]:
    """``local`` (this server's snapshot) and each peer's, asked in parallel."""
    started = time.monotonic()
    servers = [_entry(self_url, local, is_self=True)]
    servers += _ask_peers(peers, proxy, timeout_s)
    return {
        "timestamp": time.time(),
        "timeout_s": timeout_s,
        "elapsed_s": round(time.monotonic() - started, 3),
        "servers": servers,
    }


def _ask_peers(
    peers: list[Peer], proxy: Callable[[str], RenderServerProxy], timeout_s: float
) -> list[dict[str, Any]]:
    if not peers:
        return []
    pool = ThreadPoolExecutor(min(len(peers), MAX_PARALLEL_PEERS), "full-status")
    try:
        futures = [pool.submit(_snapshot, proxy(peer.url), timeout_s) for peer in peers]
        wait(futures, timeout=timeout_s + GRACE_S)
    finally:
        # A peer that hangs past its timeout must not hold this request up.
        pool.shutdown(wait=False, cancel_futures=True)
    now = time.time()
    return [
        _peer_entry(p, f, now, timeout_s) for p, f in zip(peers, futures, strict=True)
    ]


def _snapshot(proxy: RenderServerProxy, timeout_s: float) -> dict[str, Any]:
    return proxy.get_snapshot(active_only=True, timeout_s=timeout_s)


def _peer_entry(
    peer: Peer, future: Future[dict[str, Any]], now: float, timeout_s: float
) -> dict[str, Any]:
    if future.done() and not future.cancelled():
        exc = future.exception()
        if exc is None:
            return _entry(peer.url, future.result(), is_self=False)
        if not isinstance(exc, ClientError):
            logger.warning("full status of %s failed: %r", peer.url, exc)
        error = str(exc)
    else:
        error = f"no answer within {timeout_s:g} s"
    return {
        "url": peer.url,
        "self": False,
        "reachable": False,
        "error": error,
        "hostname": peer.hostname,
        "last_seen": peer.last_seen,
        "silent_s": round(peer.silent_s(now), 1),
        "status": None,
        "jobs": [],
    }


def _entry(url: str | None, snapshot: dict[str, Any], is_self: bool) -> dict[str, Any]:
    status = snapshot.get("status") or {}
    return {
        "url": url or status.get("url"),
        "self": is_self,
        "reachable": True,
        "error": None,
        "hostname": status.get("hostname"),
        "last_seen": snapshot.get("timestamp"),
        "silent_s": 0.0,
        "status": status,
        "jobs": [job for job in snapshot.get("jobs", []) if _unfinished(job)],
    }


def _unfinished(job: dict[str, Any]) -> bool:
    return job.get("status") not in FINISHED_NAMES
