"""Three real servers on loopback splitting real Blender and FFmpeg jobs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from tests.helpers import (
    ServerProcess,
    probe_video,
    run_blender_script,
    start_farm,
    wait_for_job,
    wait_until,
)
from zordon.client import NotAuthorized, RenderServerProxy
from zordon.cluster.packing import pack_blend, pack_input

pytestmark = pytest.mark.real

# Runs inside Blender: a library with a sphere, and a shot that links it and
# textures its cube with an image, both by relative path.
LINKED_SCENE_SCRIPT = """\
import sys, bpy
folder = sys.argv[sys.argv.index("--") + 1]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.mesh.primitive_uv_sphere_add(radius=0.6, location=(0, 0, 1.2))
bpy.context.active_object.name = "LibSphere"
bpy.ops.wm.save_as_mainfile(filepath=folder + "/libs/lib.blend")

bpy.ops.wm.read_factory_settings()
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.samples = 2
scene.cycles.use_denoising = False
scene.render.resolution_x, scene.render.resolution_y = 64, 36
scene.frame_start, scene.frame_end = 1, 6
lib = folder + "/libs/lib.blend"
with bpy.data.libraries.load(lib, link=True, relative=True) as (_, linked):
    linked.objects = ["LibSphere"]
for ob in linked.objects:
    scene.collection.objects.link(ob)
image = bpy.data.images.load(folder + "/textures/checker.png")
material = bpy.data.materials.new("Checker")
material.use_nodes = True
texture = material.node_tree.nodes.new("ShaderNodeTexImage")
texture.image = image
bsdf = material.node_tree.nodes["Principled BSDF"]
material.node_tree.links.new(texture.outputs["Color"], bsdf.inputs["Base Color"])
cube = bpy.data.objects["Cube"]
cube.data.materials.append(material)
cube.keyframe_insert("rotation_euler", frame=1)
cube.rotation_euler.z = 1.5
cube.keyframe_insert("rotation_euler", frame=6)
bpy.ops.wm.save_as_mainfile(filepath=folder + "/shot.blend", relative_remap=True)
"""


@pytest.fixture(scope="module")
def linked_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """shot.blend linking libs/lib.blend and textures/checker.png."""
    folder = tmp_path_factory.mktemp("linked")
    (folder / "textures").mkdir()
    (folder / "libs").mkdir()
    checker = Image.new("RGB", (8, 8))
    for x in range(8):
        for y in range(8):
            checker.putpixel((x, y), (200, 40, 40) if (x + y) % 2 else (40, 200, 40))
    checker.save(folder / "textures" / "checker.png")
    run_blender_script(folder, LINKED_SCENE_SCRIPT)
    return folder / "shot.blend"


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    servers = start_farm(tmp_path_factory.mktemp("farm"))
    yield servers
    for server in servers:
        server.stop()


def submit_split(
    server: ServerProcess, path: Path, folder: Path, **spec: Any
) -> dict[str, Any]:
    bundle = pack_input(path, folder)
    job = {"name": path.name, "enable_split_jobs": True, **spec}
    return server.proxy().create_job_from_tree(
        job, bundle.root, bundle.main_file, bundle.files
    )


def servers_used(job: dict[str, Any]) -> set[str]:
    return {c["server"] for c in job["children"] if not c["lost"]}


def test_split_render_brings_every_frame_home_from_several_servers(
    farm: list[ServerProcess], linked_scene: Path, tmp_path: Path
) -> None:
    job = submit_split(farm[0], linked_scene, tmp_path / "pack")

    done = wait_for_job(farm[0].proxy(), job["id"])

    assert done["status"] == "completed", done
    assert len(servers_used(done)) >= 2
    assert farm[0].proxy().get_job_files(job["id"]) == [
        f"shot_{n:04d}.png" for n in range(1, 7)
    ]


def test_linked_library_and_texture_reach_the_peers(
    farm: list[ServerProcess], linked_scene: Path, tmp_path: Path
) -> None:
    job = submit_split(farm[0], linked_scene, tmp_path / "pack", end_frame=3)
    done = wait_for_job(farm[0].proxy(), job["id"])

    peer_children = [c for c in done["children"] if c["server"] != farm[0].url]
    assert peer_children
    for child in peer_children:
        peer = next(s for s in farm if s.url == child["server"])
        inputs = peer.data_dir / "jobs" / child["id"] / "input"
        assert (inputs / "libs" / "lib.blend").is_file()
        assert (inputs / "textures" / "checker.png").is_file()


def test_split_frames_match_a_single_machine_render(
    farm: list[ServerProcess], linked_scene: Path, tmp_path: Path
) -> None:
    split = submit_split(farm[0], linked_scene, tmp_path / "a", end_frame=4)
    bundle = pack_blend(linked_scene, tmp_path / "b")
    single = (
        farm[0]
        .proxy()
        .create_job_from_tree(
            {"end_frame": 4}, bundle.root, bundle.main_file, bundle.files
        )
    )
    for job in (split, single):
        assert wait_for_job(farm[0].proxy(), job["id"])["status"] == "completed"

    for n in range(1, 5):
        name = f"shot_{n:04d}.png"
        a = farm[0].proxy().download_job_file(split["id"], name, tmp_path / "split")
        b = farm[0].proxy().download_job_file(single["id"], name, tmp_path / "one")
        with Image.open(a) as left, Image.open(b) as right:
            assert ImageChops.difference(left, right).getbbox() is None, name


def test_files_a_peer_holds_are_not_sent_again(
    farm: list[ServerProcess], linked_scene: Path, tmp_path: Path
) -> None:
    job = submit_split(farm[0], linked_scene, tmp_path / "pack", end_frame=3)
    done = wait_for_job(farm[0].proxy(), job["id"])
    bundle = pack_blend(linked_scene, tmp_path / "again")
    # Only the peers given frames were sent the files: on a busy machine the
    # split may leave one out.
    used = [peer for peer in farm[1:] if peer.url in servers_used(done)]

    assert used, done
    for peer in used:
        assert peer.proxy().send_files(bundle.root, bundle.files) == []


def test_split_encode_keeps_the_frame_count_and_duration(
    farm: list[ServerProcess], tmp_path: Path
) -> None:
    clip = tmp_path / "long.mp4"
    source = "testsrc=duration=12:size=128x72:rate=10"
    argv = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", source]
    argv += ["-f", "lavfi", "-i", "sine=duration=12", "-shortest"]
    argv += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(clip)]
    subprocess.run(argv, check=True)
    job = submit_split(farm[0], clip, tmp_path / "pack")

    done = wait_for_job(farm[0].proxy(), job["id"])

    assert done["status"] == "completed", done
    assert len(servers_used(done)) >= 2
    out = farm[0].proxy().download_job_file(job["id"], "long.mp4", tmp_path / "out")
    assert probe_video(out)["nb_read_frames"] == 120
    assert abs(_duration_s(out) - 12.0) < 0.15
    assert _lowest_psnr_db(out, clip) > 35, "a seam shows a repeated or lost frame"


def test_a_video_too_short_to_split_is_encoded_in_one_piece(
    farm: list[ServerProcess], clip: Path, tmp_path: Path
) -> None:
    job = submit_split(farm[0], clip, tmp_path / "pack")

    done = wait_for_job(farm[0].proxy(), job["id"])

    assert done["status"] == "completed"
    assert done["children"] == []
    assert "not split" in farm[0].proxy().get_job_logs(job["id"])


def test_cancelling_the_parent_cancels_its_children(
    farm: list[ServerProcess], linked_scene: Path, tmp_path: Path
) -> None:
    job = submit_split(farm[0], linked_scene, tmp_path / "pack", args={"samples": 2000})
    wait_until(
        lambda: _all_made(farm[0].proxy().get_job(job["id"])),
        timeout_s=20,
        what="children to be made",
    )
    farm[0].proxy().cancel_job(job["id"])

    for child in farm[0].proxy().get_job(job["id"])["children"]:
        peer = next(s for s in farm if s.url == child["server"])
        assert wait_for_job(peer.proxy(), child["id"])["status"] == "cancelled"


def test_a_peer_killed_mid_job_costs_no_frame(
    linked_scene: Path, tmp_path: Path
) -> None:
    servers = start_farm(tmp_path / "farm")
    try:
        job = submit_split(
            servers[0], linked_scene, tmp_path / "pack", args={"samples": 300}
        )
        victim = servers[2]
        wait_until(
            lambda: _running_on(servers[0], job["id"], victim.url),
            timeout_s=30,
            what="a child to run on the victim",
        )
        victim.stop(sig_kill=True)

        done = wait_for_job(servers[0].proxy(), job["id"], timeout_s=120)

        assert done["status"] == "completed", done
        assert len(servers[0].proxy().get_job_files(job["id"])) == 6
        assert "lost" in servers[0].proxy().get_job_logs(job["id"])
    finally:
        for server in servers:
            server.stop()


def _running_on(parent: ServerProcess, job_id: str, url: str) -> bool:
    children = parent.proxy().get_job(job_id)["children"]
    return any(c["server"] == url and c["status"] == "running" for c in children)


def _duration_s(path: Path) -> float:
    argv = ["ffprobe", "-v", "error", "-show_entries", "format=duration"]
    argv += ["-of", "csv=p=0", str(path)]
    return float(subprocess.run(argv, capture_output=True, text=True).stdout)


def test_a_split_by_hand_sends_each_share_where_it_was_asked(
    farm: list[ServerProcess], linked_scene: Path, tmp_path: Path
) -> None:
    child_jobs = [
        {"server": "self", "start_frame": 1, "end_frame": 2},
        {"server": farm[2].url, "start_frame": 3, "end_frame": 6},
    ]
    job = submit_split(farm[0], linked_scene, tmp_path / "pack", child_jobs=child_jobs)

    done = wait_for_job(farm[0].proxy(), job["id"])

    assert done["status"] == "completed", done
    shares = {(c["server"], c["start_frame"], c["end_frame"]) for c in done["children"]}
    assert shares == {(farm[0].url, 1, 2), (farm[2].url, 3, 6)}
    assert len(farm[0].proxy().get_job_files(job["id"])) == 6


def _lowest_psnr_db(video: Path, source: Path) -> float:
    """The worst frame-by-frame PSNR of ``video`` against ``source``."""
    stats = video.with_suffix(".psnr.log")
    argv = ["ffmpeg", "-v", "error", "-i", str(video), "-i", str(source)]
    argv += ["-lavfi", f"[0:v][1:v]psnr=stats_file={stats}", "-f", "null", "-"]
    subprocess.run(argv, check=True)
    values = [
        float(field.split(":")[1])
        for line in stats.read_text().splitlines()
        for field in line.split()
        if field.startswith("psnr_avg:")
    ]
    return min(values)


def test_a_hand_split_renders_only_the_jobs_own_frames(
    farm: list[ServerProcess], linked_scene: Path, tmp_path: Path
) -> None:
    child_jobs = [
        {"server": "self", "start_frame": 1, "end_frame": 1},
        {"server": farm[1].url, "start_frame": 2, "end_frame": 6},
    ]
    job = submit_split(
        farm[0],
        linked_scene,
        tmp_path / "pack",
        frame_step=2,
        end_frame=6,
        child_jobs=child_jobs,
    )

    done = wait_for_job(farm[0].proxy(), job["id"])

    assert done["status"] == "completed", done
    assert farm[0].proxy().get_job_files(job["id"]) == [
        f"shot_{n:04d}.png" for n in (1, 3, 5)
    ]


def test_a_pushed_claim_about_a_child_is_checked_with_its_server(
    farm: list[ServerProcess], linked_scene: Path, tmp_path: Path
) -> None:
    job = submit_split(farm[0], linked_scene, tmp_path / "pack", args={"samples": 400})
    wait_until(
        lambda: any(c["id"] for c in farm[0].proxy().get_job(job["id"])["children"]),
        timeout_s=20,
        what="children to be made",
    )
    child = next(c for c in farm[0].proxy().get_job(job["id"])["children"] if c["id"])

    for forged in ("completed", "error", "not a status"):
        farm[0].proxy().send_subjob_update_notification(
            job["id"], {"id": child["id"], "status": forged, "progress": "NaN"}
        )

    done = wait_for_job(farm[0].proxy(), job["id"])
    assert done["status"] == "completed", done
    assert len(farm[0].proxy().get_job_files(job["id"])) == 6


def test_a_peer_whose_engine_fails_loses_its_frames_to_the_others(
    linked_scene: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "blender"
    broken.write_text(
        '#!/bin/sh\ncase "$*" in *--version*) echo "Blender 3.4.1";; esac\n'
        'case "$*" in *--version*) exit 0;; esac\necho "Error: broken"; exit 1\n'
    )
    broken.chmod(0o755)
    healthy, sick = start_farm(
        tmp_path / "farm", 2, envs=[{}, {"ZORDON_BLENDER_PATH": str(broken)}]
    )
    try:
        job = submit_split(healthy, linked_scene, tmp_path / "pack")

        done = wait_for_job(healthy.proxy(), job["id"])

        assert done["status"] == "completed", done
        assert len(healthy.proxy().get_job_files(job["id"])) == 6
        assert "lost" in healthy.proxy().get_job_logs(job["id"])
    finally:
        for server in (healthy, sick):
            server.stop()


def _all_made(job: dict[str, Any]) -> bool:
    children = job["children"]
    return len(children) >= 2 and all(c["id"] for c in children)


def test_a_farm_with_a_token_splits_with_it_and_refuses_strangers(
    linked_scene: Path, tmp_path: Path
) -> None:
    token = {"ZORDON_FARM_TOKEN": "s3cret"}
    first, second = start_farm(tmp_path / "farm", 2, envs=[token, token])
    try:
        bundle = pack_blend(linked_scene, tmp_path / "pack")
        spec = {"enable_split_jobs": True, "end_frame": 4}
        with pytest.raises(NotAuthorized):
            RenderServerProxy(first.url).create_job_from_tree(
                spec, bundle.root, bundle.main_file, bundle.files
            )

        member = RenderServerProxy(first.url, farm_token="s3cret")
        job = member.create_job_from_tree(
            spec, bundle.root, bundle.main_file, bundle.files
        )
        done = wait_for_job(member, job["id"])

        assert done["status"] == "completed", done
        assert len(servers_used(done)) == 2
    finally:
        for server in (first, second):
            server.stop()
