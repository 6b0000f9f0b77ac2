"""Engine downloads: fetch, verify, unpack and install, in the background.

Each download works in a private folder under ``engines/.partial`` and is
moved into ``engines/<name>/<version>-<os>-<cpu>`` only once the archive's
checksum matched, it unpacked cleanly and the program inside answered with
the version asked for. Anything short of that leaves nothing installed and
says why in the download's ``error``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import hashlib
import json
import logging
import lzma
import os
import shutil
import tarfile
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from zordon import archive as archives
from zordon.archive import UnsafeArchive
from zordon.engines.releases import Release, ReleaseIndex
from zordon.errors import InvalidRequest, ZordonError

logger = logging.getLogger(__name__)

MARKER = "zordon-engine.json"
CHUNK_BYTES = 1 << 20
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0
# Room asked for before a download starts, per byte of archive: the archive
# itself, then what it unpacks to (a Blender .tar.xz unpacks to about 3.5
# times its size, an FFmpeg one to about 4.5).
ROOM_PER_ARCHIVE_BYTE = 5


class DownloadFailed(ZordonError):
    """A download that cannot become an installed engine; says why."""


@dataclasses.dataclass
class Download:
    """The state of one download, as ``/api/engines`` shows it."""

    release: Release
    status: str = "downloading"  # then verifying, installing, done or error
    bytes_done: int = 0
    bytes_total: int | None = None
    error: str = ""
    started_at: dt.datetime = dataclasses.field(
        default_factory=lambda: dt.datetime.now(dt.UTC)
    )
    finished: threading.Event = dataclasses.field(default_factory=threading.Event)

    @property
    def key(self) -> tuple[str, str, str]:
        return download_key(self.release)

    @property
    def progress(self) -> float:
        if self.status == "done":
            return 1.0
        if not self.bytes_total:
            return 0.0
        return min(1.0, self.bytes_done / self.bytes_total)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.release.to_dict(),
            "status": self.status,
            "progress": round(self.progress, 4),
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "error": self.error,
            "started_at": self.started_at.isoformat(),
        }


def download_key(release: Release) -> tuple[str, str, str]:
    return release.engine, release.version, str(release.platform)


def install_folder(engines_dir: Path, release: Release) -> Path:
    return engines_dir / release.engine / f"{release.version}-{release.platform}"


class Downloads:
    """Runs downloads one thread each, and remembers how each one ended."""

    def __init__(
        self,
        engines_dir: Path,
        verify: Callable[[Release, Path], str],
        on_installed: Callable[[], None],
    ) -> None:
        self.engines_dir = engines_dir
        self.partial_dir = engines_dir / ".partial"
        self._verify = verify
        self._on_installed = on_installed
        self._lock = threading.Lock()
        self._downloads: dict[tuple[str, str, str], Download] = {}
        shutil.rmtree(self.partial_dir, ignore_errors=True)

    def start(self, index: ReleaseIndex, release: Release) -> Download:
        """Begin installing ``release``, or return the download already under way."""
        with self._lock:
            current = self._downloads.get(download_key(release))
            if current is not None and current.status not in ("done", "error"):
                return current
            download = Download(release)
            self._downloads[download.key] = download
        thread = threading.Thread(
            target=self._run,
            args=(index, download),
            name=f"download {release.engine} {release.version}",
            daemon=True,
        )
        thread.start()
        return download

    def find(self, engine: str, version: str) -> Download | None:
        """The newest download of ``engine`` at ``version`` on any platform."""
        with self._lock:
            found = [
                d
                for d in self._downloads.values()
                if d.release.engine == engine and d.release.version == version
            ]
        return found[-1] if found else None

    def forget(self, engine: str, version: str) -> None:
        """Drop the finished downloads of a version that was deleted."""
        with self._lock:
            for key, download in list(self._downloads.items()):
                finished = download.finished.is_set()
                if finished and key[:2] == (engine, version):
                    del self._downloads[key]

    def listed(self, engine: str | None = None) -> list[Download]:
        with self._lock:
            return [
                d
                for d in self._downloads.values()
                if engine is None or d.release.engine == engine
            ]

    def _run(self, index: ReleaseIndex, download: Download) -> None:
        release = download.release
        self.partial_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{release.engine}-", dir=self.partial_dir))
        try:
            self._install(index, download, work)
            self._on_installed()  # listed as installed before it shows as done
            download.status = "done"
            logger.info("installed %s %s", release.engine, release.version)
        except Exception as exc:
            download.status = "error"
            download.error = _reason(exc)
            logger.warning(
                "download of %s %s failed: %s",
                release.engine,
                release.version,
                download.error,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
            download.finished.set()

    def _install(self, index: ReleaseIndex, download: Download, work: Path) -> None:
        release = download.release
        algorithm, expected = index.expected_digest(release)
        archive = work / release.filename
        digest = self._fetch(download, archive, algorithm)

        download.status = "verifying"
        if digest != expected:
            raise DownloadFailed(
                f"checksum mismatch for {release.filename}: the index says "
                f"{algorithm} {expected}, the download has {digest}"
            )

        download.status = "installing"
        unpacked = work / "unpacked"
        extract(archive, unpacked)
        archive.unlink()
        program = self._verify(release, unpacked)
        marker = {
            **release.to_dict(),
            "executable": program,
            "checksum": f"{algorithm}:{digest}",
            "installed_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        (unpacked / MARKER).write_text(json.dumps(marker, indent=2))

        final = install_folder(self.engines_dir, release)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            shutil.rmtree(final)
        os.replace(unpacked, final)

    def _fetch(self, download: Download, archive: Path, algorithm: str) -> str:
        """Stream the archive to disk; its hex digest by ``algorithm``."""
        url = download.release.url
        hasher = hashlib.new(algorithm)
        timeout = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
        with requests.get(url, stream=True, timeout=timeout) as response:
            if response.status_code == 404:
                raise DownloadFailed(f"{url} is not there (HTTP 404)")
            if not response.ok:
                raise DownloadFailed(f"{url} answered HTTP {response.status_code}")
            length = response.headers.get("Content-Length")
            download.bytes_total = int(length) if length and length.isdigit() else None
            _check_room(archive.parent, download.bytes_total or 0)
            try:
                with open(archive, "wb") as out:
                    for chunk in response.iter_content(CHUNK_BYTES):
                        out.write(chunk)
                        hasher.update(chunk)
                        download.bytes_done += len(chunk)
            except requests.RequestException as exc:
                raise DownloadFailed(f"{_stopped(download)}: {exc}") from exc
        if download.bytes_total and download.bytes_done < download.bytes_total:
            raise DownloadFailed(_stopped(download))
        return hasher.hexdigest()


def _check_room(folder: Path, archive_bytes: int) -> None:
    """Refuse to start a download the disk has no room to unpack."""
    needed = archive_bytes * ROOM_PER_ARCHIVE_BYTE
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise DownloadFailed(
            f"not enough disk space in {folder.parent}: the archive is "
            f"{_mb(archive_bytes)} and needs about {_mb(needed)} to unpack, "
            f"and the disk has only {_mb(free)} free"
        )


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB" if size >= 1e6 else f"{size:,} bytes"


def _stopped(download: Download) -> str:
    total = download.bytes_total or "?"
    return (
        f"the download of {download.release.url} stopped after "
        f"{download.bytes_done} of {total} bytes"
    )


def extract(archive: Path, into: Path) -> None:
    """Unpack a .tar.* or .zip archive; nothing may land outside ``into``."""
    into.mkdir(parents=True)
    try:
        archives.extract(archive, into)
    except UnsafeArchive as exc:
        raise DownloadFailed(f"{archive.name} is refused: {exc}") from exc
    except (
        InvalidRequest,
        tarfile.TarError,
        zipfile.BadZipFile,
        lzma.LZMAError,
    ) as exc:
        raise DownloadFailed(f"{archive.name} is damaged: {exc}") from exc
    except EOFError as exc:
        raise DownloadFailed(f"{archive.name} is damaged: it ends early") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"the disk is full: {exc.strerror}"
    if isinstance(exc, requests.RequestException):
        return f"the download failed: {exc}"
    if isinstance(exc, ZordonError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
