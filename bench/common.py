"""What the benchmarks share: a real server on loopback, and where results go."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zordon.client import RenderServerProxy

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
SERVER_START_TIMEOUT_S = 30.0
# Benchmarks never reach a real release index: nothing listens on port 9.
OFFLINE_INDEXES = {
    "ZORDON_BLENDER_RELEASES_URL": "http://127.0.0.1:9/blender/",
    "ZORDON_FFMPEG_RELEASES_URL": "http://127.0.0.1:9/ffmpeg/",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(
    data_dir: Path, env: Mapping[str, str] | None = None, *args: str
) -> Iterator[tuple[RenderServerProxy, int]]:
    """A ``zordon server`` on loopback; yields its proxy and its pid."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [sys.executable, "-m", "zordon.cli.main", "server", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--data-dir", str(data_dir), "--no-discovery"]
    environ = {**os.environ, **OFFLINE_INDEXES, **(env or {})}
    with open(data_dir.parent / f"server-{port}.out", "wb") as log:
        server = subprocess.Popen(
            [*argv, *args], stdout=log, stderr=subprocess.STDOUT, env=environ
        )
        try:
            proxy = RenderServerProxy(f"http://127.0.0.1:{port}")
            _wait_until_up(proxy, server)
            yield proxy, server.pid
        finally:
            server.terminate()
            server.wait(timeout=10)


def _wait_until_up(proxy: RenderServerProxy, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not proxy.check_connection():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the server did not start; see its .out file")
        time.sleep(0.05)


def write_results(name: str, figures: Mapping[str, Any]) -> Path:
    """Save ``figures`` with the machine's facts to ``bench/results/``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    record = {
        "when": dt.datetime.now(dt.UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        **figures,
    }
    path.write_text(json.dumps(record, indent=2))
    return path


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
