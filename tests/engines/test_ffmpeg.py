import pytest

from tests import captured
from zordon.engines.base import RenderTask
from zordon.engines.ffmpeg import FFmpegEngine
from zordon.errors import EngineError, InvalidRequest

CLIP_FACTS = {
    "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
    "duration_s": 2.0,
    "fps": 10.0,
    "frame_count": 20,
    "width": 128,
    "height": 72,
    "video_codec": "h264",
    "has_audio": False,
}


@pytest.fixture
def engine():
    return FFmpegEngine(path="/usr/bin/ffmpeg")


def task(tmp_path, start=1, end=20, args=None, facts=None):
    return RenderTask(
        job_id="abc123",
        input_path=tmp_path / "input" / "clip.mp4",
        output_dir=tmp_path / "output",
        start_frame=start,
        end_frame=end,
        args=args or {"codec": "libx264", "audio": True, "container": "mp4"},
        facts=facts or CLIP_FACTS,
    )


def feed_all(tracker, lines):
    for line in lines:
        tracker.feed(line)


# argument validation


def test_defaults_are_h264_with_audio_in_mp4(engine):
    assert engine.validate_args({}) == {
        "codec": "libx264",
        "audio": True,
        "container": "mp4",
    }


def test_every_documented_argument_is_accepted(engine):
    args = {
        "codec": "h265",
        "crf": "28",
        "preset": "Slow",
        "height": "360",
        "fps": "12.5",
        "audio": "off",
        "container": "mkv",
    }

    assert engine.validate_args(args) == {
        "codec": "libx265",
        "crf": 28,
        "preset": "slow",
        "scale": "-2:360",
        "fps": 12.5,
        "audio": False,
        "container": "mkv",
    }


@pytest.mark.parametrize(
    "name", ["vf", "filter_complex", "output", "f", "i", "map", "extra_args"]
)
def test_arguments_outside_the_list_are_refused_by_name(engine, name):
    with pytest.raises(InvalidRequest, match=name):
        engine.validate_args({name: "x"})


def test_unknown_codecs_are_refused(engine):
    with pytest.raises(InvalidRequest, match="codec"):
        engine.validate_args({"codec": "copy"})


def test_crf_and_bitrate_together_are_refused(engine):
    with pytest.raises(InvalidRequest, match="not both"):
        engine.validate_args({"crf": 20, "bitrate": "2M"})


@pytest.mark.parametrize("value", [-1, 64, "best"])
def test_crf_outside_0_to_63_is_refused(engine, value):
    with pytest.raises(InvalidRequest, match="crf"):
        engine.validate_args({"crf": value})


@pytest.mark.parametrize("value", ["2M", "800k", "500000", "1.5M"])
def test_bitrates_like_2M_are_accepted(engine, value):
    assert engine.validate_args({"bitrate": value})["bitrate"] == value


@pytest.mark.parametrize("value", ["2 M", "fast", "2M -vf x", ""])
def test_malformed_bitrates_are_refused(engine, value):
    with pytest.raises(InvalidRequest, match="bitrate"):
        engine.validate_args({"bitrate": value})


def test_preset_applies_only_to_x264_and_x265(engine):
    with pytest.raises(InvalidRequest, match="preset"):
        engine.validate_args({"codec": "vp9", "preset": "fast", "container": "webm"})
    with pytest.raises(InvalidRequest, match="preset"):
        engine.validate_args({"preset": "ludicrous"})


@pytest.mark.parametrize(
    ("scale", "expected"),
    [("1280x720", "1280:720"), ("-2x360", "-2:360"), ("640:-1", "640:-1")],
)
def test_scale_takes_width_and_height(engine, scale, expected):
    assert engine.validate_args({"scale": scale})["scale"] == expected


@pytest.mark.parametrize("scale", ["big", "1280", "1280x720,crop=1:1", "-3x360"])
def test_malformed_scales_are_refused(engine, scale):
    with pytest.raises(InvalidRequest, match="scale"):
        engine.validate_args({"scale": scale})


def test_scale_and_height_together_are_refused(engine):
    with pytest.raises(InvalidRequest, match="not both"):
        engine.validate_args({"scale": "1280x720", "height": 720})


@pytest.mark.parametrize("value", [0, 241, "fast", None])
def test_fps_outside_1_to_240_is_refused(engine, value):
    with pytest.raises(InvalidRequest, match="fps"):
        engine.validate_args({"fps": value})


def test_audio_must_be_on_or_off(engine):
    with pytest.raises(InvalidRequest, match="audio"):
        engine.validate_args({"audio": "loud"})


def test_containers_are_mp4_mkv_mov_and_webm(engine):
    assert engine.validate_args({"container": "MOV"})["container"] == "mov"
    with pytest.raises(InvalidRequest, match="container"):
        engine.validate_args({"container": "avi"})


def test_webm_holds_only_vp9_or_av1(engine):
    with pytest.raises(InvalidRequest, match="webm"):
        engine.validate_args({"container": "webm"})
    assert engine.validate_args({"codec": "vp9", "container": "webm"})


# the command line


def test_the_output_lands_in_the_job_folder_named_after_the_input(engine, tmp_path):
    args = engine.validate_args({"container": "mkv"})

    argv = engine.plan(task(tmp_path, args=args))[0].argv

    assert argv[-1] == str(tmp_path / "output" / "clip.mkv")
    assert argv[argv.index("-i") + 1] == str(tmp_path / "input" / "clip.mp4")


def test_progress_is_read_from_a_pipe(engine, tmp_path):
    argv = engine.plan(task(tmp_path))[0].argv

    assert argv[argv.index("-progress") + 1] == "pipe:1"
    assert "-nostdin" in argv


def test_checked_arguments_become_ffmpeg_options(engine, tmp_path):
    args = engine.validate_args({"height": 36, "fps": 5, "crf": 30})

    argv = engine.plan(task(tmp_path, args=args))[0].argv

    assert argv[argv.index("-vf") + 1] == "scale=-2:36,fps=5.0"
    assert argv[argv.index("-crf") + 1] == "30"


def test_a_new_frame_rate_keeps_the_duration(engine, tmp_path):
    args = engine.validate_args({"fps": 5})

    argv = engine.plan(task(tmp_path, args=args))[0].argv

    assert argv[argv.index("-vf") + 1] == "fps=5.0"
    assert "-r" not in argv


def test_a_video_without_audio_is_encoded_without_audio(engine, tmp_path):
    argv = engine.plan(task(tmp_path))[0].argv

    assert "-an" in argv


def test_audio_is_kept_when_the_input_has_some(engine, tmp_path):
    facts = {**CLIP_FACTS, "has_audio": True}

    argv = engine.plan(task(tmp_path, facts=facts))[0].argv

    assert argv[argv.index("-c:a") + 1] == "aac"
    assert "-an" not in argv


def test_a_frame_range_is_trimmed_on_the_inputs_own_timestamps(engine, tmp_path):
    argv = engine.plan(task(tmp_path, start=11, end=20))[0].argv

    assert argv.index("-copyts") < argv.index("-i")
    vf = argv[argv.index("-vf") + 1]
    # frames 11-20 of a 10 fps clip: 1.0 s to 1.9 s, edges half a frame early
    assert vf.startswith("trim=start=0.950000:end=1.950000,setpts=PTS-STARTPTS")
    assert argv[argv.index("-fps_mode") + 1] == "passthrough"


def test_a_segment_deep_in_a_video_seeks_near_it_first(engine, tmp_path):
    argv = engine.plan(task(tmp_path, start=15, end=18))[0].argv

    seek_s = float(argv[argv.index("-ss") + 1])
    assert argv.index("-ss") < argv.index("-i")
    assert 0.0 < seek_s < 1.35 <= seek_s + 1.0


def test_an_unreadable_input_fails_when_planned(engine, tmp_path):
    facts = {"error": "Invalid data found when processing input"}

    with pytest.raises(EngineError, match="Invalid data"):
        engine.plan(task(tmp_path, facts=facts))


# progress from real output


def test_progress_follows_out_time_over_the_duration(engine, tmp_path):
    tracker = engine.plan(task(tmp_path))[0].tracker

    feed_all(tracker, captured.FFMPEG_PROGRESS[:-3])

    assert tracker.fraction == pytest.approx(0.85, abs=0.001)
    assert tracker.frames_done == 20


def test_progress_end_means_done(engine, tmp_path):
    tracker = engine.plan(task(tmp_path))[0].tracker
    feed_all(tracker, captured.FFMPEG_PROGRESS)

    assert tracker.fraction == 1.0
    tracker.finish(0)


def test_a_failed_encode_reports_the_encoders_complaint(engine, tmp_path):
    tracker = engine.plan(task(tmp_path))[0].tracker
    feed_all(tracker, captured.FFMPEG_ODD_HEIGHT)

    with pytest.raises(EngineError, match="maybe incorrect parameters"):
        tracker.finish(1)


# reading real files


@pytest.mark.real
def test_probe_reads_frames_rate_and_size_of_a_clip(engine, clip):
    info = engine.probe(clip)

    assert (info.start_frame, info.end_frame) == (1, 20)
    assert info.fps == 10.0
    assert (info.facts["width"], info.facts["height"]) == (128, 72)
    assert info.facts["has_audio"] is False


@pytest.mark.real
def test_probe_refuses_a_list_that_points_at_other_files(engine, clip, tmp_path):
    (tmp_path / "other.mp4").write_bytes(clip.read_bytes())
    listing = tmp_path / "innocent.mp4"
    listing.write_text("ffconcat version 1.0\nfile 'other.mp4'\n")

    with pytest.raises(InvalidRequest, match="refers to other files"):
        engine.probe(listing)


@pytest.mark.real
def test_probe_of_a_list_naming_an_absolute_path_is_refused(engine, clip, tmp_path):
    listing = tmp_path / "innocent.mp4"
    listing.write_text(f"ffconcat version 1.0\nfile '{clip}'\n")

    with pytest.raises(InvalidRequest, match="refers to other files"):
        engine.probe(listing)


@pytest.mark.real
def test_probe_of_a_file_that_is_no_video_reports_an_error(engine, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)

    assert "error" in engine.probe(junk).facts


@pytest.mark.parametrize("scale", ["99999x99999", "1x720", "1280x0", "-3x720"])
def test_a_scale_outside_sensible_sizes_is_refused_at_submit(engine, scale):
    with pytest.raises(InvalidRequest, match="scale"):
        engine.validate_args({"scale": scale})


def test_prores_is_refused_in_a_container_that_cannot_hold_it(engine):
    with pytest.raises(InvalidRequest, match="prores goes only in a mov or mkv"):
        engine.validate_args({"codec": "prores"})

    assert engine.validate_args({"codec": "prores", "container": "mov"})["codec"] == (
        "prores_ks"
    )


def test_a_concat_list_named_like_a_video_is_refused_at_submit(engine, tmp_path):
    listing = tmp_path / "holiday.mp4"
    listing.write_text("ffconcat version 1.0\nfile /etc/passwd\n")

    with pytest.raises(InvalidRequest, match="refers to other files"):
        engine.probe(listing)
