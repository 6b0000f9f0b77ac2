"""Previews and farm status against real servers on loopback.

(a) The thumbnail of a 3840x2160 PNG frame that Blender renders through a
    server: the first request, which makes the preview, against later ones,
    which get the cached file. Small and big, each over several rounds with
    the cache emptied in between.
(b) ``/api/full_status`` of a server with three peers, with one, then all
    three, hanging (a socket that takes connections and never answers), and
    with one refusing: the call should last about the peer timeout however
    many peers hang, since they are asked side by side.

Run it with the project's venv, from the repository::

    .venv/bin/python bench/bench_status.py [--rounds 5] [--peer-timeout 1.0]

It prints a table and writes the figures to ``bench/results/`` as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import ServerProcess, free_port, wait_for_job  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
SCENE_SCRIPT = ROOT / "scripts" / "make_scene.py"
FRAME_PX = (3840, 2160)
CACHED_REQUESTS = 10
JOB_TIMEOUT_S = 600.0
LIVE_PEERS = 3


def make_4k_scene(path: Path) -> None:
    argv = ["blender", "-b", "--factory-startup", "--python", str(SCENE_SCRIPT)]
    argv += ["--", str(path), "--frames", "1", "--samples", "4"]
    argv += ["--width", str(FRAME_PX[0]), "--height", str(FRAME_PX[1])]
    subprocess.run(argv, check=True, capture_output=True)


def timed(call: Callable[[], Any]) -> float:
    """Seconds ``call`` took, in milliseconds."""
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def thumbnail_rounds(work: Path, rounds: int) -> dict[str, Any]:
    scene = work / "uhd.blend"
    make_4k_scene(scene)
    with running(ServerProcess(work / "thumbs")) as server:
        proxy = server.proxy(timeout_s=120)
        job = proxy.create_job({"name": "uhd"}, scene)
        done = wait_for_job(proxy, job["id"], timeout_s=JOB_TIMEOUT_S)
        if done["status"] != "completed":
            raise SystemExit(f"the 4K render failed: {done['error']}")
        previews = Path(done["output_dir"]).parent / "previews"
        return {
            size: _rounds(proxy, job["id"], previews, size == "big", rounds)
            for size in ("small", "big")
        }


def _rounds(proxy: Any, job_id: str, previews: Path, big: bool, rounds: int) -> Any:
    runs = []
    for _ in range(rounds):
        shutil.rmtree(previews, ignore_errors=True)
        first = timed(lambda: proxy.get_thumbnail(job_id, big=big))
        cached = [
            timed(lambda: proxy.get_thumbnail(job_id, big=big))
            for _ in range(CACHED_REQUESTS)
        ]
        runs.append({"first_ms": first, "cached_ms": statistics.median(cached)})
    return runs


@contextmanager
def running(server: ServerProcess) -> Iterator[ServerProcess]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def hanging_peer() -> Iterator[str]:
    """A URL whose socket takes connections into its backlog and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def full_status_rounds(work: Path, rounds: int, timeout_s: float) -> dict[str, Any]:
    with ExitStack() as stack:
        live = [
            stack.enter_context(running(ServerProcess(work / f"live{n}"))).url
            for n in range(LIVE_PEERS)
        ]
        hung = [stack.enter_context(hanging_peer()) for _ in range(3)]
        refused = f"http://127.0.0.1:{free_port()}"
        farms = {
            "3 live": live,
            "2 live + 1 hanging": [*live[:2], hung[0]],
            "3 hanging": hung,
            "2 live + 1 refusing": [*live[:2], refused],
        }
        return {
            name: _status_rounds(
                work / name.replace(" ", "_"), peers, rounds, timeout_s
            )
            for name, peers in farms.items()
        }


def _status_rounds(
    data: Path, peers: list[str], rounds: int, timeout_s: float
) -> dict[str, Any]:
    args = [arg for url in peers for arg in ("--peer", url)]
    env = {"ZORDON_PEER_STATUS_TIMEOUT_S": str(timeout_s)}
    with running(ServerProcess(data, env=env, extra_args=args)) as server:
        proxy = server.proxy(timeout_s=60)
        runs, reachable = [], 0
        for _ in range(rounds):
            started = time.perf_counter()
            full = proxy.get_full_status()
            runs.append((time.perf_counter() - started) * 1000)
            reachable = sum(s["reachable"] for s in full["servers"]) - 1
        return {"ms": runs, "peers": len(peers), "reachable_peers": reachable}


def summarise(thumbs: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for size, runs in thumbs.items():
        first = statistics.median(r["first_ms"] for r in runs)
        cached = statistics.median(r["cached_ms"] for r in runs)
        summary[f"thumbnail {size}"] = {
            "first_ms": round(first, 1),
            "cached_ms": round(cached, 1),
            "ratio": round(first / cached, 1),
        }
    for name, result in status.items():
        summary[f"full_status {name}"] = {
            "median_ms": round(statistics.median(result["ms"]), 1),
            "max_ms": round(max(result["ms"]), 1),
            "reachable_peers": result["reachable_peers"],
        }
    return summary


def print_table(summary: dict[str, Any], timeout_s: float) -> None:
    print(f"{'measure':<38} figures (peer timeout {timeout_s:g} s)")
    for name, figures in summary.items():
        text = ", ".join(f"{key} {value}" for key, value in figures.items())
        print(f"{name:<38} {text}")


def write_results(raw: dict[str, Any], summary: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"bench_status-{stamp}.json"
    report = {"summary": summary, "raw": raw, "frame_px": FRAME_PX}
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--peer-timeout", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zordon-bench-status-") as folder:
        work = Path(folder)
        thumbs = thumbnail_rounds(work, args.rounds)
        status = full_status_rounds(work, args.rounds, args.peer_timeout)
    summary = summarise(thumbs, status)
    print_table(summary, args.peer_timeout)
    raw = {"thumbnails": thumbs, "full_status": status}
    print(f"figures written to {write_results(raw, summary)}")


if __name__ == "__main__":
    main()
