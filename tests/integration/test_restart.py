"""A server restarted on the same data folder keeps its jobs."""

import pytest

from tests.helpers import (
    FINISHED,
    blender_processes,
    submit,
    wait_for_job,
    wait_until,
)

pytestmark = pytest.mark.real

SAMPLING_TIMEOUT_S = 60.0


def test_a_finished_job_and_its_files_survive_a_killed_server(
    start_server, scene_blend, tmp_path
):
    first = start_server()
    job = submit(first.proxy(), scene_blend, start_frame=1, end_frame=1)
    wait_for_job(first.proxy(), job["id"])
    first.stop(sig_kill=True)

    again = start_server(first.data_dir).proxy()

    assert again.get_job(job["id"])["status"] == "completed"
    assert again.get_job_files(job["id"]) == ["scene_0001.png"]
    assert again.download_job_file(job["id"], "scene_0001.png", tmp_path).exists()


def test_a_job_submitted_before_a_restart_is_still_listed(start_server, scene_blend):
    first = start_server()
    job = submit(first.proxy(), scene_blend, name="before the restart")
    first.stop(sig_kill=True)

    listed = start_server(first.data_dir).proxy().get_jobs()

    assert [(j["id"], j["name"]) for j in listed] == [(job["id"], "before the restart")]


def test_stopping_the_server_stops_its_engines(start_server, heavy_blend):
    server = start_server()
    proxy = server.proxy()
    job = submit(proxy, heavy_blend)
    wait_until(
        lambda: "| Sample " in proxy.get_job_logs(job["id"]),
        SAMPLING_TIMEOUT_S,
        "Blender to start sampling",
    )

    leftovers = server.stop()

    assert [p for p in leftovers if "blender" in p or "ffmpeg" in p] == []


def test_a_job_running_at_shutdown_is_queued_again_after_restart(
    start_server, heavy_blend
):
    first = start_server()
    job = submit(first.proxy(), heavy_blend)
    wait_for_job(first.proxy(), job["id"], ("running", *FINISHED))
    first.stop()

    proxy = start_server(first.data_dir).proxy()
    again = wait_for_job(proxy, job["id"], ("running", *FINISHED))

    assert again["status"] == "running"
    assert proxy.cancel_job(job["id"])["status"] == "cancelled"


def test_an_engine_left_by_a_killed_server_is_stopped_on_restart(
    start_server, heavy_blend
):
    first = start_server()
    proxy = first.proxy()
    job = submit(proxy, heavy_blend)
    wait_until(
        lambda: "| Sample " in proxy.get_job_logs(job["id"]),
        SAMPLING_TIMEOUT_S,
        "Blender to start sampling",
    )
    orphans = blender_processes(first.descendants())
    first.proc.kill()  # the server only: its Blender runs on, orphaned
    first.proc.wait()
    first.proc = None
    assert orphans and blender_processes(orphans) == orphans

    again = start_server(first.data_dir).proxy()

    wait_until(lambda: not blender_processes(orphans), 5.0, "the orphan to stop")
    assert again.cancel_job(job["id"])["status"] == "cancelled"
