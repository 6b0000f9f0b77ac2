"""Blender: renders a frame range of a .blend into an image sequence."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zordon.engines.base import (
    ERROR_LINE,
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
from zordon.engines.blend_reader import BlendReader
from zordon.engines.ffmpeg import GENERIC_FAILURES, FFmpegEngine
from zordon.errors import EngineError, InvalidRequest

logger = logging.getLogger(__name__)

FORMATS = ("PNG", "JPEG", "OPEN_EXR")
# File name endings Blender gives each image format (with -x 1).
EXTENSIONS = {
    "PNG": "png",
    "JPEG": "jpg",
    "OPEN_EXR": "exr",
    "TIFF": "tif",
    "BMP": "bmp",
}
# A name never starts with "-", so Blender cannot read it as an option.
NAME_PATTERN = re.compile(r"[^\x00-\x1f\x7f-][^\x00-\x1f\x7f]{0,62}")
# Options that run Python, or let a .blend run its own scripts. Only our own
# settings script goes in, through one --python-expr; nothing else may.
SCRIPT_OPTIONS = frozenset(
    {
        "-P",
        "--python",
        "--python-text",
        "--python-expr",
        "--python-console",
        "-y",
        "--enable-autoexec",
        "--addons",
    }
)
FRAME_DIGITS = 4
FRAME_FILE = re.compile(r"_(?P<frame>\d+)\.[A-Za-z0-9]+$")

# Runs inside Blender after the file loads, with values we checked and quoted.
# It turns denoising off on builds without OpenImageDenoise (Debian's), where
# a scene that asks for it would otherwise fail every frame. Compositor File
# Output nodes write where the .blend says, anywhere on the disk: each one is
# pointed into the job's output folder, its files named pass-NODE-SLOT_####.
SETTINGS_SCRIPT = """\
import bpy, _cycles, os, re
scene = bpy.context.scene
settings = {settings!r}
def plain(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("._-") or "x"
trees = [s.node_tree for s in bpy.data.scenes if s.node_tree]
trees += [g for g in bpy.data.node_groups if g.bl_idname == "CompositorNodeTree"]
for node in (n for tree in trees for n in tree.nodes if n.type == "OUTPUT_FILE"):
    prefix = "pass-" + plain(node.name)
    if node.format.file_format == "OPEN_EXR_MULTILAYER":
        node.base_path = os.path.join(settings["output_dir"], prefix + "_")
    else:
        node.base_path = settings["output_dir"]
        for slot in node.file_slots:
            slot.path = prefix + "-" + plain(slot.path) + "_"
    print("Zordon: File Output node %r writes into the job's folder" % node.name)
if settings.get("camera"):
    camera = bpy.data.objects.get(settings["camera"])
    if camera is None or camera.type != "CAMERA":
        raise SystemExit("Error: no camera named %r in this file" % settings["camera"])
    scene.camera = camera
if "resolution_percentage" in settings:
    scene.render.resolution_percentage = settings["resolution_percentage"]
if "samples" in settings:
    scene.cycles.samples = settings["samples"]
    scene.eevee.taa_render_samples = settings["samples"]
if not _cycles.with_openimagedenoise and scene.cycles.use_denoising:
    scene.cycles.use_denoising = False
    print("Zordon: this Blender has no OpenImageDenoise; denoising turned off")
"""


class BlenderEngine(Engine):
    name = "blender"
    program = "blender"
    extensions = (".blend",)
    version_pattern = re.compile(r"Blender (?P<version>\d+\.\d+(?:\.\d+)?)")

    def __init__(
        self,
        path: str | None = None,
        ffmpeg: FFmpegEngine | None = None,
        **installation: Any,
    ) -> None:
        super().__init__(path, **installation)
        self.ffmpeg = ffmpeg or FFmpegEngine()
        self.reader = BlendReader()

    def version_argv(self) -> list[str]:
        return ["--factory-startup", "-b", "--version"]

    def export_formats(self) -> list[str]:
        return [*FORMATS, "MP4 (encode_video)"]

    def accepted_args(self) -> dict[str, str]:
        return {
            "scene": "name of the scene to render (default: the file's first)",
            "camera": "name of the camera object to render through",
            "resolution_percentage": "1-1000, scales the file's resolution",
            "samples": "1-100000 render samples (Cycles and EEVEE)",
            "format": "image format: " + ", ".join(FORMATS),
            "threads": "0-1024 render threads (0: all cores)",
            "encode_video": "true to join the frames into an H.264 video",
        }

    def validate_args(self, args: Mapping[str, Any]) -> dict[str, Any]:
        reject_unknown(self.name, args, self.accepted_args())
        clean: dict[str, Any] = {}
        for key in ("scene", "camera"):
            if key in args:
                clean[key] = _name_arg(key, args[key])
        if "resolution_percentage" in args:
            value = args["resolution_percentage"]
            clean["resolution_percentage"] = int_arg(
                "resolution_percentage", value, 1, 1000
            )
        if "samples" in args:
            clean["samples"] = int_arg("samples", args["samples"], 1, 100_000)
        if "format" in args:
            clean["format"] = choice_arg("format", args["format"], FORMATS)
        if "threads" in args:
            clean["threads"] = int_arg("threads", args["threads"], 0, 1024)
        if "encode_video" in args:
            clean["encode_video"] = bool_arg("encode_video", args["encode_video"])
        return clean

    def probe(
        self, input_path: Path, args: Mapping[str, Any] | None = None
    ) -> ProjectInfo:
        try:
            facts = self.reader.read(input_path, (args or {}).get("scene"))
        except ValueError as exc:
            logger.info("%s: no scene facts: %s", input_path.name, exc)
            return ProjectInfo(facts={"error": str(exc)})
        _check_names(input_path, args or {}, facts)
        return ProjectInfo(
            start_frame=facts["start_frame"],
            end_frame=facts["end_frame"],
            frame_step=facts["frame_step"],
            fps=facts["fps"],
            facts=facts,
        )

    def plan(self, task: RenderTask) -> list[Step]:
        args = task.args
        facts = task.facts or self.probe(task.input_path, args).facts
        image_format = args.get("format")
        if image_format is None and (facts.get("output_is_movie") or "error" in facts):
            image_format = "PNG"

        steps = [Step("render", self._render_argv(task, image_format), _Tracker(task))]
        if args.get("encode_video"):
            fps = facts.get("fps") or 24
            steps.append(self._encode_step(task, fps))
            steps[0].weight = 0.9
            steps[1].weight = 0.1
        return steps

    def finished_frames(self, task: RenderTask, log_text: str) -> set[int]:
        """Frames whose ``Saved:`` line is in the log and whose file is there.

        Blender prints the line once the file is whole, so a frame cut short
        by a crash has no line and is rendered again.
        """
        stem = task.input_path.stem
        wanted = set(task.frames)
        done = set()
        for match in _Tracker.SAVED.finditer(log_text):
            path = Path(match.group("path"))
            frame = FRAME_FILE.search(path.name)
            if (
                frame
                and path.parent == task.output_dir
                and path.name.startswith(stem + "_")
                and int(frame.group("frame")) in wanted
                and path.is_file()
            ):
                done.add(int(frame.group("frame")))
        return done

    def plan_resumed(self, task: RenderTask, done: set[int]) -> list[Step]:
        remaining = tuple(f for f in task.frames if f not in done)
        if not done:
            return self.plan(task)
        if not remaining:
            return self.join_steps(task, [])
        return self.plan(dataclasses.replace(task, frame_list=remaining))

    def split_args(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in args.items() if k != "encode_video"}

    def join_steps(self, task: RenderTask, pieces: list[Path]) -> list[Step]:
        if not task.args.get("encode_video"):
            return []
        return [self._encode_step(task, task.facts.get("fps") or 24)]

    def frame_pattern(self, task: RenderTask) -> str:
        """Where frames go: the input's stem, an underscore, the frame number."""
        stem = task.input_path.stem
        return str(task.output_dir / f"{stem}_{'#' * FRAME_DIGITS}")

    def _render_argv(self, task: RenderTask, image_format: str | None) -> list[str]:
        argv = [self.require_path(), "-b", "-Y", str(task.input_path)]
        if "scene" in task.args:
            argv += ["-S", task.args["scene"]]
        settings: dict[str, Any] = {
            k: task.args[k]
            for k in ("camera", "resolution_percentage", "samples")
            if k in task.args
        }
        settings["output_dir"] = str(task.output_dir)
        argv += ["--python-expr", SETTINGS_SCRIPT.format(settings=settings)]
        argv += ["-o", self.frame_pattern(task)]
        if image_format:
            argv += ["-F", image_format]
        argv += ["-x", "1"]
        if "threads" in task.args:
            argv += ["-t", str(task.args["threads"])]
        if task.frame_list:
            argv += ["-f", frame_list_arg(task.frame_list)]
        else:
            argv += ["-s", str(task.start_frame), "-e", str(task.end_frame)]
            argv += ["-j", str(task.frame_step), "-a"]
        return refuse_script_options(argv)

    def _encode_step(self, task: RenderTask, fps: float) -> Step:
        stem = task.input_path.stem
        image_format = task.args.get("format") or task.facts.get("output_format")
        suffix = EXTENSIONS.get(str(image_format), "png")
        frames = task.output_dir / f"{_glob_escape(stem)}_*.{suffix}"
        video = task.output_dir / f"{stem}.mp4"
        argv = [
            self.ffmpeg.require_path(),
            *("-hide_banner", "-nostdin", "-y", "-framerate", str(fps)),
            *("-f", "image2", "-pattern_type", "glob", "-i", str(frames)),
            # H.264 in 4:2:0 needs even sizes; a 25% render may well be odd.
            *("-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2"),
            *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "18"),
            *("-progress", "pipe:1", "-nostats", str(video)),
        ]
        total = len(task.frames)
        return Step("encode", argv, _EncodeTracker(task, total))


def refuse_script_options(argv: list[str]) -> list[str]:
    """``argv`` unchanged if it keeps scripts off: ``-Y`` before the file, and
    no option that runs Python but the one settings script."""
    found = [i for i, arg in enumerate(argv) if arg in SCRIPT_OPTIONS]
    ours = [i for i in found if argv[i] == "--python-expr"][:1]
    if found != ours or argv[2] != "-Y":
        raise EngineError("refused a Blender command line that could run scripts")
    return argv


def _glob_escape(text: str) -> str:
    """``text`` matched literally by FFmpeg's glob pattern."""
    return "".join("\\" + c if c in "[]*?\\" else c for c in text)


def _check_names(path: Path, args: Mapping[str, Any], facts: dict[str, Any]) -> None:
    """A scene or camera the file does not hold is refused before anything runs."""
    for key, known in (("scene", facts["scenes"]), ("camera", facts["cameras"])):
        if key in args and args[key] not in known:
            names = ", ".join(known) or "none"
            raise InvalidRequest(
                f"{path.name} has no {key} {args[key]!r}; it has {names}"
            )


def frame_list_arg(frames: Sequence[int]) -> str:
    """Blender's ``-f`` list: ``1,4,7..9`` renders 1, 4, 7, 8 and 9."""
    parts = []
    start = previous = frames[0]
    for frame in [*frames[1:], None]:
        if frame is not None and frame == previous + 1:
            previous = frame
            continue
        parts.append(str(start) if start == previous else f"{start}..{previous}")
        if frame is not None:
            start = previous = frame
    return ",".join(parts)


def _name_arg(key: str, value: Any) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise InvalidRequest(
            f"{key} must be a name of 1-63 printable characters, not starting with -"
        )
    return value


class _Tracker(Tracker):
    """Follows ``Fra:``, ``Sample a/b`` and ``Saved:`` lines of a render."""

    FRAME = re.compile(r"^Fra:(?P<frame>-?\d+) ")
    SAMPLE = re.compile(
        r"\| (?:Sample (?P<done>\d+)/(?P<total>\d+)"
        r"|Rendering (?P<edone>\d+) / (?P<etotal>\d+) samples)$"
    )
    SAVED = re.compile(r"^Saved: '(?P<path>.+)'", re.MULTILINE)

    def __init__(self, task: RenderTask) -> None:
        super().__init__(task)
        self.total = max(len(task.frames), 1)
        self.saved: list[str] = []

    def feed(self, line: str) -> bool:
        if line.startswith("Saved:"):
            match = self.SAVED.match(line)
            if match:
                self.saved.append(match.group("path"))
            self.frames_done += 1
            return self._set(self.frames_done / self.total)
        if line.startswith("Fra:"):
            sample = self.SAMPLE.search(line)
            if sample:
                done = int(sample.group("done") or sample.group("edone"))
                total = int(sample.group("total") or sample.group("etotal"))
                within = done / total if total else 0.0
                return self._set((self.frames_done + within) / self.total)
            return False
        error = ERROR_LINE.match(line)
        if error:
            self.errors.append(error.group("reason").strip())
        return False

    def _set(self, fraction: float) -> bool:
        fraction = min(fraction, 1.0)
        changed = fraction > self.fraction
        self.fraction = max(self.fraction, fraction)
        return changed

    def finish(self, returncode: int) -> None:
        expected = len(self.task.frames)
        if self.frames_done >= expected and returncode == 0:
            return
        if self.errors:
            raise EngineError(self.errors[-1])
        if returncode != 0:
            raise EngineError(f"Blender exited with code {returncode}")
        raise EngineError(f"Blender saved {self.frames_done} of {expected} frames")


class _EncodeTracker(Tracker):
    """Reads FFmpeg's ``-progress`` lines; other lines may be its reason to fail."""

    FRAME = re.compile(r"^frame=(?P<frame>\d+)$")
    KEY_VALUE = re.compile(r"^[a-z_0-9]+=")

    def __init__(self, task: RenderTask, total_frames: int) -> None:
        super().__init__(task)
        self.total = max(total_frames, 1)

    def feed(self, line: str) -> bool:
        match = self.FRAME.match(line)
        if match:
            self.fraction = min(int(match.group("frame")) / self.total, 1.0)
            return True
        message = line.strip()
        progress = self.KEY_VALUE.match(message)
        if message and not progress and message not in GENERIC_FAILURES:
            self.errors.append(message)
        return False

    def finish(self, returncode: int) -> None:
        if returncode != 0:
            reason = self.errors[-1] if self.errors else f"exit code {returncode}"
            raise EngineError(f"encoding the frames failed: {reason}")
