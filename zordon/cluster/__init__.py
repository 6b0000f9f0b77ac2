"""Several servers as one farm: peers, splitting, transfer, recovery."""

from __future__ import annotations

import logging
from functools import partial

from zordon import system
from zordon.client import RenderServerProxy
from zordon.cluster.coordinator import Coordinator
from zordon.cluster.discovery import Discovery
from zordon.cluster.notifier import ParentNotifier
from zordon.cluster.peers import CHECK_TIMEOUT_S, PeerDirectory
from zordon.config import Config
from zordon.jobs.queue import JobQueue

logger = logging.getLogger(__name__)


class Cluster:
    """The parts that make one server a member of a farm."""

    def __init__(self, config: Config, queue: JobQueue) -> None:
        self.server_id = system.server_id(config.data_dir)
        self.self_url = config.advertise_url or system.advertise_url(
            config.host, config.port_number
        )
        factory = partial(
            RenderServerProxy, timeout_s=CHECK_TIMEOUT_S, farm_token=config.farm_token
        )
        self.peers = PeerDirectory(self.server_id, config.peers, factory)
        self.coordinator = Coordinator(
            queue, self.peers, self.self_url, config.data_dir
        )
        self.notifier = ParentNotifier(queue, factory)
        self.discovery: Discovery | None = None
        if config.discovery:
            addresses = _advertised_addresses(config.host)
            self.discovery = Discovery(
                self.peers, self.server_id, addresses, config.port_number
            )

    def start(self) -> None:
        self.peers.start()
        self.notifier.start()
        self.coordinator.start()
        if self.discovery is not None:
            try:
                self.discovery.start()
            except OSError as exc:
                logger.warning("Zeroconf discovery is off: %s", exc)
                self.discovery = None
        logger.info("cluster member %s at %s", self.server_id[:12], self.self_url)

    def stop(self) -> None:
        self.coordinator.stop()
        self.notifier.stop()
        self.peers.stop()
        if self.discovery is not None:
            self.discovery.stop()


def _advertised_addresses(host: str) -> list[str]:
    if host in ("", "0.0.0.0"):
        return [a for a in system.lan_addresses() if not a.startswith("127.")] or [
            "127.0.0.1"
        ]
    return [host]
