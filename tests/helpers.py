"""Shared helpers: real servers on loopback, generated inputs, waiting for jobs."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import psutil

from zordon.client import ClientError, RenderServerProxy

LOOPBACK = "127.0.0.1"
SERVER_START_TIMEOUT_S = 30.0
SERVER_STOP_TIMEOUT_S = 15.0
JOB_TIMEOUT_S = 90.0
POLL_INTERVAL_S = 0.05
FINISHED = ("completed", "cancelled", "error")
# Tests never reach a real release index: nothing listens on the discard port.
NO_RELEASE_INDEX = {
    "ZORDON_BLENDER_RELEASES_URL": "http://127.0.0.1:9/blender/",
    "ZORDON_FFMPEG_RELEASES_URL": "http://127.0.0.1:9/ffmpeg/",
}

# Runs inside Blender: saves the scenes the tests render. argv after "--" is
# the folder to write into.
SCENES_SCRIPT = """\
import sys
import bpy

folder = sys.argv[sys.argv.index("--") + 1]
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.samples = 2
scene.cycles.use_denoising = False
scene.render.resolution_x = 64
scene.render.resolution_y = 36
scene.render.resolution_percentage = 100
scene.frame_start = 1
scene.frame_end = 3
scene.render.filepath = "//frames/from_the_file_"

cube = bpy.data.objects["Cube"]
cube.location = (-1.0, 0.0, 0.0)
cube.keyframe_insert("location", frame=1)
cube.location = (1.0, 0.0, 0.0)
cube.keyframe_insert("location", frame=3)

bpy.ops.wm.save_as_mainfile(filepath=folder + "/scene.blend")

scene.render.image_settings.file_format = "FFMPEG"
bpy.ops.wm.save_as_mainfile(filepath=folder + "/movie.blend")
scene.render.image_settings.file_format = "PNG"

# Busy for minutes: adaptive sampling would stop a scene this small early.
scene.cycles.use_adaptive_sampling = False
scene.cycles.samples = 100000
scene.frame_end = 50
bpy.ops.wm.save_as_mainfile(filepath=folder + "/heavy.blend")
scene.cycles.samples = 2
scene.frame_end = 3

bpy.data.objects.remove(bpy.data.objects["Camera"])
bpy.ops.wm.save_as_mainfile(filepath=folder + "/nocam.blend")
"""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def run_blender_script(folder: Path, script: str) -> None:
    """Run ``script`` in Blender, with ``folder`` after ``--``: it saves .blend
    files there."""
    path = folder / "make.py"
    path.write_text(script)
    argv = ["blender", "-b", "--factory-startup", "--python", str(path)]
    subprocess.run([*argv, "--", str(folder)], check=True, capture_output=True)


def make_scenes(folder: Path) -> None:
    """Have Blender save scene, movie, heavy and nocam .blend files into ``folder``."""
    run_blender_script(folder, SCENES_SCRIPT)


def make_clip(path: Path) -> None:
    """A 2 s, 128x72, 10 fps test pattern with FFmpeg's ``testsrc``."""
    source = "testsrc=duration=2:size=128x72:rate=10"
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-f", "lavfi", "-i", source]
    argv += ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(argv, check=True, capture_output=True)


def probe_video(path: Path) -> dict[str, Any]:
    """Decode every frame of the first video stream; its size and frame count."""
    argv = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames"]
    argv += ["-show_entries", "stream=width,height,nb_read_frames"]
    argv += ["-of", "default=noprint_wrappers=1", str(path)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    pairs = (line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {key: int(value) for key, value in pairs}


class ServerProcess:
    """``zordon server`` as a real subprocess on a free loopback port."""

    def __init__(
        self,
        data_dir: Path,
        env: Mapping[str, str] | None = None,
        extra_args: Iterable[str] = (),
        port: int | None = None,
    ):
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.port = port or free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.log_path = data_dir.parent / f"{data_dir.name}-server-{self.port}.log"
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        argv = [sys.executable, "-m", "zordon.cli.main", "server"]
        argv += ["--host", LOOPBACK, "--port", str(self.port)]
        argv += ["--data-dir", str(self.data_dir), "--no-discovery", *self.extra_args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZORDON_")}
        env.update(NO_RELEASE_INDEX)
        env.update(self.extra_env)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self._wait_until_up()
        return self

    def _wait_until_up(self) -> None:
        assert self.proc is not None
        probe = self.proxy(timeout_s=1.0)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not probe.check_connection():
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer:\n{self.log()}")
            time.sleep(POLL_INTERVAL_S)

    @property
    def token(self) -> str:
        """The farm token the server was started with, or empty."""
        env = self.extra_env
        return env.get("ZORDON_TOKEN") or env.get("ZORDON_FARM_TOKEN", "")

    def proxy(self, timeout_s: float = 10.0) -> RenderServerProxy:
        """A client that sends the server's own farm token, if it has one."""
        return RenderServerProxy(self.url, timeout_s=timeout_s, farm_token=self.token)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def descendants(self) -> list[psutil.Process]:
        """Live processes the server started (engines and their children)."""
        assert self.proc is not None
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        return [p for p in children if _alive(p)]

    def stop(self, sig_kill: bool = False) -> list[str]:
        """Stop the server (SIGTERM, or SIGKILL), then anything it left behind.

        Returns ``pid name status`` of each process that outlived the server.
        """
        if self.proc is None:
            return []
        started = self.descendants()
        if sig_kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        try:
            self.proc.wait(SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        leftovers = [p for p in started if _alive(p)]
        described = [_describe(p) for p in leftovers]
        for orphan in leftovers:
            with contextlib.suppress(psutil.NoSuchProcess):
                orphan.kill()
        self.proc = None
        return described


def _describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {process.name()} {process.status()}"
    except psutil.NoSuchProcess:
        return f"{process.pid} (gone)"


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def blender_processes(processes: Iterable[psutil.Process]) -> list[psutil.Process]:
    found = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if "blender" in process.name() and _alive(process):
                found.append(process)
    return found


def wait_for_job(
    proxy: RenderServerProxy,
    job_id: str,
    statuses: Iterable[str] = FINISHED,
    timeout_s: float = JOB_TIMEOUT_S,
) -> dict[str, Any]:
    """Poll until the job's status is one of ``statuses``; returns its JSON."""
    wanted = tuple(statuses)
    deadline = time.monotonic() + timeout_s
    while True:
        job = proxy.get_job(job_id)
        if job["status"] in wanted:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stuck in {job['status']}: {job}")
        time.sleep(POLL_INTERVAL_S)


def wait_until(condition: Any, timeout_s: float, what: str) -> None:
    """Poll ``condition()`` until it is true, or fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL_INTERVAL_S)


def processes_under(folder: Path) -> list[psutil.Process]:
    """Live processes whose command line names something inside ``folder``."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(folder) in cmdline and _alive(process):
            found.append(process)
    return found


def submit(proxy: RenderServerProxy, path: Path, **spec: Any) -> dict[str, Any]:
    """Upload ``path`` as one job; ``spec`` holds the other job fields."""
    return proxy.create_job(spec, path)


def heartbeat_ok(proxy: RenderServerProxy) -> bool:
    try:
        return proxy.heartbeat() > 0
    except ClientError:
        return False


def new_job(jobs_dir: Path, **fields: Any) -> Any:
    """A Job row with a folder under ``jobs_dir``; ``fields`` override."""
    from zordon.jobs.model import Job, new_job_id

    job_id = fields.pop("id", None) or new_job_id()
    values: dict[str, Any] = {
        "id": job_id,
        "name": f"job {job_id}",
        "renderer": "blender",
        "input_path": str(jobs_dir / job_id / "input" / "scene.blend"),
        "output_path": str(jobs_dir / job_id / "output"),
        "start_frame": 1,
        "end_frame": 3,
        "frame_step": 1,
        "args": {},
        "facts": {},
        "status": "not_started",
        "progress": 0.0,
        "frames_done": 0,
        "error": "",
        "children": [],
    }
    values.update(fields)
    return Job(**values)


def start_farm(
    root: Path, size: int = 3, envs: list[dict[str, str]] | None = None
) -> list[ServerProcess]:
    """``size`` servers, each listing the others with --peer."""
    root.mkdir(parents=True, exist_ok=True)
    envs = envs or [{}] * size
    servers = [
        ServerProcess(root / f"server{n}", envs[n], extra_args=["--debug"])
        for n in range(size)
    ]
    for server in servers:
        for other in servers:
            if other is not server:
                server.extra_args += ["--peer", other.url]
    for server in servers:
        server.start()
    first = servers[0].proxy()
    wait_until(
        lambda: sum(p["up"] for p in first.detected_clients()) == size - 1,
        timeout_s=20,
        what="peers to see each other",
    )
    return servers
