"""Previews of a job's output, kept in the job's ``previews/`` folder.

:meth:`PreviewCache.image` is a JPEG of the newest frame, 320 px (1280 px
when big). :meth:`PreviewCache.video` is an MP4 of the frames so far, or,
for a job that made a video, its first seconds, small. Each preview is kept
on disk with a note of the frames it shows. A request gets the kept one at
once; when new frames have arrived since, a rebuild starts in the
background and a later request gets it. Only a job without a preview yet
waits, for its first one.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from zordon.errors import NotFound, PreviewError
from zordon.jobs.model import Job
from zordon.jobs.outputs import list_files
from zordon.jobs.status import JobStatus
from zordon.thumbnails import IMAGE_SUFFIXES, VIDEO_SUFFIXES, Tools, save_still

logger = logging.getLogger(__name__)

SMALL_PX = 320
BIG_PX = 1280
VIDEO_PX = 640
PREVIEW_FPS = 24  # for a job whose file names no frame rate of its own
MAX_FPS = 240
CLIP_S = 10
BUILD_WORKERS = 2
# The newest frame may still be being written: try a few before giving up.
STILL_TRIES = 3
KEY_SUFFIX = ".key"
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")
ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "26"]
ENCODE += ["-pix_fmt", "yuv420p", "-movflags", "+faststart", "-an"]

Builder = Callable[[Path], None]


class PreviewCache:
    """Builds previews on a few background threads, each once per set of frames."""

    def __init__(self, tools: Tools, workers: int = BUILD_WORKERS) -> None:
        self.tools = tools
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="preview")
        self._lock = threading.Lock()
        self._builds: dict[Path, Future[Path]] = {}
        self._failed: dict[Path, tuple[str, str]] = {}

    def image(self, job: Job, big: bool = False) -> Path:
        """A JPEG of the newest frame; :class:`NotFound` before the first."""
        sources = frames(job) or finished_videos(job)
        if not sources:
            raise NotFound(f"job {job.id} has no frames yet")
        newest = sorted(sources, key=_mtime, reverse=True)[:STILL_TRIES]
        size = BIG_PX if big else SMALL_PX
        target = job.folder / "previews" / f"thumb-{'big' if big else 'small'}.jpg"
        return self._cached(
            target, _key(newest[:1]), lambda out: self._still(newest, out, size)
        )

    def video(self, job: Job) -> Path | None:
        """An MP4 of the frames so far, or of a finished video; None if neither."""
        target = job.folder / "previews" / "preview.mp4"
        images = frames(job)
        if len(images) >= 2:
            build = functools.partial(self._frames_video, images, _fps(job))
            return self._cached(target, _key(images), build)
        videos = finished_videos(job)
        if videos:
            return self._cached(
                target, _key(videos[-1:]), lambda out: self._clip(videos[-1], out)
            )
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _cached(self, target: Path, key: str, build: Builder) -> Path:
        if target.exists():
            if _stored_key(target) != key:
                self._start(target, key, build)
            return target
        return self._start(target, key, build).result()

    def _start(self, target: Path, key: str, build: Builder) -> Future[Path]:
        with self._lock:
            self._builds = {p: f for p, f in self._builds.items() if not f.done()}
            running = self._builds.get(target)
            if running is not None:
                return running
            failed_key, reason = self._failed.get(target, ("", ""))
            if failed_key == key:
                # The same frames failed before; fail fast instead of retrying.
                done: Future[Path] = Future()
                done.set_exception(PreviewError(reason))
                return done
            future = self._pool.submit(self._build, target, key, build)
            self._builds[target] = future
            return future

    def _build(self, target: Path, key: str, build: Builder) -> Path:
        partial = target.with_name(f"{target.stem}.part{target.suffix}")
        try:
            _write(target, partial, build)
        except PreviewError as exc:
            logger.warning("preview %s not made: %s", target, exc)
            with self._lock:
                self._failed[target] = (key, str(exc))
            raise
        finally:
            partial.unlink(missing_ok=True)
        target.with_name(target.name + KEY_SUFFIX).write_text(key)
        with self._lock:
            self._failed.pop(target, None)
        logger.debug("preview %s made", target)
        return target

    def _still(self, sources: Sequence[Path], out: Path, size: int) -> None:
        errors = []
        for source in sources:
            try:
                save_still(source, out, size, self.tools)
                return
            except PreviewError as exc:
                errors.append(str(exc))
        raise PreviewError(errors[0])

    def _frames_video(self, images: Sequence[Path], fps: float, out: Path) -> None:
        """Each frame as a small JPEG (made once), then those joined into an MP4
        that plays at ``fps``."""
        folder = out.parent / "frames"
        folder.mkdir(exist_ok=True)
        made = [still for source in images if (still := self._frame(source, folder))]
        if not made:
            raise PreviewError(f"none of the {len(images)} frames could be read")
        for stale in set(folder.glob("*.jpg")) - set(made):
            stale.unlink(missing_ok=True)
        even = "scale=trunc(iw/2)*2:trunc(ih/2)*2"
        args = ["-y", "-framerate", f"{fps:g}", "-pattern_type", "glob"]
        args += ["-i", "*.jpg", "-vf", even, *ENCODE, str(out)]
        self.tools.ffmpeg(args, "the preview frames", cwd=folder)

    def _frame(self, source: Path, folder: Path) -> Path | None:
        still = folder / (UNSAFE_NAME.sub("_", source.name) + ".jpg")
        if still.exists() and _mtime(still) >= _mtime(source):
            return still
        partial = folder / "frame.part"
        try:
            save_still(source, partial, VIDEO_PX, self.tools)
        except PreviewError as exc:
            logger.debug("frame %s left out of the preview: %s", source.name, exc)
            return None
        partial.replace(still)
        return still

    def _clip(self, source: Path, out: Path) -> None:
        """The first ``CLIP_S`` seconds of a video, at most ``VIDEO_PX`` wide."""
        fit = f"scale='trunc(min({VIDEO_PX},iw)/2)*2':-2"
        args = ["-y", "-t", str(CLIP_S), "-i", str(source)]
        args += ["-vf", fit, *ENCODE, str(out)]
        self.tools.ffmpeg(args, source.name)


def _write(target: Path, partial: Path, build: Builder) -> None:
    """Build into ``partial``, then put it in place; a full disk is a PreviewError."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        build(partial)
        partial.replace(target)
    except OSError as exc:
        raise PreviewError(f"cannot write {target.name}: {exc}") from exc


def frames(job: Job) -> list[Path]:
    """The job's image outputs that have any bytes, sorted by name."""
    return [p for p in list_files(job) if _is(p, IMAGE_SUFFIXES)]


def finished_videos(job: Job) -> list[Path]:
    """The job's video outputs, once it has completed (before, they are partial)."""
    if job.status != JobStatus.COMPLETED:
        return []
    return [p for p in list_files(job) if _is(p, VIDEO_SUFFIXES)]


def _is(path: Path, suffixes: tuple[str, ...]) -> bool:
    return path.suffix.lower() in suffixes and path.stat().st_size > 0


def _fps(job: Job) -> float:
    """The frame rate the job's file names (a Blender scene's), else 24."""
    fps = (job.facts or {}).get("fps")
    if isinstance(fps, int | float) and 1 <= fps <= MAX_FPS:
        return float(fps)
    return PREVIEW_FPS


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns


def _key(sources: Sequence[Path]) -> str:
    """What the preview was made from: names, sizes and times of its sources."""
    digest = hashlib.sha256()
    for path in sources:
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _stored_key(target: Path) -> str | None:
    try:
        return target.with_name(target.name + KEY_SUFFIX).read_text()
    except FileNotFoundError:
        return None
