"""What a server does with jobs: take them in, cancel them, delete them.

The API routes and the cluster code call this; it keeps the store, the
runner and the job folders in step.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import shutil
import socket
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from werkzeug.utils import secure_filename

from zordon.engines import Engine, EngineRegistry
from zordon.errors import InvalidRequest
from zordon.jobs.blobs import BlobStore, check_manifest, safe_relpath
from zordon.jobs.model import Job, new_job_id
from zordon.jobs.runner import Runner
from zordon.jobs.status import JobStatus
from zordon.jobs.store import JobStore
from zordon.presets import PresetBook

logger = logging.getLogger(__name__)

JOB_FIELDS = {
    "name",
    "renderer",
    "engine",
    "engine_version",
    "start_frame",
    "end_frame",
    "frame_step",
    "args",
    "enable_split_jobs",
    "child_jobs",
    "local_path",
    "parent",
    "files",
    "main_file",
    "frames",
    "preset",
}
MAX_FRAME = 1_048_574  # Blender's MAXFRAME
MAX_LISTED_FRAMES = 10_000
MAX_NAME = 200
INTEGER = re.compile(r"-?\d{1,9}")


@dataclass
class Upload:
    """A file that came with the request: its name and a stream of its bytes."""

    filename: str
    stream: BinaryIO


class JobQueue:
    """The jobs of one server: intake, cancel, delete, history."""

    def __init__(
        self,
        store: JobStore,
        runner: Runner,
        jobs_dir: Path,
        blobs: BlobStore,
        presets: PresetBook | None = None,
    ) -> None:
        self.store = store
        self.presets = presets or PresetBook()
        self.runner = runner
        self.engines: EngineRegistry = runner.engines
        self.jobs_dir = jobs_dir
        self.blobs = blobs
        # The cluster sets these when it runs; until then split jobs run here.
        self.split_jobs = False
        self.on_submit: list[Callable[[list[Job]], None]] = []
        self.known_servers: Callable[[], set[str]] = set
        self.on_cancel: list[Callable[[Job], None]] = []
        self.on_delete: list[Callable[[Job], None]] = []

    def submit(
        self,
        specs: list[Mapping[str, Any]],
        upload: Upload | None = None,
        local_allowed: bool = False,
        client_addr: str | None = None,
    ) -> list[Job]:
        """Check every spec, then create all the jobs, or none."""
        if not specs:
            raise InvalidRequest("the request holds no job")
        staged = self._stage(upload) if upload is not None else None
        planned: list[tuple[Job, _Input]] = []
        try:
            for spec in specs:
                planned.append(self._plan(spec, staged, local_allowed, client_addr))
            for job, source in planned:
                source.place(job.folder / "input", self.blobs)
        except BaseException:
            for job, _ in planned:
                shutil.rmtree(job.folder, ignore_errors=True)
            raise
        finally:
            if staged is not None:
                shutil.rmtree(staged.parent, ignore_errors=True)
        jobs = self.store.add_all([job for job, _ in planned])
        self.runner.wake()
        for hook in self.on_submit:
            hook(jobs)
        return jobs

    def _stage(self, upload: Upload) -> Path:
        """Save an upload once, outside any job folder, to probe and copy it."""
        name = _upload_name(upload)
        folder = self.jobs_dir / ".incoming" / new_job_id()
        folder.mkdir(parents=True)
        path = folder / name
        with open(path, "wb") as out:
            shutil.copyfileobj(upload.stream, out, length=1 << 20)
        if path.stat().st_size == 0:
            shutil.rmtree(folder, ignore_errors=True)
            raise InvalidRequest("the uploaded file is empty")
        return path

    def _plan(
        self,
        spec: Mapping[str, Any],
        staged: Path | None,
        local_allowed: bool,
        client_addr: str | None,
    ) -> tuple[Job, _Input]:
        """Build one job from its spec, and say where its input comes from."""
        if not isinstance(spec, Mapping):
            raise InvalidRequest("each job must be a JSON object")
        unknown = sorted(set(spec) - JOB_FIELDS)
        if unknown:
            raise InvalidRequest(f"unknown job field(s): {', '.join(unknown)}")

        source = self._input(spec, staged, local_allowed)
        engine, version = self._engine_for(spec, source.name)
        if source.in_place and not engine.handles(source.name):
            raise InvalidRequest(
                f"{engine.name} does not render {source.name!r}: a local_path must "
                f"end in {', '.join(engine.extensions)}"
            )
        args = spec.get("args") or {}
        if not isinstance(args, Mapping):
            raise InvalidRequest("args must be a JSON object")
        if spec.get("preset") is not None:
            args = self.presets.apply(spec["preset"], engine, args)
        args = engine.validate_args(args)
        info = engine.probe(source.probe_path, args)

        job_id = new_job_id()
        folder = self.jobs_dir / job_id
        job = Job(
            id=job_id,
            name=_name(spec.get("name"), PurePosixPath(source.name).name),
            renderer=engine.name,
            engine_version=version,
            input_path=str(source.input_path(folder / "input")),
            output_path=str(folder / "output"),
            args=args,
            facts=info.facts,
            enable_split_jobs=_flag(spec.get("enable_split_jobs", False)),
            parent=_parent(spec.get("parent"), client_addr),
            children=[],
            status=JobStatus.NOT_STARTED.value,
            progress=0.0,
            frames_done=0,
            error="",
        )
        job.start_frame, job.end_frame, job.frame_step = _frames(spec, info)
        if spec.get("frames") is not None:
            job.frame_list = _frame_list(spec["frames"])
            job.start_frame, job.end_frame = job.frame_list[0], job.frame_list[-1]
            job.frame_step = 1
        engine.check_frames(job.frames, job.frame_list is not None, info)
        if job.enable_split_jobs and self.split_jobs:
            job.status = JobStatus.WAITING_FOR_SUBJOBS.value
            job.children = _planned_children(
                spec.get("child_jobs"), job, self.known_servers()
            )
        return job, source

    def _input(
        self, spec: Mapping[str, Any], staged: Path | None, local_allowed: bool
    ) -> _Input:
        if spec.get("files"):
            files = check_manifest(spec["files"])
            main = safe_relpath(spec.get("main_file") or "").as_posix()
            if main not in files:
                raise InvalidRequest(f"main_file {main!r} is not among the files")
            probe_path = self.blobs.path(files[main])
            if not probe_path.exists():
                raise InvalidRequest(f"upload {main!r} to /api/cache first")
            if probe_path.stat().st_size == 0:
                raise InvalidRequest(f"{main!r} is empty")
            return _Input(main, probe_path, files=files)
        local = _local_source(spec, local_allowed)
        if local is not None:
            return _Input(local.name, local, in_place=True)
        if staged is None:
            raise InvalidRequest("send the input as a file field, or give local_path")
        return _Input(staged.name, staged)

    def _engine_for(
        self, spec: Mapping[str, Any], filename: str
    ) -> tuple[Engine, str | None]:
        """The engine to check the job with, and the version it will render with."""
        name = spec.get("renderer") or spec.get("engine")
        if name:
            engine = self.engines.get(str(name))
        else:
            engine = self.engines.for_filename(filename)
        if engine is None:
            raise InvalidRequest(f"no engine renders {filename!r}; name a renderer")
        wanted = spec.get("engine_version")
        if wanted in (None, ""):
            return engine, engine.version
        return self.engines.prepare(engine.name, wanted)

    def render_again(self, job_id: str) -> Job:
        """A new job with the input, frames and arguments of ``job_id``."""
        old = self.store.get(job_id)
        spec: dict[str, Any] = {
            "name": old.name,
            "renderer": old.renderer,
            "start_frame": old.start_frame,
            "end_frame": old.end_frame,
            "frame_step": old.frame_step,
            "args": old.args,
            "enable_split_jobs": old.enable_split_jobs,
        }
        if old.frame_list:
            spec["frames"] = old.frame_list
        spec.update(self._same_input(old))
        job = self.submit([spec], local_allowed=True)[0]
        logger.info("job %s: renders job %s again", job.id, old.id)
        return job

    def _same_input(self, job: Job) -> dict[str, Any]:
        """Job fields that name ``job``'s input again: a manifest, or its path."""
        input_dir = job.folder / "input"
        main = Path(job.input_path)
        if not main.is_file():
            raise InvalidRequest(f"the input of job {job.id} is gone")
        if not main.is_relative_to(input_dir):
            # A local_path job, accepted from this machine when it was made.
            return {"local_path": str(main)}
        files = {
            path.relative_to(input_dir).as_posix(): self.blobs.adopt(path)
            for path in sorted(input_dir.rglob("*"))
            if path.is_file() and not path.is_symlink()
        }
        return {"files": files, "main_file": main.relative_to(input_dir).as_posix()}

    def cancel(self, job_id: str) -> Job:
        job = self.store.get(job_id)
        if job.job_status.finished:
            return job
        self.runner.cancel(job_id)
        try:
            job = self.store.set_status(job_id, JobStatus.CANCELLED)
        except InvalidRequest:
            return self.store.get(job_id)  # it finished just now: too late to cancel
        for hook in self.on_cancel:
            hook(job)
        return job

    def delete(self, job_id: str) -> None:
        """Stop the job, forget it, and remove the folder Zordon made for it."""
        job = self.store.get(job_id)
        if not job.job_status.finished:
            self.cancel(job_id)
        self.store.delete(job_id)
        for hook in self.on_delete:
            hook(job)
        self._remove_folder(job)

    def clear_history(self) -> int:
        jobs = self.store.clear_history()
        for job in jobs:
            self._remove_folder(job)
        return len(jobs)

    def _remove_folder(self, job: Job) -> None:
        folder = job.folder.resolve()
        if folder.parent != self.jobs_dir.resolve():
            logger.warning(
                "job %s: folder %s is not ours, left in place", job.id, folder
            )
            return
        shutil.rmtree(folder, ignore_errors=True)
        logger.info("job %s: deleted with its folder", job.id)


def _local_source(spec: Mapping[str, Any], local_allowed: bool) -> Path | None:
    """A file on this machine, rendered where it is: only a regular file named
    by its absolute path, and only for a request from this machine."""
    local = spec.get("local_path")
    if not local:
        return None
    if not local_allowed:
        raise InvalidRequest("local_path is accepted only from this machine")
    text = str(local)
    if "\x00" in text or not Path(text).is_absolute():
        raise InvalidRequest(f"local_path {local!r} must be an absolute path")
    path = Path(text).resolve()
    if not path.is_file():
        raise InvalidRequest(f"local_path {local!r} is not a file")
    if path.stat().st_size == 0:
        raise InvalidRequest(f"local_path {local!r} is empty")
    return path


@dataclass
class _Input:
    """Where a job's input comes from: an upload, a local file, or a manifest."""

    name: str
    probe_path: Path
    files: dict[str, str] | None = None
    in_place: bool = False

    def input_path(self, input_dir: Path) -> Path:
        return self.probe_path if self.in_place else input_dir / self.name

    def place(self, input_dir: Path, blobs: BlobStore) -> None:
        if self.in_place:
            return
        if self.files is not None:
            blobs.lay_out(self.files, input_dir)
            return
        target = self.input_path(input_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.hardlink_to(self.probe_path)
        except OSError:
            shutil.copyfile(self.probe_path, target)


def _planned_children(value: Any, job: Job, known: set[str]) -> list[dict[str, Any]]:
    """A hand-made split: ``[{"server": URL, "start_frame": a, "end_frame": b}]``.

    Each server must be this one (``self``) or a peer it knows: a request
    cannot make a server send files to, or fetch frames from, any address.
    """
    if not value:
        return []
    if not isinstance(value, list):
        raise InvalidRequest("child_jobs must be a list")
    planned: list[dict[str, Any]] = []
    taken: set[int] = set()
    for entry in value:
        if not isinstance(entry, Mapping) or not str(entry.get("server", "")):
            raise InvalidRequest("each child job needs a server URL")
        start, end, _ = _frames(entry, None)
        frames = [f for f in job.frames if start <= f <= end]
        if start < job.start_frame or end > job.end_frame or set(frames) & taken:
            raise InvalidRequest(
                f"child frames {start}-{end} overlap another or leave the job's range"
            )
        if not frames:
            raise InvalidRequest(f"child frames {start}-{end} hold none of the job's")
        taken.update(frames)
        server = str(entry["server"]).rstrip("/")
        if server not in ("self", "local", *known):
            raise InvalidRequest(f"{server!r} is not this server or a known peer")
        first, last = frames[0], frames[-1]
        planned.append(
            {
                "server": server,
                "start_frame": first,
                "end_frame": last,
                "frames": frames,
            }
        )
    return planned


def _parent(value: Any, client_addr: str | None) -> str | None:
    """A child's parent, as ``JOB_ID@URL`` of the server that split it.

    The URL must name the machine the request came from, so that nobody can
    point a server's status reports at a third address.
    """
    if value is None:
        return None
    job_id, sep, url = str(value).partition("@")
    host = urllib.parse.urlsplit(url).hostname
    if not sep or not job_id or not url.startswith(("http://", "https://")) or not host:
        raise InvalidRequest("parent must look like JOB_ID@http://host:port")
    if client_addr is not None and not _same_host(host, client_addr):
        raise InvalidRequest(f"parent {url} is not the machine that sent the job")
    return str(value)


def _same_host(host: str, client_addr: str) -> bool:
    try:
        client = ipaddress.ip_address(client_addr)
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (ValueError, OSError):
        return False
    named = {ipaddress.ip_address(a.split("%")[0]) for a in addresses}
    if client.is_loopback:
        return any(a.is_loopback for a in named)
    return client in named


def _name(value: Any, default: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str) or len(value) > MAX_NAME or not value.isprintable():
        raise InvalidRequest(
            f"name must be printable text of at most {MAX_NAME} characters"
        )
    return value


def _upload_name(upload: Upload) -> str:
    name = secure_filename(upload.filename or "")
    if not name or name.startswith("."):
        raise InvalidRequest("the uploaded file has no usable name")
    if len(name) > MAX_NAME:
        raise InvalidRequest(f"the uploaded file's name is over {MAX_NAME} characters")
    return name


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _frames(spec: Mapping[str, Any], info: Any) -> tuple[int, int, int]:
    """start, end and step: from the request, else from the file, else 1."""
    start = _frame_number(spec, "start_frame", getattr(info, "start_frame", None))
    end = _frame_number(spec, "end_frame", getattr(info, "end_frame", None))
    step = _frame_number(spec, "frame_step", getattr(info, "frame_step", None))
    start = 1 if start is None else start
    end = start if end is None else end
    step = 1 if step is None else step
    if start < 0 or end < 0:
        # Blender reads a negative -s or -e as counted from the other end.
        raise InvalidRequest("frames must be 0 or more")
    if start > end:
        raise InvalidRequest(f"start_frame {start} is after end_frame {end}")
    if step < 1:
        raise InvalidRequest("frame_step must be 1 or more")
    return start, end, step


def _frame_list(value: Any) -> list[int]:
    """An explicit list of frames: distinct, 0 or more, rendered in order."""
    if not isinstance(value, list) or not value or len(value) > MAX_LISTED_FRAMES:
        raise InvalidRequest(
            f"frames must be a list of 1 to {MAX_LISTED_FRAMES} frames"
        )
    frames = [_frame_number({"frames": v}, "frames", None) for v in value]
    if any(f is None or f < 0 for f in frames) or len(set(frames)) != len(frames):
        raise InvalidRequest("frames must be distinct frame numbers of 0 or more")
    return sorted(f for f in frames if f is not None)


def _frame_number(spec: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = spec.get(key)
    if value is None:
        return default
    if isinstance(value, bool | float) or not INTEGER.fullmatch(str(value).strip()):
        raise InvalidRequest(f"{key} must be an integer, not {value!r}")
    number = int(str(value).strip())
    if abs(number) > MAX_FRAME:
        raise InvalidRequest(f"{key} must be between 0 and {MAX_FRAME}")
    return number
