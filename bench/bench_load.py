"""Zordon under load, on loopback: long-polls, submissions, the job list.

Three measurements against real ``zordon server`` processes with a farm
token and a stand-in for Blender (so the figures are Zordon's, not the
renders'):

(a) ``--pollers`` clients long-poll while jobs are submitted at ``--rate``
    per second for ``--duration`` seconds: no errors, and every job
    submitted is listed once (none lost, none twice);
(b) the time from a change to each waiting long-poll's answer, over
    ``--wake-rounds`` changes (goal: p99 at most 50 ms), and as a ratio of
    the same rounds against bare_long_poll.py, a waitress app with nothing
    but a long-poll answering as many bytes: the floor on this machine;
(c) GET /api/jobs with ``--jobs`` jobs in the store (goal: p50 at most 30 ms).

    .venv/bin/python bench/bench_load.py [--duration 60] [--pollers 50] [--rate 20]

It prints the figures and writes them to ``bench/results/load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import load  # noqa: E402
from tests.helpers import ServerProcess, free_port, make_scenes, new_job  # noqa: E402
from zordon.jobs.store import JobStore  # noqa: E402

TOKEN = "bench-load-token-0123456789abcdef"
RESULTS = ROOT / "bench" / "results" / "load.json"
WAKE_GOAL_MS = 50.0
LIST_GOAL_MS = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--pollers", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--wake-rounds", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--list-requests", type=int, default=50)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zordon-load-") as folder:
        figures = measure(Path(folder), options)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    load_ok = not any(figures["load"][k] for k in ("submit_errors", "poll_errors"))
    load_ok = (
        load_ok and not figures["load"]["lost"] and not figures["load"]["duplicated"]
    )
    print("load:", "PASS" if load_ok else "FAIL")
    return 0 if load_ok else 1


def _server(folder: Path, name: str) -> ServerProcess:
    env = {
        "ZORDON_TOKEN": TOKEN,
        "ZORDON_BLENDER_PATH": str(load.stand_in_blender(folder)),
        "ZORDON_LONG_POLL_TIMEOUT_S": "10",
    }
    return ServerProcess(folder / name, env)


def measure(folder: Path, options: argparse.Namespace) -> dict[str, Any]:
    make_scenes(folder)
    server = _server(folder, "load").start()
    try:
        spec = load.upload_scene(server.proxy(), folder / "scene.blend")
        result = load.run_load(
            server.url, TOKEN, spec, options.pollers, options.rate, options.duration
        )
        load.finish_jobs(server.url, TOKEN, spec, 0)
        jobs_then = len(server.proxy().get_jobs())
        wake = load.wake_latencies(
            server.url, TOKEN, options.pollers, options.wake_rounds
        )
        answer_bytes = _list_bytes(server)
        tracebacks = server.log().count("Traceback")
    finally:
        server.stop()
    bare = _bare_wake_latencies(options.pollers, options.wake_rounds, answer_bytes)
    wake_figures, bare_figures = load.summary(wake), load.summary(bare)
    return {
        "load": {**result.figures(), "server_tracebacks": tracebacks},
        "wake": {
            **wake_figures,
            "pollers": options.pollers,
            "jobs_in_store": jobs_then,
            "answer_bytes": answer_bytes,
            "goal_p99_ms": WAKE_GOAL_MS,
            "bare_waitress": bare_figures,
            "ratio_p50": _ratio(wake_figures, bare_figures, "p50_ms"),
            "ratio_p99": _ratio(wake_figures, bare_figures, "p99_ms"),
        },
        "list": _list_figures(folder, options),
    }


def _list_bytes(server: ServerProcess) -> int:
    """The size of the gzipped list a woken long-poll sends."""
    headers = {"Accept-Encoding": "gzip"}
    response = server.proxy().request("GET", "/jobs", headers=headers)
    return int(response.headers["Content-Length"])


def _bare_wake_latencies(pollers: int, rounds: int, answer_bytes: int) -> list[float]:
    """The same wake rounds against bare_long_poll.py, answering as many bytes."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    script = Path(__file__).with_name("bare_long_poll.py")
    argv = [sys.executable, str(script), str(port), str(answer_bytes)]
    bare = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        session = requests.Session()
        _wait_until_up(session, url)
        latencies: list[float] = []
        for _ in range(rounds):
            time.sleep(load.QUIET_S)

            def change() -> None:
                session.post(f"{url}/api/change", timeout=10).raise_for_status()

            latencies += asyncio.run(load.wake_round(url, "", "", pollers, change))
        return latencies
    finally:
        bare.terminate()
        bare.wait(10)


def _wait_until_up(session: requests.Session, url: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            session.get(url, timeout=1)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _ratio(ours: dict[str, Any], bare: dict[str, Any], key: str) -> float | None:
    return round(ours[key] / bare[key], 2) if ours[key] and bare[key] else None


def _list_figures(folder: Path, options: argparse.Namespace) -> dict[str, Any]:
    server = _server(folder, "list")
    _fill_store(server.data_dir, options.jobs)
    server.start()
    try:
        took = load.list_latencies(server.url, TOKEN, options.list_requests)
    finally:
        server.stop()
    return {**load.summary(took), "jobs": options.jobs, "goal_p50_ms": LIST_GOAL_MS}


def _fill_store(data_dir: Path, count: int) -> None:
    """``count`` finished jobs, written straight into the server's store."""
    store = JobStore(data_dir / "zordon.sqlite")
    try:
        jobs = [
            new_job(data_dir / "jobs", status="completed", progress=1.0)
            for _ in range(count)
        ]
        store.add_all(jobs)
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
