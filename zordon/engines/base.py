"""The shared shape of an engine adapter.

An adapter knows how to find its program, read facts from an input file,
check the arguments a user passes, turn a :class:`RenderTask` into the
processes to run, and read progress from their output.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from zordon.errors import EngineError, EngineUnavailable, InvalidRequest

logger = logging.getLogger(__name__)

VERSION_TIMEOUT_S = 15


@dataclasses.dataclass(frozen=True)
class RenderTask:
    """One engine run: which file, which frames, which arguments, where to."""

    job_id: str
    input_path: Path
    output_dir: Path
    start_frame: int
    end_frame: int
    frame_step: int = 1
    args: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    facts: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    frame_list: tuple[int, ...] | None = None

    @property
    def frames(self) -> Sequence[int]:
        if self.frame_list:
            return self.frame_list
        return range(self.start_frame, self.end_frame + 1, self.frame_step)


@dataclasses.dataclass
class ProjectInfo:
    """Facts read from an input file before anything renders."""

    start_frame: int | None = None
    end_frame: int | None = None
    frame_step: int = 1
    fps: float | None = None
    facts: dict[str, Any] = dataclasses.field(default_factory=dict)


class Tracker(ABC):
    """Reads one engine process's output, line by line."""

    def __init__(self, task: RenderTask) -> None:
        self.task = task
        self.fraction = 0.0
        self.frames_done = 0
        self.errors: list[str] = []

    @abstractmethod
    def feed(self, line: str) -> bool:
        """Take one output line; True when ``fraction`` changed."""

    def finish(self, returncode: int) -> None:
        """Raise :class:`EngineError` with the engine's reason if the run failed."""
        if self.errors:
            raise EngineError(self.errors[-1])
        if returncode != 0:
            raise EngineError(f"engine exited with code {returncode}")


@dataclasses.dataclass
class Step:
    """One process of a task, with its share of the task's progress."""

    label: str
    argv: list[str]
    tracker: Tracker
    weight: float = 1.0


ERROR_LINE = re.compile(r"^(?:Error|ERROR)\s*:\s*(?P<reason>.+)$")


class Engine(ABC):
    """A render engine found on this machine."""

    name: ClassVar[str]
    program: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]
    version_pattern: ClassVar[re.Pattern[str]]
    # Groups of arguments of which a job gives at most one.
    rival_args: ClassVar[tuple[tuple[str, ...], ...]] = ()

    def __init__(
        self,
        path: str | None = None,
        version: str | None = None,
        folder: Path | None = None,
    ) -> None:
        self._path = path or None
        # Set for a version Zordon downloaded and manages in ``folder``.
        self.folder = folder
        if version:
            self.__dict__["version"] = version  # known already: no need to ask

    @property
    def managed(self) -> bool:
        return self.folder is not None

    @property
    def path(self) -> str | None:
        """The engine's executable, or None when it is not installed."""
        return self._path or shutil.which(self.program)

    def require_path(self) -> str:
        path = self.path
        if path is None:
            raise EngineUnavailable(f"{self.name} is not installed on this server")
        return path

    @functools.cached_property
    def version(self) -> str | None:
        """The installed version, asked of the program once."""
        if self.path is None:
            return None
        try:
            out = subprocess.run(
                [self.path, *self.version_argv()],
                capture_output=True,
                text=True,
                timeout=VERSION_TIMEOUT_S,
                check=False,
            ).stdout
        except (OSError, subprocess.TimeoutExpired) as exc:
            logger.warning("%s: cannot read version: %s", self.name, exc)
            return None
        match = self.version_pattern.search(out)
        return match.group("version") if match else None

    def handles(self, filename: str) -> bool:
        return filename.lower().endswith(self.extensions)

    @abstractmethod
    def version_argv(self) -> list[str]:
        """Arguments that make the program print its version."""

    @abstractmethod
    def accepted_args(self) -> dict[str, str]:
        """Each argument a job may pass, with a line on what it takes."""

    @abstractmethod
    def validate_args(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Return the arguments normalised, or raise :class:`InvalidRequest`."""

    @abstractmethod
    def probe(
        self, input_path: Path, args: Mapping[str, Any] | None = None
    ) -> ProjectInfo:
        """Read facts from the input file (for the job's ``args``), quickly."""

    @abstractmethod
    def plan(self, task: RenderTask) -> list[Step]:
        """The processes that render ``task``, in order."""

    def check_frames(
        self, frames: Sequence[int], listed: bool, info: ProjectInfo
    ) -> None:
        """Raise :class:`InvalidRequest` for frames this input cannot give."""
        return None  # any frame is fine unless an engine knows better

    def merge_args(
        self, base: Mapping[str, Any], override: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``base`` (a preset's arguments) with ``override`` over it.

        An argument of ``base`` that rivals one ``override`` sets is dropped,
        so a job's ``bitrate`` replaces a preset's ``crf``.
        """
        merged = dict(base)
        for group in self.rival_args:
            if set(group) & set(override):
                for name in group:
                    merged.pop(name, None)
        merged.update(override)
        return merged

    def split_args(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments a child of a split job gets; the parent does the rest."""
        return dict(args)

    def join_steps(self, task: RenderTask, pieces: list[Path]) -> list[Step]:
        """What the parent runs once every child's output is home."""
        return []

    def output_files(self, output_dir: Path) -> list[Path]:
        """What a finished run left in its output folder, sorted by name."""
        if not output_dir.is_dir():
            return []
        return sorted(p for p in output_dir.iterdir() if p.is_file())

    def export_formats(self) -> list[str]:
        """The output formats a job can ask for."""
        return []

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "version": self.version,
            "extensions": list(self.extensions),
        }

    def describe_version(self) -> dict[str, Any]:
        """This installation, as one entry of the engine's ``versions``."""
        return {"version": self.version, "path": self.path, "managed": self.managed}


def reject_unknown(engine: str, args: Mapping[str, Any], known: Sequence[str]) -> None:
    """Raise :class:`InvalidRequest` naming every argument not in ``known``."""
    unknown = sorted(set(args) - set(known))
    if unknown:
        raise InvalidRequest(
            f"{engine} does not accept argument(s) {', '.join(unknown)}; "
            f"it accepts {', '.join(sorted(known))}"
        )


def int_arg(name: str, value: Any, low: int, high: int) -> int:
    """An integer argument within [low, high], or :class:`InvalidRequest`."""
    if isinstance(value, bool):
        raise InvalidRequest(f"{name} must be an integer, not {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise InvalidRequest(f"{name} must be an integer, not {value!r}") from exc
    if not low <= number <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}")
    return number


def choice_arg(name: str, value: Any, choices: Sequence[str]) -> str:
    """One of ``choices`` (case-insensitive), in its canonical spelling."""
    by_lower = {c.lower(): c for c in choices}
    picked = by_lower.get(str(value).strip().lower())
    if picked is None:
        raise InvalidRequest(f"{name} must be one of {', '.join(choices)}")
    return picked


def bool_arg(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidRequest(f"{name} must be true or false, not {value!r}")
