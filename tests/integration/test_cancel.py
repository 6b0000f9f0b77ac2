"""Cancel and delete stop a real Blender mid-render, whole tree, within 2 s."""

import time
from pathlib import Path

import pytest

from tests.helpers import (
    FINISHED,
    blender_processes,
    processes_under,
    submit,
    wait_for_job,
    wait_until,
)
from zordon.client import BadRequest

pytestmark = pytest.mark.real

CANCEL_LIMIT_S = 2.0
SAMPLING_TIMEOUT_S = 60.0


def start_heavy_render(proxy, heavy_blend):
    """A job whose Blender is rendering (sampling frame 1) when this returns."""
    job = submit(proxy, heavy_blend)
    running = wait_for_job(proxy, job["id"], ("running", *FINISHED))
    assert running["status"] == "running", running["error"]
    wait_until(
        lambda: "| Sample " in proxy.get_job_logs(job["id"]),
        SAMPLING_TIMEOUT_S,
        "Blender to start sampling",
    )
    return running


def seconds_until_no_blender(server, since):
    """Poll until the server has no live Blender child; seconds since ``since``."""
    wait_until(
        lambda: not blender_processes(server.descendants()),
        CANCEL_LIMIT_S * 5,
        "Blender to exit",
    )
    return time.monotonic() - since


def test_cancel_mid_render_kills_blender_within_two_seconds(server, proxy, heavy_blend):
    job = start_heavy_render(proxy, heavy_blend)
    assert blender_processes(server.descendants())

    asked = time.monotonic()
    proxy.cancel_job(job["id"])
    elapsed = seconds_until_no_blender(server, asked)

    assert elapsed < CANCEL_LIMIT_S
    assert processes_under(Path(job["output_dir"]).parent) == []


def test_a_cancelled_render_ends_cancelled_and_stays_so(server, proxy, heavy_blend):
    job = start_heavy_render(proxy, heavy_blend)

    proxy.cancel_job(job["id"])
    ended = wait_for_job(proxy, job["id"])

    assert ended["status"] == "cancelled"
    assert ended["error"] == ""
    assert proxy.cancel_job(job["id"])["status"] == "cancelled"


def test_delete_mid_render_kills_blender_and_removes_the_folder(
    server, proxy, heavy_blend
):
    job = start_heavy_render(proxy, heavy_blend)
    folder = Path(job["output_dir"]).parent

    asked = time.monotonic()
    proxy.delete_job(job["id"])
    elapsed = seconds_until_no_blender(server, asked)

    assert elapsed < CANCEL_LIMIT_S
    assert not folder.exists()
    with pytest.raises(BadRequest):
        proxy.get_job(job["id"])


def test_delete_of_a_finished_job_removes_its_folder(proxy, scene_blend):
    job = submit(proxy, scene_blend, start_frame=1, end_frame=1, args={"samples": 1})
    done = wait_for_job(proxy, job["id"])
    folder = Path(done["output_dir"]).parent
    assert folder.is_dir()

    proxy.delete_job(job["id"])

    assert not folder.exists()
    assert job["id"] not in [j["id"] for j in proxy.get_jobs()]


def test_the_next_job_runs_after_a_cancel(proxy, scene_blend, heavy_blend):
    heavy = start_heavy_render(proxy, heavy_blend)
    light = submit(proxy, scene_blend, start_frame=1, end_frame=1, args={"samples": 1})

    proxy.cancel_job(heavy["id"])

    assert wait_for_job(proxy, light["id"])["status"] == "completed"
