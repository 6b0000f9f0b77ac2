"""Facts about this host: identity, addresses, CPU, memory."""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import os
import platform
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

logger = logging.getLogger(__name__)

CPU_SCORE_FILE = "cpu_benchmark.json"


def server_id(data_dir: Path) -> str:
    """A stable id for the server using ``data_dir``, made on first use."""
    path = data_dir / "server_id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        new_id = uuid.uuid4().hex
        path.write_text(new_id + "\n")
        return new_id


def hostname() -> str:
    return socket.gethostname()


def lan_addresses() -> list[str]:
    """IPv4 addresses of this host's interfaces, loopback last."""
    found = []
    for addrs in psutil.net_if_addrs().values():
        for addr in addrs:
            if addr.family == socket.AF_INET:
                found.append(addr.address)
    return sorted(set(found), key=lambda a: ipaddress.ip_address(a).is_loopback)


def advertise_url(host: str, port: int) -> str:
    """The URL other servers use to reach a server bound to ``host``."""
    if host in ("", "0.0.0.0", "::"):
        addresses = lan_addresses()
        host = addresses[0] if addresses else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@functools.cache
def cpu_brand() -> str:
    """The CPU's marketing name; py-cpuinfo takes about a second, so once."""
    import cpuinfo

    return cpuinfo.get_cpu_info().get("brand_raw", "unknown")


def cpu_brand_if_known() -> str | None:
    """The CPU's name if :func:`cpu_brand` has run, without waiting for it."""
    return cpu_brand() if cpu_brand.cache_info().currsize else None


def cpu_score(data_dir: Path) -> float | None:
    """The last CPU benchmark score saved in ``data_dir``, if any."""
    try:
        return float(json.loads((data_dir / CPU_SCORE_FILE).read_text())["score"])
    except (FileNotFoundError, KeyError, ValueError):
        return None


def save_cpu_score(data_dir: Path, score: float, seconds: float) -> None:
    """Keep a CPU benchmark score where :func:`cpu_score` reads it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    record = {"score": score, "seconds": seconds, "measured_at": time.time()}
    partial = data_dir / (CPU_SCORE_FILE + ".part")
    partial.write_text(json.dumps(record) + "\n")
    partial.replace(data_dir / CPU_SCORE_FILE)


@functools.cache
def os_name() -> str:
    """The distribution's name, such as "Debian GNU/Linux 12 (bookworm)"."""
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        return platform.platform(terse=True)


def host_facts() -> dict[str, Any]:
    memory = psutil.virtual_memory()
    return {
        "hostname": hostname(),
        "os": platform.system(),
        "os_version": platform.release(),
        "os_name": os_name(),
        "cpu_brand": cpu_brand_if_known(),
        "cpu_count": os.cpu_count(),
        "cpu_percent": psutil.cpu_percent(interval=None),
        "memory_total": memory.total,
        "memory_used": memory.total - memory.available,
        "memory_available": memory.available,
        "memory_percent": memory.percent,
    }
