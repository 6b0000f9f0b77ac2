"""A .blend's own scripts never run when Zordon renders it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import run_blender_script, submit, wait_for_job

pytestmark = pytest.mark.real

# Runs inside Blender: a one-frame scene whose text block is registered to
# run whenever the file loads with auto-run on, writing a marker file.
AUTORUN_SCENE_SCRIPT = """\
import sys, bpy
folder = sys.argv[sys.argv.index("--") + 1]
text = bpy.data.texts.new("autorun.py")
text.write("open(%r, 'w').write('ran')\\n" % (folder + "/autorun-ran.txt"))
text.use_module = True
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.samples = 1
scene.cycles.use_denoising = False
scene.render.resolution_x, scene.render.resolution_y = 32, 18
scene.frame_start = scene.frame_end = 1
bpy.ops.wm.save_as_mainfile(filepath=folder + "/autorun.blend")
"""


@pytest.fixture(scope="module")
def autorun_blend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("autorun")
    run_blender_script(folder, AUTORUN_SCENE_SCRIPT)
    return folder / "autorun.blend"


def test_the_scene_would_run_its_script_if_blender_allowed_it(autorun_blend):
    """The control: with auto-run on (-y), loading the file writes the marker."""
    marker = autorun_blend.parent / "autorun-ran.txt"
    subprocess.run(["blender", "-b", "-y", str(autorun_blend)], capture_output=True)

    assert marker.read_text() == "ran"
    marker.unlink()


def test_rendering_a_blend_with_an_auto_run_script_runs_nothing(proxy, autorun_blend):
    marker = autorun_blend.parent / "autorun-ran.txt"
    marker.unlink(missing_ok=True)

    done = wait_for_job(proxy, submit(proxy, autorun_blend)["id"])

    assert done["status"] == "completed", done
    assert proxy.get_job_files(done["id"]) == ["autorun_0001.png"]
    assert not marker.exists()


# Runs inside Blender: a one-frame scene whose compositor has a File Output
# node aimed outside any job folder, one slot climbing further up.
FILE_OUTPUT_SCENE_SCRIPT = """\
import sys, bpy
folder = sys.argv[sys.argv.index("--") + 1]
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.samples = 1
scene.cycles.use_denoising = False
scene.render.resolution_x, scene.render.resolution_y = 32, 18
scene.frame_start = scene.frame_end = 1
scene.use_nodes = True
tree = scene.node_tree
layers = tree.nodes["Render Layers"]
out = tree.nodes.new("CompositorNodeOutputFile")
out.name = "Escape/Node"
out.base_path = folder + "/escaped/"
out.file_slots.new("../../climbed_")
tree.links.new(layers.outputs["Image"], out.inputs[0])
tree.links.new(layers.outputs["Image"], out.inputs[1])
bpy.ops.wm.save_as_mainfile(filepath=folder + "/fileout.blend")
"""


@pytest.fixture(scope="module")
def file_output_blend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fileout")
    run_blender_script(folder, FILE_OUTPUT_SCENE_SCRIPT)
    return folder / "fileout.blend"


def test_file_output_nodes_write_into_the_job_folder_only(proxy, file_output_blend):
    outside = file_output_blend.parent

    done = wait_for_job(proxy, submit(proxy, file_output_blend)["id"])

    assert done["status"] == "completed", done
    assert sorted(proxy.get_job_files(done["id"])) == [
        "fileout_0001.png",
        "pass-Escape-Node-Image_0001.png",
        "pass-Escape-Node-climbed_0001.png",
    ]
    assert sorted(p.name for p in outside.rglob("*.png")) == []
