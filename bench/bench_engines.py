"""``/api/engines/names`` against ``/api/engines?response_type=full``.

The names route must stay cheap: it reads the server's list of installed
engines and starts no program. Requests to the two routes alternate on one
keep-alive connection to a real server on loopback, so both see the same
machine load; the figures are the p50 of each and their ratio.

    .venv/bin/python bench/bench_engines.py [--requests 500]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import requests
from common import percentile, running_server, write_results

WARM_UP = 20


def timed_get(session: requests.Session, url: str) -> float:
    """Milliseconds for one GET, the body read and checked."""
    began = time.perf_counter()
    response = session.get(url, timeout=10)
    response.raise_for_status()
    response.json()
    return (time.perf_counter() - began) * 1000


def measure(base: str, count: int) -> dict[str, list[float]]:
    urls = {
        "names": f"{base}/api/engines/names",
        "full": f"{base}/api/engines?response_type=full",
    }
    times: dict[str, list[float]] = {name: [] for name in urls}
    with requests.Session() as session:
        for _ in range(WARM_UP):
            for url in urls.values():
                timed_get(session, url)
        for _ in range(count):
            for name, url in urls.items():
                times[name].append(timed_get(session, url))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    count = parser.parse_args().requests

    with (
        tempfile.TemporaryDirectory(prefix="zordon-bench-") as work,
        running_server(Path(work) / "data") as (proxy, _pid),
    ):
        times = measure(proxy.base_url, count)

    figures = {
        "requests_each": count,
        "names_p50_ms": percentile(times["names"], 0.5),
        "names_p95_ms": percentile(times["names"], 0.95),
        "full_p50_ms": percentile(times["full"], 0.5),
        "full_p95_ms": percentile(times["full"], 0.95),
    }
    figures["names_to_full_p50_ratio"] = (
        figures["names_p50_ms"] / figures["full_p50_ms"]
    )
    for name, value in figures.items():
        print(
            f"{name:>26}: {value:.3f}"
            if isinstance(value, float)
            else f"{name:>26}: {value}"
        )
    print(f"written to {write_results('bench_engines', figures)}")


if __name__ == "__main__":
    main()
