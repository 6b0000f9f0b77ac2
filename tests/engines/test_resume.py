"""Which frames an interrupted Blender run finished, and what is left to run."""

from __future__ import annotations

from pathlib import Path

import pytest

from zordon.engines.base import RenderTask
from zordon.engines.blender import BlenderEngine


@pytest.fixture
def task(tmp_path: Path) -> RenderTask:
    out = tmp_path / "out"
    out.mkdir()
    return RenderTask("j", tmp_path / "in" / "shot.blend", out, 1, 6, facts={"x": 1})


def saved(task: RenderTask, *frames: int, write: bool = True) -> str:
    lines = []
    for frame in frames:
        path = task.output_dir / f"shot_{frame:04d}.png"
        if write:
            path.write_bytes(b"png")
        lines += [f"Fra:{frame} Mem:1M | Rendering", f"Saved: '{path}'", " Time: 1"]
    return "\n".join(lines) + "\n"


def test_frames_with_a_saved_line_and_a_file_are_finished(task):
    log = saved(task, 1, 2, 3)

    assert BlenderEngine("blender").finished_frames(task, log) == {1, 2, 3}


def test_a_frame_file_without_its_saved_line_is_not_finished(task):
    (task.output_dir / "shot_0004.png").write_bytes(b"half a pn")
    log = saved(task, 1)

    assert BlenderEngine("blender").finished_frames(task, log) == {1}


def test_a_saved_line_whose_file_is_gone_does_not_count(task):
    log = saved(task, 2, write=False)

    assert BlenderEngine("blender").finished_frames(task, log) == set()


def test_saved_lines_for_other_folders_or_frames_do_not_count(task, tmp_path):
    log = saved(task, 9) + f"Saved: '{tmp_path / 'shot_0002.png'}'\n"
    (tmp_path / "shot_0002.png").write_bytes(b"png")

    assert BlenderEngine("blender").finished_frames(task, log) == set()


def test_a_resumed_render_asks_blender_for_the_missing_frames_only(task):
    steps = BlenderEngine("/usr/bin/blender").plan_resumed(task, {1, 2, 4})

    argv = steps[0].argv
    assert argv[argv.index("-f") + 1] == "3,5..6"
    assert "-a" not in argv


def test_a_render_with_every_frame_done_runs_nothing_but_its_encode(task):
    engine = BlenderEngine("/usr/bin/blender")
    encoding = RenderTask(**{**task.__dict__, "args": {"encode_video": True}})

    assert engine.plan_resumed(task, set(range(1, 7))) == []
    assert [s.label for s in engine.plan_resumed(encoding, set(range(1, 7)))] == [
        "encode"
    ]
