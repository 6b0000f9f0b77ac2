"""The engines this server knows: every installed version, and downloads.

An engine may be installed several times: once from the system (the path in
the settings, else ``PATH``) and once per version Zordon downloaded into
``engines/`` in the data folder. Without a version asked for, a job gets the
newest one.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from pathlib import Path

from zordon.config import Config
from zordon.engines.base import Engine
from zordon.engines.blender import BlenderEngine
from zordon.engines.downloads import MARKER, DownloadFailed, Downloads
from zordon.engines.ffmpeg import FFmpegEngine
from zordon.engines.releases import (
    BlenderIndex,
    FFmpegIndex,
    Platform,
    Release,
    ReleaseIndex,
    check_version,
    version_key,
    version_matches,
)
from zordon.errors import EngineUnavailable, InvalidRequest, NotFound, ZordonError

logger = logging.getLogger(__name__)

ENGINE_CLASSES: dict[str, type[Engine]] = {
    "blender": BlenderEngine,
    "ffmpeg": FFmpegEngine,
}
PROGRAM_SEARCH_DEPTH = 3
LOOKUP_TTL_S = 300.0


class EngineRegistry:
    """Installed versions by engine name, kept fresh across downloads."""

    def __init__(self, config: Config) -> None:
        self.engines_dir = config.data_dir / "engines"
        self.downloads_allowed = config.engine_downloads
        self.indexes: dict[str, ReleaseIndex] = {
            "blender": BlenderIndex(config.blender_releases_url),
            "ffmpeg": FFmpegIndex(config.ffmpeg_releases_url),
        }
        self._system_paths = {
            "blender": config.blender_path,
            "ffmpeg": config.ffmpeg_path,
        }
        self._lock = threading.Lock()
        self._versions: dict[str, list[Engine]] = {}
        self._lookups: dict[tuple[str, str], tuple[float, bool]] = {}
        self.downloads = Downloads(self.engines_dir, self._check_program, self.refresh)
        self.refresh()

    # what is installed

    def refresh(self) -> None:
        """Look again at the system and at ``engines/`` for installed versions."""
        ffmpegs = self._scan("ffmpeg")
        ffmpeg = ffmpegs[0] if ffmpegs else FFmpegEngine()
        blenders = self._scan("blender", ffmpeg=ffmpeg)
        with self._lock:
            self._versions = {"blender": blenders, "ffmpeg": ffmpegs}

    @property
    def names(self) -> list[str]:
        """Names of the engines with a version installed; never runs a program."""
        with self._lock:
            return [name for name, found in self._versions.items() if found]

    def versions(self, name: str) -> list[Engine]:
        """Every installed version of ``name``, newest first."""
        self._class(name)
        with self._lock:
            return list(self._versions.get(name.lower(), []))

    def get(self, name: str, version: str | None = None) -> Engine:
        """The newest installed ``name`` (matching ``version``), else a bare one.

        A bare adapter checks arguments but cannot render: its ``path`` is None.
        """
        found = self.find(name, version or "")
        if found is not None:
            return found
        if version:
            raise EngineUnavailable(f"{name} {version} is not installed on this server")
        return self._class(name)()

    def find(self, name: str, version: str = "") -> Engine | None:
        for engine in self.versions(name):
            if not version or version_matches(version, engine.version or ""):
                return engine
        return None

    def for_filename(self, filename: str) -> Engine | None:
        for name, cls in ENGINE_CLASSES.items():
            if filename.lower().endswith(cls.extensions):
                return self.get(name)
        return None

    def installed(self) -> list[Engine]:
        """The default version of each installed engine."""
        return [self.get(name) for name in self.names]

    # versions for jobs

    def prepare(self, name: str, wanted: object) -> tuple[Engine, str]:
        """An adapter to check a job with, and the exact version it will use.

        A version not installed is downloaded first, when the settings allow.
        """
        wanted = check_version(wanted)
        found = self.find(name, wanted)
        if found is not None:
            return found, found.version or wanted
        have = ", ".join(e.version or "?" for e in self.versions(name)) or "none"
        if not self.downloads_allowed:
            raise InvalidRequest(
                f"{name} {wanted} is not installed on this server (it has: {have}), "
                "and engine downloads are off (setting engine_downloads)"
            )
        release = self.release(name, wanted, Platform.here())
        self.downloads.start(self.indexes[name], release)
        logger.info("downloading %s %s for a job", name, release.version)
        return self.get(name), release.version

    def resolve(self, name: str, version: str | None) -> Engine:
        """The installed ``version``; waits for its download if one is under way."""
        if not version:
            return self.get(name)
        found = self.find(name, version)
        if found is not None:
            return found
        download = self.downloads.find(name, version)
        if download is None or download.status == "done":
            # Asked for before a restart, or deleted since: fetch it again.
            if not self.downloads_allowed:
                raise EngineUnavailable(
                    f"{name} {version} is not installed on this server, and "
                    "engine downloads are off (setting engine_downloads)"
                )
            release = self.release(name, version, Platform.here())
            download = self.downloads.start(self.indexes[name], release)
        download.finished.wait()
        if download.status == "error":
            raise EngineUnavailable(
                f"{name} {version} could not be installed: {download.error}"
            )
        return self.get(name, version)

    def can_fetch(self, name: str, version: str) -> bool:
        """True when ``version`` is installed, or downloadable from here now.

        Index answers are remembered for a while: peers ask on every split.
        """
        if self.find(name, version) is not None:
            return True
        if not self.downloads_allowed:
            return False
        key = (name, version)
        asked_at, found = self._lookups.get(key, (0.0, False))
        if time.monotonic() - asked_at < LOOKUP_TTL_S:
            return found
        try:
            found = self.indexes[name].find(version, Platform.here()) is not None
        except ZordonError as exc:
            logger.info("cannot look %s %s up: %s", name, version, exc)
            found = False
        self._lookups[key] = (time.monotonic(), found)
        return found

    # downloads and deletes

    def release(self, name: str, wanted: str, target: Platform) -> Release:
        """The newest build of ``wanted`` in the index, or :class:`NotFound`."""
        self._class(name)
        index = self.indexes[name]
        found = index.find(wanted, target)
        if found is None:
            raise NotFound(
                f"{name} {wanted} for {target} is not in the release index at "
                f"{index.base_url}"
            )
        return found

    def delete(self, name: str, version: str, target: Platform) -> Engine:
        """Remove a version Zordon downloaded; system installs stay."""
        matches = [e for e in self.versions(name) if e.version == version]
        managed = [
            e for e in matches if e.folder and e.folder.name.endswith(str(target))
        ]
        if not managed:
            system = [e for e in matches if not e.managed]
            if system and target == Platform.here():
                raise InvalidRequest(
                    f"{name} {version} at {system[0].path} is a system install; "
                    "Zordon deletes only the engines it downloaded"
                )
            raise NotFound(
                f"{name} {version} for {target} is not installed here (delete "
                "takes the exact version, such as 4.2.3)"
            )

        engine = managed[0]
        assert engine.folder is not None
        trash = self.downloads.partial_dir / f"deleting-{engine.folder.name}"
        trash.parent.mkdir(parents=True, exist_ok=True)
        engine.folder.rename(trash)  # gone in one step, then cleaned up
        shutil.rmtree(trash, ignore_errors=True)

        self.downloads.forget(name, engine.version or version)
        self.refresh()
        logger.info("deleted %s %s", name, engine.version)
        return engine

    # inside

    def _class(self, name: str) -> type[Engine]:
        cls = ENGINE_CLASSES.get(str(name).lower())
        if cls is None:
            known = ", ".join(ENGINE_CLASSES)
            raise InvalidRequest(
                f"unknown renderer {str(name)[:40]!r}; this server knows {known}"
            )
        return cls

    def _scan(self, name: str, **extra: FFmpegEngine) -> list[Engine]:
        cls = ENGINE_CLASSES[name]
        found: list[Engine] = []
        system = cls(self._system_paths[name] or None, **extra)
        if system.path is not None:
            found.append(system)
        here = str(Platform.here())
        for marker in sorted(self.engines_dir.glob(f"{name}/*/{MARKER}")):
            folder = marker.parent
            if not folder.name.endswith(here):
                continue
            try:
                info = json.loads(marker.read_text())
                program = folder / info["executable"]
            except (OSError, ValueError, KeyError) as exc:
                logger.warning("%s: unreadable, skipped: %s", marker, exc)
                continue
            found.append(
                cls(str(program), version=info["version"], folder=folder, **extra)
            )
        return sorted(found, key=lambda e: version_key(e.version or ""), reverse=True)

    def _check_program(self, release: Release, unpacked: Path) -> str:
        """The program's path inside ``unpacked``, once it answers as ``release``."""
        cls = ENGINE_CLASSES[release.engine]
        for depth in range(PROGRAM_SEARCH_DEPTH):
            for program in sorted(
                unpacked.glob("/".join(["*"] * depth + [cls.program]))
            ):
                if program.is_file():
                    return self._check_version(cls, release, program, unpacked)
        raise DownloadFailed(f"{release.filename} holds no {cls.program} program")

    def _check_version(
        self, cls: type[Engine], release: Release, program: Path, unpacked: Path
    ) -> str:
        said = cls(str(program)).version
        if said is None or not version_matches(release.version, said):
            raise DownloadFailed(
                f"the {cls.program} in {release.filename} says it is version "
                f"{said or 'unknown'}, not {release.version}"
            )
        return program.relative_to(unpacked).as_posix()
