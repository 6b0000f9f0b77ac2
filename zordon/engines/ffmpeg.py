"""FFmpeg: encodes an input video (or a time segment of it) into a new file."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zordon.engines.base import (
    Engine,
    ProjectInfo,
    RenderTask,
    Step,
    Tracker,
    bool_arg,
    choice_arg,
    int_arg,
    reject_unknown,
)
from zordon.errors import EngineError, InvalidRequest

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 30
SEEK_LEAD_S = 1.0
CODECS = {
    "libx264": "libx264",
    "h264": "libx264",
    "libx265": "libx265",
    "h265": "libx265",
    "hevc": "libx265",
    "libvpx-vp9": "libvpx-vp9",
    "vp9": "libvpx-vp9",
    "libaom-av1": "libaom-av1",
    "av1": "libaom-av1",
    "mpeg4": "mpeg4",
    "prores": "prores_ks",
    "prores_ks": "prores_ks",
}
CONTAINERS = ("mp4", "mkv", "mov", "webm")
WEBM_CODECS = ("libvpx-vp9", "libaom-av1")
SPEED_PRESET_CODECS = ("libx264", "libx265")
PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
BITRATE = re.compile(r"^\d+(?:\.\d+)?[kKmM]?$")
SCALE = re.compile(r"^(?P<w>-[12]|\d{1,5})[x:](?P<h>-[12]|\d{1,5})$")
# Trailers FFmpeg prints after the line that says what went wrong.
GENERIC_FAILURES = {"Conversion failed!", "Error marking filters as finished"}
# Demuxers that read other files or URLs named inside the input.
REFUSED_FORMATS = {"hls", "concat", "ffconcat", "tee", "image2", "lavfi", "dash"}
# How ffprobe names such a demuxer when it stops at a file the list names.
REFUSED_DEMUXER = re.compile(rf"\[(?:{'|'.join(sorted(REFUSED_FORMATS))}) @ ")
# And should one slip through, the input may still open local files alone.
LOCAL_FILES_ONLY = ("-protocol_whitelist", "file")


class FFmpegEngine(Engine):
    name = "ffmpeg"
    program = "ffmpeg"
    extensions = (
        *(".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"),
        *(".mpg", ".mpeg", ".ts", ".mts", ".flv", ".wmv", ".mxf"),
    )
    version_pattern = re.compile(r"ffmpeg version (?:n)?(?P<version>\d+(?:\.\d+)+)")
    rival_args = (("crf", "bitrate"), ("scale", "height"))

    def version_argv(self) -> list[str]:
        return ["-version"]

    @property
    def ffprobe_path(self) -> str | None:
        path = self.path
        if path is None:
            return None
        sibling = Path(path).with_name("ffprobe")
        return str(sibling) if sibling.exists() else shutil.which("ffprobe")

    def export_formats(self) -> list[str]:
        return list(CONTAINERS)

    def accepted_args(self) -> dict[str, str]:
        return {
            "codec": "video codec: " + ", ".join(sorted(set(CODECS))),
            "crf": "0-63 constant quality (lower is better); not with bitrate",
            "bitrate": "video bitrate such as 2M or 800k; not with crf",
            "preset": "x264/x265 speed preset: " + ", ".join(PRESETS),
            "scale": "WIDTHxHEIGHT, -2 keeps the aspect (e.g. -2x720)",
            "height": "output height in pixels; width follows the aspect",
            "fps": "output frame rate, 1-240",
            "audio": "true (default) to keep the audio, false to drop it",
            "container": "output container: " + ", ".join(CONTAINERS),
        }

    def validate_args(self, args: Mapping[str, Any]) -> dict[str, Any]:
        reject_unknown(self.name, args, self.accepted_args())
        clean: dict[str, Any] = {}
        codec = CODECS.get(str(args.get("codec", "libx264")).lower())
        if codec is None:
            raise InvalidRequest("codec must be one of " + ", ".join(sorted(CODECS)))
        clean["codec"] = codec
        if "crf" in args and "bitrate" in args:
            raise InvalidRequest("give crf or bitrate, not both")
        if "crf" in args:
            clean["crf"] = int_arg("crf", args["crf"], 0, 63)
        if "bitrate" in args:
            if not BITRATE.fullmatch(str(args["bitrate"])):
                raise InvalidRequest("bitrate must look like 2M, 800k or 500000")
            clean["bitrate"] = str(args["bitrate"])
        if "preset" in args:
            if codec not in SPEED_PRESET_CODECS:
                raise InvalidRequest("preset applies only to H.264 and H.265")
            clean["preset"] = choice_arg("preset", args["preset"], PRESETS)
        clean.update(_size_args(args))
        if "fps" in args:
            clean["fps"] = _fps_arg(args["fps"])
        clean["audio"] = bool_arg("audio", args.get("audio", True))
        container = choice_arg("container", args.get("container", "mp4"), CONTAINERS)
        if container == "webm" and codec not in WEBM_CODECS:
            raise InvalidRequest("webm holds only vp9 or av1 video")
        if codec == "prores_ks" and container not in ("mov", "mkv"):
            raise InvalidRequest("prores goes only in a mov or mkv container")
        clean["container"] = container
        return clean

    def merge_args(
        self, base: Mapping[str, Any], override: Mapping[str, Any]
    ) -> dict[str, Any]:
        merged = super().merge_args(base, override)
        # A speed preset means nothing to the codec a job switches to.
        codec = CODECS.get(str(override.get("codec", "")).lower())
        if codec and codec not in SPEED_PRESET_CODECS and "preset" not in override:
            merged.pop("preset", None)
        return merged

    def probe(
        self, input_path: Path, args: Mapping[str, Any] | None = None
    ) -> ProjectInfo:
        """Duration, frame rate and frame count, from ffprobe.

        Raises :class:`InvalidRequest` for inputs that point at other files
        (playlists, concat lists), which a job may never read.
        """
        facts = self._ffprobe(input_path)
        if "error" in facts:
            if REFUSED_DEMUXER.search(facts["error"]):
                raise InvalidRequest(
                    f"{input_path.name} is a playlist or concat list, which "
                    "refers to other files; send the video itself"
                )
            return ProjectInfo(facts=facts)
        if set(facts["format_name"].split(",")) & REFUSED_FORMATS:
            raise InvalidRequest(
                f"{input_path.name} is a {facts['format_name']} file, "
                "which refers to other files; send the video itself"
            )
        return ProjectInfo(
            start_frame=1,
            end_frame=max(facts["frame_count"], 1),
            fps=facts["fps"],
            facts=facts,
        )

    def _ffprobe(self, input_path: Path) -> dict[str, Any]:
        ffprobe = self.ffprobe_path
        if ffprobe is None:
            return {"error": "ffprobe is not installed"}
        argv = [ffprobe, "-v", "error", *LOCAL_FILES_ONLY, "-print_format", "json"]
        argv += ["-show_format", "-show_streams", str(input_path)]
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"error": f"ffprobe failed: {exc}"}
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()[-3:]
            return {"error": "; ".join(lines) or "ffprobe failed"}
        return _facts_from_probe(json.loads(done.stdout))

    def plan(self, task: RenderTask) -> list[Step]:
        facts = task.facts or self.probe(task.input_path).facts
        if "error" in facts:
            raise EngineError(f"cannot read {task.input_path.name}: {facts['error']}")
        argv = [self.require_path(), "-hide_banner", "-nostdin", "-y"]
        window = _window(task, facts)
        argv += _seek_argv(window)
        argv += [*LOCAL_FILES_ONLY, "-i", str(task.input_path), "-map", "0:v:0"]
        argv += self._codec_argv(task.args, facts, window)
        argv += ["-progress", "pipe:1", "-nostats"]
        argv.append(str(self.output_path(task)))
        duration_s = _segment_duration(task, facts)
        return [Step("encode", argv, _Tracker(task, duration_s))]

    def check_frames(
        self, frames: Sequence[int], listed: bool, info: ProjectInfo
    ) -> None:
        if listed:
            raise InvalidRequest("a video job takes a frame range, not a list")
        count = info.end_frame
        if count and (frames[0] < 1 or frames[-1] > count):
            raise InvalidRequest(f"the video has frames 1 to {count} only")

    def split_args(self, args: Mapping[str, Any]) -> dict[str, Any]:
        # Children encode video only; the parent adds the audio once, seamless.
        return {**args, "audio": False}

    def join_steps(self, task: RenderTask, pieces: list[Path]) -> list[Step]:
        """Join the segments without re-encoding, then add the input's audio."""
        listing = pieces[0].parent / "segments.txt"
        listing.write_text("".join(f"file '{p.name}'\n" for p in pieces))
        argv = [self.require_path(), "-hide_banner", "-nostdin", "-y"]
        argv += ["-f", "concat", "-safe", "0", "-i", str(listing)]
        with_audio = task.args.get("audio", True) and task.facts.get("has_audio")
        if with_audio:
            codec = "libopus" if task.args.get("container") == "webm" else "aac"
            argv += [*LOCAL_FILES_ONLY, "-i", str(task.input_path)]
            argv += ["-map", "0:v", "-map", "1:a:0"]
            argv += ["-c:a", codec, "-shortest"]
        argv += ["-c:v", "copy", "-progress", "pipe:1", "-nostats"]
        argv.append(str(self.output_path(task)))
        fps = task.facts.get("fps") or 25
        duration_s = len(task.frames) / fps
        return [Step("join", argv, _Tracker(task, duration_s))]

    def output_path(self, task: RenderTask) -> Path:
        container = task.args.get("container", "mp4")
        return task.output_dir / f"{task.input_path.stem}.{container}"

    def _codec_argv(
        self,
        args: Mapping[str, Any],
        facts: dict[str, Any],
        window: tuple[float, float] | None,
    ) -> list[str]:
        codec = args.get("codec", "libx264")
        argv = ["-c:v", codec]
        if codec in ("libx264", "libx265"):
            argv += ["-pix_fmt", "yuv420p"]
        if "crf" in args:
            argv += ["-crf", str(args["crf"])]
        if "bitrate" in args:
            argv += ["-b:v", args["bitrate"]]
        if "preset" in args:
            argv += ["-preset", args["preset"]]
        # The fps filter drops or repeats frames to keep the duration; ``-r``
        # as an output option would stretch the video past its audio.
        filters = _trim("trim", "setpts", window)
        if "scale" in args:
            filters.append(f"scale={args['scale']}")
        if "fps" in args:
            filters.append(f"fps={args['fps']}")
        if filters:
            argv += ["-vf", ",".join(filters)]
        if window is not None:
            argv += ["-fps_mode", "passthrough"]  # the trim chose the frames
        if args.get("audio", True) and facts.get("has_audio"):
            audio_codec = "libopus" if args.get("container") == "webm" else "aac"
            argv += ["-map", "0:a:0?", "-c:a", audio_codec]
            audio_filters = _trim("atrim", "asetpts", window)
            if audio_filters:
                argv += ["-af", ",".join(audio_filters)]
        else:
            argv.append("-an")
        return argv


def _size_args(args: Mapping[str, Any]) -> dict[str, str]:
    if "scale" in args and "height" in args:
        raise InvalidRequest("give scale or height, not both")
    if "height" in args:
        return {"scale": f"-2:{int_arg('height', args['height'], 2, 8640)}"}
    if "scale" in args:
        match = SCALE.fullmatch(str(args["scale"]).strip())
        if not match:
            raise InvalidRequest("scale must look like 1280x720 or -2x360")
        width, height = (_side(name, match.group(name)) for name in ("w", "h"))
        return {"scale": f"{width}:{height}"}
    return {}


def _side(name: str, text: str) -> str:
    """One side of ``scale``: -1 or -2 (keep the aspect), else 2 to 8640 pixels."""
    if text in ("-1", "-2") or 2 <= int(text) <= 8640:
        return text
    side = "width" if name == "w" else "height"
    raise InvalidRequest(f"scale's {side} must be -1, -2 or 2 to 8640 pixels")


def _fps_arg(value: Any) -> float:
    try:
        fps = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"fps must be a number, not {value!r}") from exc
    if not 1 <= fps <= 240:
        raise InvalidRequest("fps must be between 1 and 240")
    return fps


def _facts_from_probe(probe: dict[str, Any]) -> dict[str, Any]:
    streams = probe.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    if video is None:
        return {"error": "the file holds no video stream"}
    fps = _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate"))
    duration_s = float(probe.get("format", {}).get("duration") or 0.0)
    frames = int(video.get("nb_frames") or 0) or round(duration_s * (fps or 0))
    return {
        "format_name": probe.get("format", {}).get("format_name", ""),
        "start_time": float(video.get("start_time") or 0.0),
        "duration_s": duration_s,
        "fps": fps,
        "frame_count": frames,
        "width": video.get("width"),
        "height": video.get("height"),
        "video_codec": video.get("codec_name"),
        "has_audio": any(s.get("codec_type") == "audio" for s in streams),
    }


def _rate(text: str | None) -> float | None:
    if not text or "/" not in text:
        return None
    num, den = (float(part) for part in text.split("/"))
    return num / den if den else None


def _is_whole(task: RenderTask, facts: dict[str, Any]) -> bool:
    return task.start_frame <= 1 and task.end_frame >= facts["frame_count"]


def _window(task: RenderTask, facts: dict[str, Any]) -> tuple[float, float] | None:
    """The task's frames as [start, end) in the input's own timestamps.

    Each edge lies half a frame before a frame, so rounding in the file's
    timestamps can neither add a frame nor lose one at a segment's seam.
    """
    if _is_whole(task, facts) or not facts.get("fps"):
        return None
    fps, offset = facts["fps"], facts.get("start_time", 0.0)
    start_s = offset + max(task.start_frame - 1.5, 0) / fps
    return start_s, offset + (task.end_frame - 0.5) / fps


def _seek_argv(window: tuple[float, float] | None) -> list[str]:
    """A fast seek to a second before the window; the trim then cuts exactly.

    ``-copyts`` keeps the input's timestamps, which the trim filters read.
    """
    if window is None or window[0] < SEEK_LEAD_S:
        return ["-copyts"] if window else []
    return ["-ss", f"{window[0] - SEEK_LEAD_S:.6f}", "-copyts"]


def _trim(trim: str, setpts: str, window: tuple[float, float] | None) -> list[str]:
    if window is None:
        return []
    start_s, end_s = window
    return [f"{trim}=start={start_s:.6f}:end={end_s:.6f}", f"{setpts}=PTS-STARTPTS"]


def _segment_duration(task: RenderTask, facts: dict[str, Any]) -> float:
    if _is_whole(task, facts) or not facts.get("fps"):
        return facts["duration_s"]
    return (task.end_frame - task.start_frame + 1) / facts["fps"]


class _Tracker(Tracker):
    """Reads ``-progress`` key=value lines; keeps other lines as error reasons."""

    KEY_VALUE = re.compile(r"^(?P<key>[a-z_]+)=(?P<value>\S*)$")

    def __init__(self, task: RenderTask, duration_s: float) -> None:
        super().__init__(task)
        self.duration_us = max(duration_s, 1e-3) * 1_000_000
        self.last_message = ""

    def feed(self, line: str) -> bool:
        match = self.KEY_VALUE.match(line)
        if match is None:
            if line.strip() and line.strip() not in GENERIC_FAILURES:
                self.last_message = line.strip()
            return False
        key, value = match.group("key"), match.group("value")
        if key == "frame" and value.isdigit():
            self.frames_done = int(value)
        elif key == "out_time_us" and value.lstrip("-").isdigit():
            self.fraction = min(max(int(value), 0) / self.duration_us, 1.0)
            return True
        elif key == "progress" and value == "end":
            self.fraction = 1.0
            return True
        return False

    def finish(self, returncode: int) -> None:
        if returncode != 0:
            raise EngineError(self.last_message or f"ffmpeg exited with {returncode}")
