"""What splitting a render across servers buys, on this machine.

Every server renders with one thread (``threads=1``), so two servers on a
two-core machine stand in for two one-core machines. Measured in the same
process, rounds alternated:

(a) the makespan of 24 frames split across 2 servers against the same job
    on 1 server; the goal is a ratio of at most 0.52 (the ideal is 0.5);
(b) the same split against the "placeholder" trick: two Blender processes
    rendering the whole range into one folder with Placeholders on and
    Overwrite off, so each skips frames the other has claimed; the goal is
    a ratio of at most 1.0.

Run it with the project's venv::

    .venv/bin/python bench/bench_split.py [--rounds 2]

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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from zordon.client import ClientError, RenderServerProxy
from zordon.cluster.packing import pack_input

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
SCENE_SCRIPT = ROOT / "scripts" / "make_scene.py"
FRAMES = 24
SCENE_ARGS = ["--frames", str(FRAMES), "--width", "320", "--height", "180"]
SCENE_ARGS += ["--samples", "32"]
SPLIT_GOAL = 0.52
PLACEHOLDER_GOAL = 1.0
PLACEHOLDER_STAGGER_S = 1.0
START_TIMEOUT_S = 30.0
JOB_TIMEOUT_S = 600.0

PLACEHOLDER_SCRIPT = (
    "import bpy; r = bpy.context.scene.render; "
    "r.use_placeholder = True; r.use_overwrite = False"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def farm(root: Path, size: int) -> Iterator[list[RenderServerProxy]]:
    """``size`` servers on loopback, each given the others with --peer."""
    ports = [free_port() for _ in range(size)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    root.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        for n, port in enumerate(ports):
            argv = [sys.executable, "-m", "zordon.cli.main", "server"]
            argv += ["--host", "127.0.0.1", "--port", str(port), "--no-discovery"]
            argv += ["--data-dir", str(root / f"server{n}"), "--debug"]
            for url in urls:
                if url != urls[n]:
                    argv += ["--peer", url]
            log = stack.enter_context(open(root / f"server{n}.log", "wb"))
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            stack.callback(proc.wait, 15)
            stack.callback(proc.terminate)
        proxies = [RenderServerProxy(url) for url in urls]
        _wait_for_farm(proxies)
        yield proxies


def _wait_for_farm(proxies: list[RenderServerProxy]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            peers = proxies[0].detected_clients()
            if sum(p["up"] for p in peers) == len(proxies) - 1:
                return
        except ClientError:
            pass  # still starting
        time.sleep(0.1)
    raise SystemExit("the servers did not see each other in time")


def zordon_makespan(
    proxy: RenderServerProxy, scene: Path, pack_dir: Path, expected_servers: int
) -> float:
    """Seconds from submit to a completed split job (threads=1 everywhere)."""
    bundle = pack_input(scene, pack_dir)
    spec = {
        "name": "bench",
        "start_frame": 1,
        "end_frame": FRAMES,
        "args": {"threads": 1},
        "enable_split_jobs": True,
    }
    started = time.perf_counter()
    job = proxy.create_job_from_tree(spec, bundle.root, bundle.main_file, bundle.files)
    token = None
    while True:
        final = proxy.get_job(job["id"])
        if final["status"] in ("completed", "error", "cancelled"):
            break
        if time.perf_counter() - started > JOB_TIMEOUT_S:
            raise SystemExit(f"job {job['id']} took too long")
        result = proxy.long_poll(token)
        token = result["token"] if result else token
    elapsed = time.perf_counter() - started
    if final["status"] != "completed" or len(proxy.get_job_files(job["id"])) != FRAMES:
        raise SystemExit(f"job {job['id']} did not complete: {final['error']}")
    servers = {c["server"] for c in final["children"] if not c["lost"]}
    if expected_servers > 1 and len(servers) != expected_servers:
        print(proxy.get_job_logs(job["id"]), file=sys.stderr)
        raise SystemExit(f"job {job['id']} ran on {len(servers)} servers")
    return elapsed


def placeholder_makespan(blender: str, scene: Path, out_dir: Path) -> float:
    """Two Blender processes sharing one folder through placeholders."""
    argv = [blender, "-b", str(scene), "--python-expr", PLACEHOLDER_SCRIPT]
    argv += ["-o", str(out_dir / "f_####"), "-F", "PNG", "-x", "1", "-t", "1"]
    argv += ["-s", "1", "-e", str(FRAMES), "-a"]
    started = time.perf_counter()
    procs = [subprocess.Popen(argv, stdout=subprocess.DEVNULL)]
    # Started together, the two would check each frame at the same moment and
    # both render it; a person starts the second machine a little later.
    time.sleep(PLACEHOLDER_STAGGER_S)
    procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL))
    for proc in procs:
        proc.wait()
    elapsed = time.perf_counter() - started
    if len(list(out_dir.glob("f_*.png"))) != FRAMES:
        raise SystemExit("the placeholder run did not write every frame")
    return elapsed


def halves_makespan(blender: str, scene: Path, out_dir: Path) -> float:
    """Two Blender processes by hand, one per half of the frames, side by side.

    No scheduler can beat this on the same hardware: it is the machine's own
    ceiling for two one-thread renders.
    """
    half = FRAMES // 2
    argvs = []
    for start, end in ((1, half), (half + 1, FRAMES)):
        argv = [blender, "-b", str(scene), "-o", str(out_dir / "f_####")]
        argv += ["-F", "PNG", "-x", "1", "-t", "1"]
        argvs.append([*argv, "-s", str(start), "-e", str(end), "-a"])
    started = time.perf_counter()
    procs = [subprocess.Popen(argv, stdout=subprocess.DEVNULL) for argv in argvs]
    for proc in procs:
        proc.wait()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    blender = shutil.which("blender")
    if blender is None:
        raise SystemExit("blender is not on PATH; run scripts/setup.sh first")

    runs: dict[str, list[float]] = {
        "one": [],
        "two": [],
        "placeholder": [],
        "halves": [],
    }
    with tempfile.TemporaryDirectory(prefix="zordon-bench-") as temp:
        root = Path(temp)
        scene = root / "bench.blend"
        argv = [blender, "-b", "--factory-startup", "--python", str(SCENE_SCRIPT)]
        subprocess.run(
            [*argv, "--", str(scene), *SCENE_ARGS], check=True, capture_output=True
        )
        with farm(root / "one", 1) as alone, farm(root / "two", 2) as pair:
            for n in range(args.rounds):
                runs["placeholder"].append(
                    placeholder_makespan(blender, scene, _fresh(root / f"ph{n}"))
                )
                runs["halves"].append(
                    halves_makespan(blender, scene, _fresh(root / f"hv{n}"))
                )
                runs["two"].append(zordon_makespan(pair[0], scene, root / f"p2{n}", 2))
                runs["one"].append(zordon_makespan(alone[0], scene, root / f"p1{n}", 1))
                print(
                    f"round {n + 1}: "
                    + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in runs.items()),
                    flush=True,
                )
    report(runs)


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return folder


def report(runs: dict[str, list[float]]) -> None:
    """Ratios are taken within each round, whose runs were neighbours in time,
    and their median reported: the machine is shared and its speed drifts."""
    median = {name: statistics.median(values) for name, values in runs.items()}
    rounds = list(
        zip(runs["one"], runs["two"], runs["placeholder"], runs["halves"], strict=True)
    )
    split_ratio = statistics.median(two / one for one, two, _, _ in rounds)
    placeholder_ratio = statistics.median(two / ph for _, two, ph, _ in rounds)
    # What two one-thread renders side by side gain on this machine at best.
    machine_ratio = statistics.median(hv / one for one, _, _, hv in rounds)
    to_ceiling = statistics.median(two / hv for _, two, _, hv in rounds)
    print()
    print(f"{'run':<34}{'median s':>10}")
    print(f"{'1 server, threads=1':<34}{median['one']:>10.2f}")
    print(f"{'2 servers, threads=1':<34}{median['two']:>10.2f}")
    print(f"{'2 Blenders with placeholders':<34}{median['placeholder']:>10.2f}")
    print(f"{'2 Blenders by hand, half each':<34}{median['halves']:>10.2f}")
    print()
    verdict = "meets" if split_ratio <= SPLIT_GOAL else "misses"
    print(f"2 servers / 1 server:  {split_ratio:.3f} ({verdict} goal {SPLIT_GOAL})")
    print(f"halves by hand / 1 server (this machine's ceiling): {machine_ratio:.3f}")
    print(f"2 servers / halves by hand: {to_ceiling:.3f}")
    verdict = "meets" if placeholder_ratio <= PLACEHOLDER_GOAL else "misses"
    print(
        f"2 servers / placeholders: {placeholder_ratio:.3f} "
        f"({verdict} goal {PLACEHOLDER_GOAL})"
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    result = {
        "frames": FRAMES,
        "runs_s": runs,
        "median_s": median,
        "split_ratio": split_ratio,
        "placeholder_ratio": placeholder_ratio,
        "machine_ratio": machine_ratio,
        "split_to_ceiling_ratio": to_ceiling,
    }
    (RESULTS_DIR / f"split-{stamp}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
