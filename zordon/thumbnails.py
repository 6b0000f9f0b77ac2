"""JPEG stills of one output file: an image, an OpenEXR frame or a video.

Pillow reads the usual images. FFmpeg decodes OpenEXR into linear floats,
which are tone-mapped here (extended Reinhard, with the brightest value in
the frame as white, then the sRGB gamma), so a frame with highlights above
1.0 is neither clipped white nor left dark. A frame whose values all stay
at or below 1.0 comes out as it would on screen in Blender.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from PIL import Image, ImageMath, UnidentifiedImageError

from zordon.errors import PreviewError

logger = logging.getLogger(__name__)

EXR_SUFFIX = ".exr"
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".exr")
JPEG_QUALITY = 85
FFMPEG_TIMEOUT_S = 60
DISPLAY_GAMMA = 2.2
FLOAT_BYTES = 4
# Frames a video thumbnail is chosen from (FFmpeg's "thumbnail" filter).
VIDEO_SAMPLE_FRAMES = 50


class Tools:
    """Where FFmpeg and ffprobe are; without them EXR and video give errors."""

    def __init__(self, ffmpeg: str | None, ffprobe: str | None) -> None:
        self.ffmpeg_path = ffmpeg
        self.ffprobe_path = ffprobe

    def ffmpeg(self, args: list[str], what: str, cwd: Path | None = None) -> bytes:
        """Run FFmpeg on ``what``; its output, or :class:`PreviewError` with why."""
        return _run("ffmpeg", self.ffmpeg_path, args, what, cwd)

    def ffprobe(self, args: list[str], what: str) -> bytes:
        return _run("ffprobe", self.ffprobe_path, args, what, None)


def _run(
    name: str, program: str | None, args: list[str], what: str, cwd: Path | None
) -> bytes:
    if program is None:
        raise PreviewError(f"{name} is not installed, needed for {what}")
    try:
        done = subprocess.run(
            [program, "-v", "error", *args],
            capture_output=True,
            cwd=cwd,
            timeout=FFMPEG_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PreviewError(f"{name} failed on {what}: {exc}") from exc
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise PreviewError(f"{name} cannot read {what}: {reason}")
    return done.stdout


def save_still(source: Path, target: Path, max_px: int, tools: Tools) -> None:
    """A JPEG of ``source`` no larger than ``max_px`` either way, at ``target``."""
    suffix = source.suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        _video_still(source, target, max_px, tools)
        return
    image = _exr_image(source, tools) if suffix == EXR_SUFFIX else _open(source)
    image.thumbnail((max_px, max_px))
    image.save(target, "JPEG", quality=JPEG_QUALITY)


def _open(source: Path) -> Image.Image:
    try:
        with Image.open(source) as image:
            image.load()
            return _to_rgb(image)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise PreviewError(f"cannot read {source.name}: {exc}") from exc


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB; 16- and 32-bit greys are scaled down, not clipped white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        image = image.convert("I")
    if image.mode == "I":
        image = image.point(lambda value: value * (1 / 256)).convert("L")
    return image.convert("RGB")


def _exr_image(source: Path, tools: Tools) -> Image.Image:
    width, height = _frame_size(source, tools)
    args = ["-i", str(source), "-frames:v", "1"]
    args += ["-f", "rawvideo", "-pix_fmt", "gbrpf32le", "-"]
    raw = tools.ffmpeg(args, source.name)
    plane_bytes = width * height * FLOAT_BYTES
    if len(raw) < 3 * plane_bytes:
        raise PreviewError(f"ffmpeg gave too little data for {source.name}")
    green, blue, red = (
        Image.frombytes("F", (width, height), raw[n * plane_bytes :], "raw", "F;32F")
        for n in range(3)
    )
    return Image.merge("RGB", tone_map([red, green, blue]))


def tone_map(channels: list[Image.Image]) -> list[Image.Image]:
    """Linear float channels ("F" images) to 8-bit ones ready to show."""
    brightest = max(channel.getextrema()[1] for channel in channels)
    white = max(1.0, float(brightest))
    return [_tone_map_channel(channel, white) for channel in channels]


def _tone_map_channel(channel: Image.Image, white: float) -> Image.Image:
    def curve(ops: dict) -> object:
        value = ops["max"](ops["c"], 0.0)  # negatives and NaN become black
        mapped = value * (1 + value / (white * white)) / (1 + value)
        return (mapped ** (1 / DISPLAY_GAMMA)) * 255

    mapped = ImageMath.lambda_eval(curve, c=channel)
    assert isinstance(mapped, Image.Image)
    return mapped.convert("L")


def _frame_size(source: Path, tools: Tools) -> tuple[int, int]:
    args = ["-select_streams", "v:0", "-show_entries", "stream=width,height"]
    args += ["-of", "csv=p=0", str(source)]
    out = tools.ffprobe(args, source.name)
    try:
        width, height = (int(part) for part in out.decode().strip().split(",")[:2])
    except ValueError as exc:
        raise PreviewError(f"ffprobe gave no size for {source.name}") from exc
    return width, height


def _video_still(source: Path, target: Path, max_px: int, tools: Tools) -> None:
    fit = (
        f"scale='min({max_px},iw)':'min({max_px},ih)'"
        ":force_original_aspect_ratio=decrease"
    )
    args = ["-y", "-i", str(source), "-frames:v", "1"]
    args += ["-vf", f"thumbnail={VIDEO_SAMPLE_FRAMES},{fit}", "-f", "image2"]
    tools.ffmpeg([*args, str(target)], source.name)
