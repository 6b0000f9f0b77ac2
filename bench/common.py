"""What the benchmarks share: a real server on loopback, and where results go."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zordon.client import RenderServerProxy

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

# The tests' server: on loopback, never reaching a real release index.
from tests.helpers import ServerProcess  # noqa: E402


@contextmanager
def running_server(
    data_dir: Path, env: Mapping[str, str] | None = None, *args: str
) -> Iterator[tuple[RenderServerProxy, int]]:
    """A ``zordon server`` on loopback, as the tests start one: proxy and pid."""
    data_dir.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(data_dir, env, extra_args=args).start()
    assert server.proc is not None
    try:
        yield server.proxy(), server.proc.pid
    finally:
        server.stop()


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
