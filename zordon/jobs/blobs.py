"""Input files kept by content (SHA-256), so a file a server holds is not sent again.

A job whose input is a tree of files (a .blend with its libraries and
textures) arrives as a manifest, ``{relative path: sha256}``. The sender asks
which blobs are missing, uploads only those, and the tree is then laid out in
the job's input folder as hard links to the blobs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from zordon.errors import InvalidRequest

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_MANIFEST_FILES = 10_000
MAX_NAME_BYTES = 255


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_of(root: Path, skip: Iterable[str] = ()) -> dict[str, str]:
    """``{relative POSIX path: sha256}`` for every file under ``root``."""
    skipped = set(skip)
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not path.is_symlink() and rel not in skipped:
            files[rel] = sha256_file(path)
    return files


def safe_relpath(text: str) -> PurePosixPath:
    """A relative path that stays inside its folder, or :class:`InvalidRequest`."""
    path = PurePosixPath(str(text).replace("\\", "/"))
    if (
        not path.parts
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in path.parts)
        or "\x00" in str(path)
        or ":" in path.parts[0]
    ):
        raise InvalidRequest(f"file path {text!r} must be relative and stay inside")
    if any(len(part.encode()) > MAX_NAME_BYTES for part in path.parts):
        raise InvalidRequest(f"file path {text[:80]!r}... has a name that is too long")
    return path


def check_manifest(files: object) -> dict[str, str]:
    if not isinstance(files, Mapping) or not files:
        raise InvalidRequest("files must map relative paths to SHA-256 digests")
    if len(files) > MAX_MANIFEST_FILES:
        raise InvalidRequest(f"a job may hold at most {MAX_MANIFEST_FILES} files")
    clean = {}
    for rel, digest in files.items():
        if not isinstance(digest, str) or not SHA256.match(digest):
            raise InvalidRequest(f"{rel!r}: not a SHA-256 digest")
        clean[safe_relpath(rel).as_posix()] = digest
    folders = {str(parent) for rel in clean for parent in PurePosixPath(rel).parents}
    clashes = sorted(folders & set(clean))
    if clashes:
        raise InvalidRequest(f"{clashes[0]!r} is both a file and a folder")
    return clean


class BlobStore:
    """Files by content under ``root``, one file per digest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        if not SHA256.match(digest):
            raise InvalidRequest(f"{digest!r} is not a SHA-256 digest")
        return self.root / digest[:2] / digest

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def missing(self, digests: Iterable[str]) -> list[str]:
        return sorted({d for d in digests if not self.has(d)})

    def put(self, stream: BinaryIO, expected: str) -> Path:
        """Store the stream's bytes if they hash to ``expected``."""
        target = self.path(expected)
        temp, digest = self._receive(stream)
        try:
            if digest != expected:
                raise InvalidRequest(f"the upload hashes to {digest}, not {expected}")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        return target

    def put_new(self, stream: BinaryIO) -> str:
        """Store the stream's bytes under their own digest, and return it."""
        temp, digest = self._receive(stream)
        try:
            if temp.stat().st_size == 0:
                raise InvalidRequest("the upload is empty")
            target = self.path(digest)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        return digest

    def _receive(self, stream: BinaryIO) -> tuple[Path, str]:
        """Copy the stream to a temporary file in the store; its path and digest."""
        digest = hashlib.sha256()
        fd, temp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return Path(temp), digest.hexdigest()

    def adopt(self, path: Path, digest: str | None = None) -> str:
        """Add a local file by hard link (or copy); returns its digest."""
        digest = digest or sha256_file(path)
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(path, target)
        return digest

    def lay_out(self, files: Mapping[str, str], folder: Path) -> None:
        """Build the manifest's tree in ``folder`` from stored blobs."""
        missing = self.missing(files.values())
        if missing:
            raise InvalidRequest(
                f"this server does not hold {len(missing)} of the job's files; "
                "upload them to /api/cache first"
            )
        try:
            for rel, digest in files.items():
                target = folder / safe_relpath(rel)
                target.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(self.path(digest), target)
        except OSError as exc:
            raise InvalidRequest(f"cannot lay the job's files out: {exc}") from exc


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
