"""Real FFmpeg encodes through a real server."""

from pathlib import Path

import pytest

from tests.helpers import probe_video, submit, wait_for_job

pytestmark = pytest.mark.real


def test_a_clip_encodes_to_the_asked_height_with_every_frame(proxy, clip):
    job = submit(proxy, clip, args={"height": 36, "crf": 30, "preset": "ultrafast"})

    done = wait_for_job(proxy, job["id"])

    assert done["status"] == "completed", done["error"]
    assert proxy.get_job_files(job["id"]) == ["clip.mp4"]
    video = probe_video(Path(done["output_dir"]) / "clip.mp4")
    assert (video["width"], video["height"], video["nb_read_frames"]) == (64, 36, 20)


def test_the_clip_sets_the_frame_range(proxy, clip):
    job = submit(proxy, clip, args={"height": 36})

    assert (job["renderer"], job["start_frame"], job["end_frame"]) == ("ffmpeg", 1, 20)
    wait_for_job(proxy, job["id"])


def test_a_new_frame_rate_keeps_the_clip_two_seconds_long(proxy, clip):
    job = submit(proxy, clip, args={"fps": 5, "container": "mkv", "scale": "32x18"})

    done = wait_for_job(proxy, job["id"])

    assert done["status"] == "completed", done["error"]
    video = probe_video(Path(done["output_dir"]) / "clip.mkv")
    assert (video["width"], video["height"], video["nb_read_frames"]) == (32, 18, 10)


def test_a_failed_encode_ends_in_error_with_ffmpegs_reason(proxy, clip):
    job = submit(proxy, clip, args={"height": 35})

    done = wait_for_job(proxy, job["id"])

    assert done["status"] == "error"
    assert "Conversion failed" not in done["error"]
    assert done["error"] in proxy.get_job_logs(job["id"])
