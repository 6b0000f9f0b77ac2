"""SIGKILL a server mid-render, start it again: no job lost, finished frames
kept, only the missing frames rendered, and the store intact."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    ServerProcess,
    run_blender_script,
    start_farm,
    submit,
    wait_for_job,
    wait_until,
)

pytestmark = pytest.mark.real

FRAMES = 6
PROGRESS_TIMEOUT_S = 60.0
# Runs inside Blender: 6 frames of a fraction of a second each (of a couple of
# seconds with more samples), so a test can kill the server part-way through.
STEADY_SCENE_SCRIPT = """\
import sys, bpy
folder = sys.argv[sys.argv.index("--") + 1]
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.use_adaptive_sampling = False
scene.cycles.samples = %d
scene.cycles.use_denoising = False
scene.render.resolution_x, scene.render.resolution_y = 64, 36
scene.frame_start, scene.frame_end = 1, %d
bpy.ops.wm.save_as_mainfile(filepath=folder + "/steady.blend")
"""
SAVED = re.compile(r"^Saved: '(?P<path>.+)'", re.MULTILINE)


def _steady_scene(folder: Path, samples: int) -> Path:
    run_blender_script(folder, STEADY_SCENE_SCRIPT % (samples, FRAMES))
    return folder / "steady.blend"


@pytest.fixture(scope="module")
def steady_blend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _steady_scene(tmp_path_factory.mktemp("steady"), samples=120)


@pytest.fixture(scope="module")
def slow_blend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames slow enough for a parent to see its children part-way through."""
    return _steady_scene(tmp_path_factory.mktemp("slow"), samples=600)


def _job_folder(server: ServerProcess, job_id: str) -> Path:
    return server.data_dir / "jobs" / job_id


def _saved(folder: Path) -> list[str]:
    """Names of the frames whose "Saved:" line is in the job's log."""
    log = (folder / "job.log").read_text(errors="replace")
    return [Path(m["path"]).name for m in SAVED.finditer(log)]


def _stamps(folder: Path, names: list[str]) -> dict[str, tuple[int, int]]:
    stats = {name: (folder / "output" / name).stat() for name in names}
    return {name: (st.st_ino, st.st_mtime_ns) for name, st in stats.items()}


def _kill_after_frames(server: ServerProcess, job_id: str, count: int) -> None:
    proxy = server.proxy()
    wait_until(
        lambda: proxy.get_job(job_id)["frames_done"] >= count,
        PROGRESS_TIMEOUT_S,
        f"{count} frames of job {job_id}",
    )
    server.stop(sig_kill=True)  # the server, then the Blender it left


def _store_is_sound(data_dir: Path) -> tuple[str, str]:
    with sqlite3.connect(data_dir / "zordon.sqlite") as db:
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    return check, mode


def test_a_killed_render_resumes_with_only_its_missing_frames(
    start_server, steady_blend
):
    first = start_server()
    job = submit(first.proxy(), steady_blend)
    _kill_after_frames(first, job["id"], 2)
    folder = _job_folder(first, job["id"])
    before = _saved(folder)
    kept = _stamps(folder, before)

    assert 2 <= len(before) < FRAMES
    assert _store_is_sound(first.data_dir) == ("ok", "wal")

    proxy = start_server(first.data_dir).proxy()
    done = wait_for_job(proxy, job["id"])

    assert done["status"] == "completed", done
    assert done["frames_done"] == FRAMES
    assert len(proxy.get_job_files(job["id"])) == FRAMES
    assert sorted(_saved(folder)) == sorted(set(_saved(folder)))  # none twice
    assert _stamps(folder, before) == kept  # finished frames left alone
    assert f"resuming; {len(before)} frames" in proxy.get_job_logs(job["id"])


def _children_rendering(proxy: Any, job_id: str) -> bool:
    children = proxy.get_job(job_id)["children"]
    return len(children) == 2 and all(c["frames_done"] >= 1 for c in children)


def test_a_split_parent_killed_mid_render_reattaches_to_its_children(
    slow_blend, tmp_path
):
    parent_server, peer = start_farm(tmp_path / "farm", size=2)
    restarted = None
    try:
        proxy = parent_server.proxy()
        job = submit(proxy, slow_blend, enable_split_jobs=True)
        wait_until(
            lambda: _children_rendering(proxy, job["id"]),
            PROGRESS_TIMEOUT_S,
            "both children to render",
        )
        children = {c["server"]: c["id"] for c in proxy.get_job(job["id"])["children"]}
        parent_server.stop(sig_kill=True)
        assert _store_is_sound(parent_server.data_dir) == ("ok", "wal")

        restarted = ServerProcess(
            parent_server.data_dir,
            extra_args=parent_server.extra_args,
            port=parent_server.port,
        ).start()
        done = wait_for_job(restarted.proxy(), job["id"])

        assert done["status"] == "completed", done
        assert len(restarted.proxy().get_job_files(job["id"])) == FRAMES
        assert {c["server"]: c["id"] for c in done["children"]} == children
        peer_jobs = peer.proxy().get_jobs()
        assert [(j["id"], j["status"]) for j in peer_jobs] == [
            (children[peer.url], "completed")
        ]
    finally:
        for server in (restarted, peer, parent_server):
            if server is not None:
                server.stop()
