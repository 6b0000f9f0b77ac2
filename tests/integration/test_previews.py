"""Previews of real renders: a 1280x720 PNG animation, an EXR frame, a video."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

from tests.helpers import (
    ServerProcess,
    probe_video,
    run_blender_script,
    submit,
    wait_for_job,
)
from zordon.client import RenderServerProxy

pytestmark = pytest.mark.real

# Runs inside Blender: a 1280x720 shot at one sample, with a glowing ball far
# brighter than 1.0, so its EXR frames hold highlights to tone-map.
PREVIEW_SCENE_SCRIPT = """\
import sys
import bpy

folder = sys.argv[sys.argv.index("--") + 1]
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.samples = 1
scene.cycles.use_denoising = False
scene.cycles.use_adaptive_sampling = False
scene.render.resolution_x, scene.render.resolution_y = 1280, 720
scene.render.resolution_percentage = 100
scene.frame_start, scene.frame_end = 1, 3
scene.render.fps = 12
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.5, location=(1.6, 0.0, 1.0))
glow = bpy.data.materials.new("Glow")
glow.use_nodes = True
nodes = glow.node_tree.nodes
nodes.remove(nodes["Principled BSDF"])
emission = nodes.new("ShaderNodeEmission")
emission.inputs["Strength"].default_value = 30.0
glow.node_tree.links.new(emission.outputs[0], nodes["Material Output"].inputs[0])
bpy.context.active_object.data.materials.append(glow)
cube = bpy.data.objects["Cube"]
cube.keyframe_insert("location", frame=1)
cube.location.x = -1.0
cube.keyframe_insert("location", frame=3)
bpy.ops.wm.save_as_mainfile(filepath=folder + "/preview.blend")
"""


@pytest.fixture(scope="module")
def preview_blend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("preview-scene")
    run_blender_script(folder, PREVIEW_SCENE_SCRIPT)
    return folder / "preview.blend"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    running = ServerProcess(tmp_path_factory.mktemp("previews") / "data").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def proxy(server: ServerProcess) -> RenderServerProxy:
    return server.proxy(timeout_s=60)


@pytest.fixture(scope="module")
def jobs(proxy: RenderServerProxy, preview_blend: Path, clip: Path) -> dict[str, Any]:
    """The three jobs, sent together and rendered one after another."""
    sent = {
        "png": submit(proxy, preview_blend, name="png"),
        "exr": submit(
            proxy, preview_blend, start_frame=2, end_frame=2, preset="final_exr"
        ),
        "video": submit(proxy, clip, args={"height": 36, "preset": "ultrafast"}),
    }
    done = {kind: wait_for_job(proxy, job["id"]) for kind, job in sent.items()}
    for job in done.values():
        assert job["status"] == "completed", job["error"]
    return done


def thumbnail(
    proxy: RenderServerProxy, job: dict[str, Any], **options: Any
) -> tuple[bytes, str]:
    return proxy.get_thumbnail(job["id"], **options)


def test_the_small_thumbnail_is_a_320_px_jpeg_of_the_render(proxy, jobs):
    content, kind = thumbnail(proxy, jobs["png"])

    assert kind == "image/jpeg"
    with Image.open(io.BytesIO(content)) as image:
        assert (image.format, image.size) == ("JPEG", (320, 180))


def test_the_big_thumbnail_keeps_the_full_1280x720(proxy, jobs):
    content, _ = thumbnail(proxy, jobs["png"], big=True)

    with Image.open(io.BytesIO(content)) as image:
        assert image.size == (1280, 720)


def test_the_video_preview_of_the_frames_decodes(proxy, jobs, tmp_path):
    content, kind = thumbnail(proxy, jobs["png"], video_ok=True)
    path = tmp_path / "preview.mp4"
    path.write_bytes(content)

    assert kind == "video/mp4"
    assert probe_video(path) == {"width": 640, "height": 360, "nb_read_frames": 3}
    assert _frame_rate(path) == "12/1", "it plays at the scene's frame rate"


def _frame_rate(path: Path) -> str:
    argv = ["ffprobe", "-v", "error", "-select_streams", "v:0"]
    argv += ["-show_entries", "stream=r_frame_rate", "-of", "csv=p=0", str(path)]
    return subprocess.run(
        argv, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_an_exr_frame_is_tone_mapped_not_black_or_white(proxy, jobs):
    assert proxy.get_job_files(jobs["exr"]["id"]) == ["preview_0002.exr"]

    content, kind = thumbnail(proxy, jobs["exr"], big=True)

    with Image.open(io.BytesIO(content)) as image:
        grey = image.convert("L")
    stats = ImageStat.Stat(grey)
    white = sum(grey.histogram()[250:]) / (grey.width * grey.height)
    assert kind == "image/jpeg"
    assert 30 < stats.mean[0] < 220
    assert stats.stddev[0] > 10
    assert white < 0.1


def test_an_ffmpeg_job_previews_its_output_video(proxy, jobs, tmp_path):
    still, still_kind = thumbnail(proxy, jobs["video"])
    clip, clip_kind = thumbnail(proxy, jobs["video"], video_ok=True)
    path = tmp_path / "clip.mp4"
    path.write_bytes(clip)

    assert (still_kind, clip_kind) == ("image/jpeg", "video/mp4")
    with Image.open(io.BytesIO(still)) as image:
        assert image.size == (64, 36)
    assert probe_video(path)["nb_read_frames"] == 20
