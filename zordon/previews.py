"""Thumbnails of a job's newest output, made with Pillow (images) or FFmpeg."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from zordon.jobs.model import Job
from zordon.jobs.outputs import list_files

logger = logging.getLogger(__name__)

SMALL_PX = (320, 320)
BIG_PX = (1280, 1280)
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm")
FRAME_GRAB_TIMEOUT_S = 30


def thumbnail(job: Job, big: bool = False) -> Path | None:
    """A JPEG of the newest output image (or a video's first frame), cached."""
    source = _newest_output(job)
    if source is None:
        return None
    target = job.folder / "previews" / f"thumb-{'big' if big else 'small'}.jpg"
    if _fresh(target, source):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix.lower() in VIDEO_SUFFIXES:
        return _video_frame(source, target, BIG_PX if big else SMALL_PX)
    return _image_thumb(source, target, BIG_PX if big else SMALL_PX)


def video_preview(job: Job) -> Path | None:
    """The job's output video itself, when it made one in an MP4."""
    videos = [p for p in list_files(job) if p.suffix.lower() == ".mp4"]
    return videos[-1] if videos else None


def _newest_output(job: Job) -> Path | None:
    files = [p for p in list_files(job) if p.suffix.lower() != ".exr"]
    return max(files, key=lambda p: p.stat().st_mtime, default=None)


def _fresh(target: Path, source: Path) -> bool:
    return target.exists() and target.stat().st_mtime >= source.stat().st_mtime


def _image_thumb(source: Path, target: Path, size: tuple[int, int]) -> Path | None:
    try:
        with Image.open(source) as image:
            image.thumbnail(size)
            image.convert("RGB").save(target, "JPEG", quality=85)
    except (UnidentifiedImageError, OSError) as exc:
        logger.info("no thumbnail from %s: %s", source.name, exc)
        return None
    return target


def _video_frame(source: Path, target: Path, size: tuple[int, int]) -> Path | None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    scale = f"scale='min({size[0]},iw)':-2"
    argv = [ffmpeg, "-v", "error", "-y", "-i", str(source), "-frames:v", "1"]
    argv += ["-vf", scale, str(target)]
    try:
        subprocess.run(argv, check=True, timeout=FRAME_GRAB_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        logger.info("no thumbnail from %s: %s", source.name, exc)
        return None
    return target
