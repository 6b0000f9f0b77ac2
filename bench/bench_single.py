"""How much a Zordon server costs over running Blender by hand, on one machine.

Measures two things against a real ``zordon server`` on a free loopback port:

(a) a 24-frame render submitted through the API, from submit to completed,
    against ``blender -b scene.blend ... -a`` run by hand on the same frames,
    the two alternated; the goal is a ratio of at most 1.03;
(b) the time from submit to the Blender process starting, seen by polling
    the server's children; the goal is at most 100 ms.

Run it with the project's venv, from anywhere::

    .venv/bin/python bench/bench_single.py [--rounds 5] [--starts 10]

It prints a table and writes the figures to ``bench/results/`` as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from common import running_server

import zordon
from zordon.client import RenderServerProxy

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
SCENE_SCRIPT = ROOT / "scripts" / "make_scene.py"
FRAMES = 24
SCENE_SIZE_PX = (160, 90)
SCENE_SAMPLES = 64
RATIO_GOAL = 1.03
START_GOAL_MS = 100.0
SERVER_START_TIMEOUT_S = 30.0
JOB_TIMEOUT_S = 300.0
FINISHED = ("completed", "cancelled", "error")


def make_scene(blender: str, path: Path) -> None:
    """Have Blender write the benchmark scene to ``path``."""
    width, height = SCENE_SIZE_PX
    argv = [blender, "-b", "--factory-startup", "--python", str(SCENE_SCRIPT)]
    argv += ["--", str(path), "--frames", str(FRAMES)]
    argv += ["--width", str(width), "--height", str(height)]
    argv += ["--samples", str(SCENE_SAMPLES)]
    subprocess.run(argv, check=True, capture_output=True)


def run_by_hand(blender: str, scene: Path, out_dir: Path) -> dict[str, float]:
    """Blender alone on the frames, output discarded: wall and CPU seconds."""
    argv = [blender, "-b", str(scene), "-o", str(out_dir / "f_####"), "-F", "PNG"]
    argv += ["-x", "1", "-s", "1", "-e", str(FRAMES), "-a"]
    cpu_before = children_cpu_s()
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if len(list(out_dir.glob("f_*.png"))) != FRAMES:
        raise SystemExit(f"Blender by hand did not write {FRAMES} frames")
    return {"wall_s": elapsed, "engine_cpu_s": children_cpu_s() - cpu_before}


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_through_zordon(
    proxy: RenderServerProxy, server: psutil.Process, scene: Path
) -> dict[str, float]:
    """Submit to completed through the API, with where the time went.

    ``engine_cpu_s`` is Blender's CPU time (the server waits for it, so it
    lands in the server's children times); ``server_cpu_s`` is the server's
    own; ``engine_run_s`` runs from the job's ``started_at`` to its end.
    """
    token = proxy.get_jobs_with_token()["token"]
    spec = {"renderer": "blender", "start_frame": 1, "end_frame": FRAMES}
    cpu_before = server.cpu_times()
    started = time.perf_counter()
    job = proxy.create_job(spec, scene)
    final = wait_finished(proxy, job["id"], token)
    elapsed = time.perf_counter() - started
    cpu = server.cpu_times()
    check_completed(proxy, final, FRAMES)
    return {
        "wall_s": elapsed,
        "engine_run_s": _iso_s(final["finished_at"]) - _iso_s(final["started_at"]),
        "engine_cpu_s": cpu.children_user
        + cpu.children_system
        - cpu_before.children_user
        - cpu_before.children_system,
        "server_cpu_s": cpu.user + cpu.system - cpu_before.user - cpu_before.system,
    }


def _iso_s(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def wait_finished(
    proxy: RenderServerProxy, job_id: str, token: str | None
) -> dict[str, Any]:
    """Follow the job through long-polls until it ends; returns its JSON."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        result = proxy.long_poll(token)
        if result is None:
            continue
        token = result["token"]
        job = next((j for j in result["jobs"] if j["id"] == job_id), None)
        if job is not None and job["status"] in FINISHED:
            return job
    raise SystemExit(f"job {job_id} did not finish in {JOB_TIMEOUT_S} s")


def check_completed(proxy: RenderServerProxy, job: dict[str, Any], frames: int) -> None:
    files = proxy.get_job_files(job["id"])
    if job["status"] != "completed" or len(files) != frames:
        raise SystemExit(f"job {job['id']} {job['status']}: {job['error']}")
    proxy.delete_job(job["id"])


class ChildWatcher:
    """Polls a process's children and notes when a ``blender`` one appears."""

    def __init__(self, pid: int) -> None:
        self.parent = psutil.Process(pid)
        self.seen_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> ChildWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set() and self.seen_at is None:
            for child in self.parent.children(recursive=True):
                try:
                    if child.name() == "blender":
                        self.seen_at = time.perf_counter()
                except psutil.NoSuchProcess:
                    continue
            time.sleep(0.0005)


def time_to_start(proxy: RenderServerProxy, pid: int, scene: Path) -> dict[str, float]:
    """Milliseconds from submit to Blender running, by psutil and by started_at."""
    token = proxy.get_jobs_with_token()["token"]
    spec = {"renderer": "blender", "start_frame": 1, "end_frame": 1}
    with ChildWatcher(pid) as watcher:
        wall_start = time.time()
        started = time.perf_counter()
        job = proxy.create_job(spec, scene)
        final = wait_finished(proxy, job["id"], token)
    check_completed(proxy, final, 1)
    if watcher.seen_at is None:
        raise SystemExit(f"job {job['id']}: never saw a blender process")
    return {
        "process_seen_ms": (watcher.seen_at - started) * 1000,
        "started_at_ms": (_iso_s(final["started_at"]) - wall_start) * 1000,
    }


def measure(blender: str, work: Path, rounds: int, starts: int) -> dict[str, Any]:
    """Alternate by-hand and Zordon runs, then time engine start-ups."""
    scene = work / "scene.blend"
    make_scene(blender, scene)
    data_dir = work / "data"
    data_dir.mkdir()
    by_hand: list[dict[str, float]] = []
    through: list[dict[str, float]] = []
    with running_server(data_dir) as (proxy, pid):
        server = psutil.Process(pid)
        for n in range(rounds):
            by_hand.append(run_by_hand(blender, scene, work / f"by_hand_{n}"))
            through.append(run_through_zordon(proxy, server, scene))
            # Other work on the machine skews single rounds; the load shows when.
            through[-1]["load_1min"] = os.getloadavg()[0]
            print(
                f"round {n + 1}: by hand {by_hand[-1]['wall_s']:.2f} s, "
                f"zordon {through[-1]['wall_s']:.2f} s, "
                f"load {through[-1]['load_1min']:.2f}",
                flush=True,
            )
        start_runs = [time_to_start(proxy, pid, scene) for _ in range(starts)]
    return {"by_hand": by_hand, "zordon": through, "starts": start_runs}


def summarise(raw: dict[str, Any]) -> dict[str, float]:
    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    by_hand, through, starts = raw["by_hand"], raw["zordon"], raw["starts"]
    return {
        "by_hand_median_s": median(by_hand, "wall_s"),
        "zordon_median_s": median(through, "wall_s"),
        "ratio": median(through, "wall_s") / median(by_hand, "wall_s"),
        "ratio_of_pairs_median": statistics.median(
            z["wall_s"] / h["wall_s"] for h, z in zip(by_hand, through, strict=True)
        ),
        "zordon_engine_run_median_s": median(through, "engine_run_s"),
        "by_hand_engine_cpu_median_s": median(by_hand, "engine_cpu_s"),
        "zordon_engine_cpu_median_s": median(through, "engine_cpu_s"),
        "server_cpu_median_s": median(through, "server_cpu_s"),
        "cpu_ratio_of_pairs_median": statistics.median(
            (z["engine_cpu_s"] + z["server_cpu_s"]) / h["engine_cpu_s"]
            for h, z in zip(by_hand, through, strict=True)
        ),
        "start_process_median_ms": median(starts, "process_seen_ms"),
        "start_started_at_median_ms": median(starts, "started_at_ms"),
    }


TABLE = (
    # label, summary key, unit, goal
    ("{frames} frames by hand, wall", "by_hand_median_s", "s", None),
    ("{frames} frames through Zordon, wall", "zordon_median_s", "s", None),
    ("ratio Zordon / by hand", "ratio", "", RATIO_GOAL),
    ("  median of the per-round ratios", "ratio_of_pairs_median", "", None),
    ("  Zordon: started_at -> finished_at", "zordon_engine_run_median_s", "s", None),
    ("  Blender CPU by hand", "by_hand_engine_cpu_median_s", "s", None),
    ("  Blender CPU under Zordon", "zordon_engine_cpu_median_s", "s", None),
    ("  server's own CPU during a run", "server_cpu_median_s", "s", None),
    ("  CPU ratio (Blender + server) / by hand", "cpu_ratio_of_pairs_median", "", None),
    ("submit -> blender process seen", "start_process_median_ms", "ms", START_GOAL_MS),
    ("submit -> job started_at", "start_started_at_median_ms", "ms", None),
)


def print_table(summary: dict[str, float], rounds: int, starts: int) -> None:
    print(f"medians of {rounds} alternated rounds and {starts} start-ups")
    for label, key, unit, goal in TABLE:
        value = summary[key]
        verdict = ""
        if goal is not None:
            verdict = f"goal <= {goal:g}{unit}: {'ok' if value <= goal else 'MISSED'}"
        shown = f"{value:.1f} {unit}" if unit == "ms" else f"{value:.3f} {unit}"
        print(f"{label.format(frames=FRAMES):<42} {shown:>11}  {verdict}")


def write_results(raw: dict[str, Any], summary: dict[str, float], blender: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"bench_single-{stamp}.json"
    version = subprocess.run(
        [blender, "--factory-startup", "-b", "--version"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    machine = {
        "cpu_count": psutil.cpu_count(),
        "python": platform.python_version(),
        "blender": version[0] if version else "?",
        "zordon": zordon.__version__,
    }
    scene = {"frames": FRAMES, "size_px": SCENE_SIZE_PX, "samples": SCENE_SAMPLES}
    report = {"machine": machine, "scene": scene, "summary": summary, "raw": raw}
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each kind")
    parser.add_argument("--starts", type=int, default=10, help="start-up samples")
    options = parser.parse_args()
    blender = shutil.which("blender")
    if blender is None:
        raise SystemExit("blender is not on PATH; run scripts/setup.sh")

    with tempfile.TemporaryDirectory(prefix="zordon-bench-") as work:
        raw = measure(blender, Path(work), max(options.rounds, 3), options.starts)
    summary = summarise(raw)
    print_table(summary, len(raw["by_hand"]), options.starts)
    print(f"figures written to {write_results(raw, summary, blender)}")


if __name__ == "__main__":
    main()
