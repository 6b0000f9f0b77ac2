"""Real Blender renders through a real server, driven by RenderServerProxy."""

import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import probe_video, submit, wait_for_job

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def rendered(server, scene_blend):
    """Frames 1-3 of the generated scene, rendered once for this module."""
    proxy = server.proxy()
    job = submit(proxy, scene_blend, start_frame=1, end_frame=3)
    return wait_for_job(proxy, job["id"])


def test_three_frames_render_to_completed(rendered):
    assert rendered["status"] == "completed", rendered["error"]
    assert rendered["frames_done"] == 3
    assert rendered["progress"] == 1.0


def test_the_frames_are_pngs_of_the_scene_size(proxy, rendered, tmp_path):
    names = proxy.get_job_files(rendered["id"])

    assert names == ["scene_0001.png", "scene_0002.png", "scene_0003.png"]
    for name in names:
        path = proxy.download_job_file(rendered["id"], name, tmp_path)
        with Image.open(path) as image:
            image.load()
            assert (image.format, image.size) == ("PNG", (64, 36))


def test_the_frames_land_in_the_job_folder_not_where_the_file_says(
    rendered, scene_blend
):
    folder = rendered["output_dir"]

    assert sorted(p.name for p in Path(folder).iterdir()) == [
        "scene_0001.png",
        "scene_0002.png",
        "scene_0003.png",
    ]
    assert not (scene_blend.parent / "frames").exists()


def test_the_animation_moves_between_frames(proxy, rendered, tmp_path):
    first = proxy.download_job_file(rendered["id"], "scene_0001.png", tmp_path)
    last = proxy.download_job_file(rendered["id"], "scene_0003.png", tmp_path)

    assert first.read_bytes() != last.read_bytes()


def test_the_job_log_holds_blenders_output(proxy, rendered):
    log = proxy.get_job_logs(rendered["id"])

    assert "Saved: '" in log
    assert " -Y " in log
    assert "Zordon: job completed" in log


def test_download_all_zips_every_frame(proxy, rendered, tmp_path):
    archive = proxy.download_all_job_files(rendered["id"], tmp_path / "all.zip")

    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == proxy.get_job_files(rendered["id"])


def test_a_thumbnail_of_the_newest_frame_is_a_jpeg(proxy, rendered):
    data, content_type = proxy.get_thumbnail(rendered["id"])

    assert content_type == "image/jpeg"
    assert data[:2] == b"\xff\xd8"


def test_the_file_sets_the_default_frame_range(proxy, scene_blend):
    job = submit(proxy, scene_blend, name="defaults")

    assert (job["start_frame"], job["end_frame"]) == (1, 3)
    assert job["facts"]["resolution"] == [64, 36]
    proxy.cancel_job(job["id"])


def test_format_and_resolution_arguments_reach_blender(proxy, scene_blend, tmp_path):
    job = submit(
        proxy,
        scene_blend,
        start_frame=2,
        end_frame=2,
        args={"format": "JPEG", "resolution_percentage": 50, "samples": 1},
    )

    done = wait_for_job(proxy, job["id"])

    assert done["status"] == "completed", done["error"]
    path = proxy.download_job_file(job["id"], "scene_0002.jpg", tmp_path)
    with Image.open(path) as image:
        assert (image.format, image.size) == ("JPEG", (32, 18))


def test_a_movie_output_renders_frames_and_encode_video_joins_them(proxy, scenes):
    job = submit(
        proxy,
        scenes / "movie.blend",
        start_frame=1,
        end_frame=3,
        args={"encode_video": True},
    )

    done = wait_for_job(proxy, job["id"])

    assert done["status"] == "completed", done["error"]
    names = proxy.get_job_files(job["id"])
    assert names == ["movie.mp4", *(f"movie_000{n}.png" for n in (1, 2, 3))]
    video = probe_video(Path(done["output_dir"]) / "movie.mp4")
    assert (video["width"], video["height"], video["nb_read_frames"]) == (64, 36, 3)
