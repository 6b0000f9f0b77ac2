import ast
from pathlib import Path

import pytest

from tests import captured
from zordon.engines.base import RenderTask
from zordon.engines.blender import BlenderEngine
from zordon.errors import EngineError, InvalidRequest

SCENE_FACTS = {
    "scene": "Scene",
    "start_frame": 1,
    "end_frame": 3,
    "fps": 24.0,
    "output_format": "PNG",
    "output_is_movie": False,
}


@pytest.fixture
def engine():
    return BlenderEngine(path="/usr/bin/blender")


def task(tmp_path, start=1, end=2, step=1, args=None, facts=None):
    return RenderTask(
        job_id="abc123",
        input_path=tmp_path / "input" / "shot.blend",
        output_dir=tmp_path / "output",
        start_frame=start,
        end_frame=end,
        frame_step=step,
        args=args or {},
        facts=facts or SCENE_FACTS,
    )


def feed_all(tracker, lines):
    return [tracker.feed(line) for line in lines]


# argument validation


def test_every_documented_argument_is_accepted_and_normalised(engine):
    args = {
        "scene": "Scene",
        "camera": "Camera.001",
        "resolution_percentage": "50",
        "samples": 16,
        "format": "open_exr",
        "threads": "4",
        "encode_video": "yes",
    }

    clean = engine.validate_args(args)

    assert clean == {
        "scene": "Scene",
        "camera": "Camera.001",
        "resolution_percentage": 50,
        "samples": 16,
        "format": "OPEN_EXR",
        "threads": 4,
        "encode_video": True,
    }


@pytest.mark.parametrize("name", ["python", "python_expr", "script", "output", "-P"])
def test_arguments_outside_the_list_are_refused_by_name(engine, name):
    with pytest.raises(InvalidRequest, match=name):
        engine.validate_args({name: "x"})


@pytest.mark.parametrize("fmt", ["PNG", "png", "JPEG", "jpeg", "OPEN_EXR"])
def test_png_jpeg_and_exr_are_the_formats(engine, fmt):
    assert engine.validate_args({"format": fmt})["format"] == fmt.upper()


@pytest.mark.parametrize("fmt", ["TIFF", "FFMPEG", "", "PNG; rm"])
def test_other_formats_are_refused(engine, fmt):
    with pytest.raises(InvalidRequest, match="format"):
        engine.validate_args({"format": fmt})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("samples", 0),
        ("samples", "many"),
        ("samples", True),
        ("samples", 1.5),
        ("resolution_percentage", 0),
        ("resolution_percentage", 1001),
        ("threads", -1),
        ("threads", 1025),
    ],
)
def test_numbers_out_of_range_or_not_integers_are_refused(engine, key, value):
    with pytest.raises(InvalidRequest, match=key):
        engine.validate_args({key: value})


@pytest.mark.parametrize("value", ["", "x" * 64, "Cam\nera", 7, None])
def test_scene_and_camera_must_be_short_printable_names(engine, value):
    with pytest.raises(InvalidRequest, match="camera"):
        engine.validate_args({"camera": value})


def test_encode_video_must_be_a_yes_or_no(engine):
    assert engine.validate_args({"encode_video": "off"}) == {"encode_video": False}
    with pytest.raises(InvalidRequest, match="encode_video"):
        engine.validate_args({"encode_video": "maybe"})


# the command line


def test_blender_starts_with_python_auto_execution_disabled(engine, tmp_path):
    argv = engine.plan(task(tmp_path))[0].argv

    assert argv[:3] == ["/usr/bin/blender", "-b", "-Y"]
    assert argv[3] == str(tmp_path / "input" / "shot.blend")


def test_the_frame_range_renders_in_one_process(engine, tmp_path):
    steps = engine.plan(task(tmp_path, start=5, end=40, step=5))

    argv = steps[0].argv
    assert len(steps) == 1
    assert argv[argv.index("-s") + 1] == "5"
    assert argv[argv.index("-e") + 1] == "40"
    assert argv[argv.index("-j") + 1] == "5"
    assert argv[-1] == "-a"


def test_a_frame_list_renders_in_one_process_with_runs_folded(engine, tmp_path):
    listed = RenderTask(
        job_id="abc123",
        input_path=tmp_path / "shot.blend",
        output_dir=tmp_path / "output",
        start_frame=1,
        end_frame=9,
        frame_list=(1, 4, 7, 8, 9),
        facts=SCENE_FACTS,
    )

    argv = engine.plan(listed)[0].argv

    assert argv[-2:] == ["-f", "1,4,7..9"]
    assert "-a" not in argv


def test_frames_go_to_the_job_output_folder_whatever_the_file_says(engine, tmp_path):
    facts = {**SCENE_FACTS, "output_path": "//renders/shot_"}

    argv = engine.plan(task(tmp_path, facts=facts))[0].argv

    pattern = argv[argv.index("-o") + 1]
    assert pattern == str(tmp_path / "output" / "shot_####")


def test_format_and_threads_become_blender_flags(engine, tmp_path):
    argv = engine.plan(task(tmp_path, args={"format": "JPEG", "threads": 2}))[0].argv

    assert argv[argv.index("-F") + 1] == "JPEG"
    assert argv[argv.index("-t") + 1] == "2"


def test_a_movie_output_renders_png_frames(engine, tmp_path):
    facts = {**SCENE_FACTS, "output_format": "FFMPEG", "output_is_movie": True}

    argv = engine.plan(task(tmp_path, facts=facts))[0].argv

    assert argv[argv.index("-F") + 1] == "PNG"


def test_encode_video_adds_an_ffmpeg_step_into_the_output_folder(engine, tmp_path):
    steps = engine.plan(task(tmp_path, args={"encode_video": True}))

    assert [s.label for s in steps] == ["render", "encode"]
    assert steps[1].argv[-1] == str(tmp_path / "output" / "shot.mp4")
    assert sum(s.weight for s in steps) == pytest.approx(1.0)


def test_the_encode_step_reads_the_frames_with_the_image2_demuxer(engine, tmp_path):
    argv = engine.plan(task(tmp_path, args={"encode_video": True}))[1].argv

    at = argv.index("-pattern_type")
    assert argv[at - 2 : at] == ["-f", "image2"]
    assert argv[argv.index("-i") + 1] == str(tmp_path / "output" / "shot_*.png")


def test_the_encode_step_reads_jpeg_frames_under_a_literal_name(engine, tmp_path):
    odd = RenderTask(
        job_id="abc123",
        input_path=tmp_path / "take#1 [v2].blend",
        output_dir=tmp_path / "output",
        start_frame=1,
        end_frame=2,
        args={"encode_video": True, "format": "JPEG"},
        facts=SCENE_FACTS,
    )

    argv = engine.plan(odd)[1].argv

    pattern = str(tmp_path / "output" / "take#1 \\[v2\\]_*.jpg")
    assert argv[argv.index("-i") + 1] == pattern


def test_a_failed_encode_of_the_frames_says_why(engine, tmp_path):
    tracker = engine.plan(task(tmp_path, args={"encode_video": True}))[1].tracker
    for line in captured.FFMPEG_ODD_HEIGHT:
        tracker.feed(line)

    with pytest.raises(EngineError, match="maybe incorrect parameters"):
        tracker.finish(1)


def test_a_camera_name_cannot_inject_python(engine, tmp_path):
    sneaky = "x'); import os; os.system('touch /tmp/pwned'); ('"
    args = engine.validate_args({"camera": sneaky})

    argv = engine.plan(task(tmp_path, args=args))[0].argv

    script = argv[argv.index("--python-expr") + 1]
    tree = ast.parse(script)
    assigned = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "settings"
    ]
    settings = ast.literal_eval(assigned[0])
    assert settings["camera"] == sneaky
    assert "os.system" not in "".join(ast.unparse(n) for n in tree.body[:2])


def test_files_without_blend_extension_are_not_blenders(engine):
    assert engine.handles("Shot.BLEND")
    assert not engine.handles("shot.blend1")
    assert not engine.handles("clip.mp4")


# progress from real output


def test_progress_follows_samples_and_saved_frames(engine, tmp_path):
    tracker = engine.plan(task(tmp_path, start=1, end=2))[0].tracker
    fractions = []
    for line in captured.BLENDER_TWO_FRAMES:
        if tracker.feed(line):
            fractions.append(tracker.fraction)

    assert fractions == [0.25, 0.5, 0.75, 1.0]
    assert tracker.frames_done == 2


def test_progress_never_goes_backwards(engine, tmp_path):
    tracker = engine.plan(task(tmp_path, start=1, end=2))[0].tracker
    seen = []
    for line in captured.BLENDER_TWO_FRAMES:
        tracker.feed(line)
        seen.append(tracker.fraction)

    assert seen == sorted(seen)


def test_lines_without_progress_change_nothing(engine, tmp_path):
    tracker = engine.plan(task(tmp_path))[0].tracker

    changed = feed_all(tracker, captured.BLENDER_TWO_FRAMES[:4])

    assert not any(changed)
    assert tracker.fraction == 0.0


def test_eevee_sample_lines_count_as_progress(engine, tmp_path):
    tracker = engine.plan(task(tmp_path, start=1, end=1))[0].tracker

    feed_all(tracker, captured.BLENDER_EEVEE_FRAME[:2])
    assert tracker.fraction == 0.5
    feed_all(tracker, captured.BLENDER_EEVEE_FRAME[2:])
    assert tracker.frames_done == 1


def test_a_run_that_saved_every_frame_finishes_cleanly(engine, tmp_path):
    tracker = engine.plan(task(tmp_path, start=1, end=2))[0].tracker
    feed_all(tracker, captured.BLENDER_TWO_FRAMES)

    tracker.finish(0)


def test_a_run_that_saved_too_few_frames_is_an_error(engine, tmp_path):
    tracker = engine.plan(task(tmp_path, start=1, end=3))[0].tracker
    feed_all(tracker, captured.BLENDER_TWO_FRAMES)

    with pytest.raises(EngineError, match="2 of 3"):
        tracker.finish(0)


def test_a_corrupt_file_fails_with_blenders_reason(engine, tmp_path):
    tracker = engine.plan(task(tmp_path))[0].tracker
    feed_all(tracker, captured.BLENDER_CORRUPT_FILE)

    with pytest.raises(EngineError, match="not a blend file"):
        tracker.finish(1)


def test_a_scene_without_camera_fails_with_blenders_reason(engine, tmp_path):
    tracker = engine.plan(task(tmp_path))[0].tracker
    feed_all(tracker, captured.BLENDER_NO_CAMERA)

    with pytest.raises(EngineError, match="Cannot render, no camera"):
        tracker.finish(1)


def test_unknown_scene_facts_are_read_from_the_file(engine, tmp_path):
    missing = Path(tmp_path / "missing.blend")

    info = engine.probe(missing)

    assert "error" in info.facts
    assert info.start_frame is None
