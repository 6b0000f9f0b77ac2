"""Finding peers with Zeroconf: advertise ``_zordon._tcp`` and browse for it."""

from __future__ import annotations

import logging
import socket

from zeroconf import (
    IPVersion,
    ServiceBrowser,
    ServiceInfo,
    ServiceStateChange,
    Zeroconf,
)

from zordon import API_VERSION
from zordon.cluster.peers import PeerDirectory

logger = logging.getLogger(__name__)

SERVICE_TYPE = "_zordon._tcp.local."
RESOLVE_TIMEOUT_MS = 3000


class Discovery:
    """Advertises this server and adds every other one it hears of to ``peers``."""

    def __init__(
        self, peers: PeerDirectory, server_id: str, addresses: list[str], port: int
    ) -> None:
        self.peers = peers
        self.server_id = server_id
        self.addresses = addresses
        self._zeroconf: Zeroconf | None = None
        self._browser: ServiceBrowser | None = None
        self._names: dict[str, str] = {}
        self._info = ServiceInfo(
            SERVICE_TYPE,
            f"zordon-{server_id[:12]}.{SERVICE_TYPE}",
            addresses=[socket.inet_aton(a) for a in addresses],
            port=port,
            properties={"server_id": server_id, "api": API_VERSION},
            server=f"zordon-{server_id[:12]}.local.",
        )

    def start(self) -> None:
        # Only the interfaces the server listens on: one bound to loopback
        # is never announced on the network.
        self._zeroconf = Zeroconf(
            interfaces=self.addresses, ip_version=IPVersion.V4Only
        )
        self._zeroconf.register_service(self._info)
        self._browser = ServiceBrowser(
            self._zeroconf, SERVICE_TYPE, handlers=[self._on_change]
        )
        logger.info("advertising %s on port %s", SERVICE_TYPE, self._info.port)

    def stop(self) -> None:
        if self._zeroconf is None:
            return
        self._zeroconf.unregister_service(self._info)
        self._zeroconf.close()
        self._zeroconf = None

    def _on_change(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            url = self._names.pop(name, None)
            if url:
                self.peers.remove(url)
            return
        info = zeroconf.get_service_info(service_type, name, RESOLVE_TIMEOUT_MS)
        if info is None or not info.parsed_addresses(IPVersion.V4Only):
            return
        props = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
        if props.get("server_id") == self.server_id:
            return
        url = f"http://{info.parsed_addresses(IPVersion.V4Only)[0]}:{info.port}"
        self._names[name] = url
        self.peers.add(url, "zeroconf")
