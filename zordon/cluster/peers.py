"""The other servers this one knows, and whether they answer.

Peers come from the static list (``--peer``) and from Zeroconf. A health
loop sends each a heartbeat every ``CHECK_INTERVAL_S``; one that misses
``DOWN_AFTER_FAILURES`` in a row is down until it answers again.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable

from zordon.client import ClientError, RenderServerProxy

logger = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.5
CHECK_TIMEOUT_S = 2.0
DOWN_AFTER_FAILURES = 2


@dataclasses.dataclass
class Peer:
    url: str
    source: str
    up: bool = False
    failures: int = 0
    server_id: str | None = None
    hostname: str | None = None
    last_seen: float | None = None
    added_at: float = dataclasses.field(default_factory=time.time)

    def silent_s(self, now: float) -> float:
        """Seconds since the peer last answered (or since it was added)."""
        return max(0.0, now - (self.last_seen or self.added_at))

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


class PeerDirectory:
    """Known peers by URL, kept fresh by a background health loop."""

    def __init__(
        self,
        self_id: str,
        static_urls: Iterable[str] = (),
        proxy_factory: Callable[[str], RenderServerProxy] | None = None,
    ) -> None:
        self.self_id = self_id
        self._proxy_factory = proxy_factory or _default_proxy
        self._peers: dict[str, Peer] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.changed = threading.Event()
        for url in static_urls:
            self.add(url, "static")

    def add(self, url: str, source: str) -> None:
        url = url.rstrip("/")
        with self._lock:
            if url in self._peers:
                return
            self._peers[url] = Peer(url, source)
        logger.info("peer %s added (%s)", url, source)

    def remove(self, url: str) -> None:
        with self._lock:
            peer = self._peers.get(url.rstrip("/"))
            if peer is None or peer.source == "static":
                return
            del self._peers[peer.url]
        logger.info("peer %s removed", url)

    def peers(self) -> list[Peer]:
        with self._lock:
            return [dataclasses.replace(p) for p in self._peers.values()]

    def up_peers(self) -> list[Peer]:
        """Peers answering now, without this server itself."""
        return [p for p in self.peers() if p.up and p.server_id != self.self_id]

    def is_up(self, url: str) -> bool:
        with self._lock:
            peer = self._peers.get(url.rstrip("/"))
            return peer is not None and peer.up

    def proxy(self, url: str) -> RenderServerProxy:
        return self._proxy_factory(url)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="peers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def check_all(self) -> None:
        """Heartbeat every peer once and record who answered."""
        for peer in self.peers():
            self._check(peer)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.check_all()
            self._stop.wait(CHECK_INTERVAL_S)

    def _check(self, peer: Peer) -> None:
        proxy = self.proxy(peer.url)
        try:
            if peer.server_id is None or not peer.up:
                facts = proxy.get_identity()
                identity = (facts["server_id"], facts["hostname"])
            else:
                proxy.heartbeat()
                identity = (peer.server_id, peer.hostname)
        except (ClientError, KeyError, ValueError) as exc:
            self._record(peer.url, None, exc)
            return
        self._record(peer.url, identity, None)

    def _record(
        self, url: str, identity: tuple[str, str] | None, error: Exception | None
    ) -> None:
        with self._lock:
            peer = self._peers.get(url)
            if peer is None:
                return
            was_up = peer.up
            if identity is not None:
                peer.server_id, peer.hostname = identity
                peer.failures, peer.up, peer.last_seen = 0, True, time.time()
            else:
                peer.failures += 1
                peer.up = peer.up and peer.failures < DOWN_AFTER_FAILURES
        if peer.up != was_up:
            self.changed.set()
            if peer.up:
                logger.info("peer %s (%s) is up", url, peer.hostname)
            else:
                logger.warning("peer %s is down: %s", url, error)
        elif error is not None:
            logger.debug("peer %s: %s", url, error)


def _default_proxy(url: str) -> RenderServerProxy:
    return RenderServerProxy(url, timeout_s=CHECK_TIMEOUT_S)
