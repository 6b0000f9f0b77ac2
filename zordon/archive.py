"""Unpacking zip and tar archives (engine downloads, packed scenes) safely.

Nothing in an archive may land outside the target folder: absolute names,
``..``, backslash tricks and drive letters are refused, and so are links
that point outside the folder, device files and FIFOs. Either the whole
archive is checked and unpacked, or :class:`UnsafeArchive` says which member
broke the rules (members already written stay; unpack into a fresh folder).
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from zordon.errors import InvalidRequest

logger = logging.getLogger(__name__)

MAX_TOTAL_BYTES = 64 * 1024**3  # larger than any Blender release unpacked
CHUNK_BYTES = 1 << 20


class UnsafeArchive(InvalidRequest):
    """An archive member would escape the target folder, or is not a plain file."""


def extract(archive: Path, target: Path) -> list[Path]:
    """Unpack a .zip or a tar (.tar, .tar.gz, .tar.xz, .tar.bz2) into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        return extract_zip(archive, target)
    if tarfile.is_tarfile(archive):
        return extract_tar(archive, target)
    raise InvalidRequest(f"{archive.name} is neither a zip nor a tar archive")


def member_path(name: str, target: Path) -> Path:
    """Where member ``name`` goes inside ``target``; refuses any way out."""
    clean = name.replace("\\", "/")
    parts = PurePosixPath(clean).parts
    if (
        not parts
        or "\x00" in clean
        or clean.startswith("/")
        or ".." in parts
        or ":" in parts[0]
    ):
        raise UnsafeArchive(f"archive member {name!r} would land outside the folder")
    path = target.joinpath(*[p for p in parts if p != "."])
    _inside(path.parent, target, name)
    return path


def extract_zip(archive: Path, target: Path) -> list[Path]:
    written = []
    with zipfile.ZipFile(archive) as zipped:
        members = zipped.infolist()
        _check_size(sum(m.file_size for m in members), archive)
        for member in members:
            path = member_path(member.filename, target)
            mode = member.external_attr >> 16
            if member.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                raise UnsafeArchive(f"{member.filename!r} is not a plain file")
            path.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(member) as source, open(path, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK_BYTES)
            if mode & 0o111:
                path.chmod(0o755)
            written.append(path)
    return written


def extract_tar(archive: Path, target: Path) -> list[Path]:
    written = []
    with tarfile.open(archive) as tarred:
        members = tarred.getmembers()
        _check_size(sum(m.size for m in members if m.isfile()), archive)
        for member in members:
            path = member_path(member.name, target)
            if member.isdir():
                path.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                _write_file(tarred, member, path)
                written.append(path)
            elif member.issym() or member.islnk():
                _link(member, path, target)
                written.append(path)
            else:
                raise UnsafeArchive(f"{member.name!r} is a device file or FIFO")
    return written


def _write_file(tarred: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> None:
    source = tarred.extractfile(member)
    assert source is not None  # a regular member always has data
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        path.unlink()  # never write through a link an earlier member made
    with source, open(path, "wb") as out:
        shutil.copyfileobj(source, out, CHUNK_BYTES)
    # Keep the execute bits (engines are programs); drop setuid and the like.
    path.chmod(0o755 if member.mode & 0o111 else 0o644)


def _link(member: tarfile.TarInfo, path: Path, target: Path) -> None:
    """A symbolic or hard link whose destination stays inside ``target``."""
    if member.issym():
        destination = path.parent / member.linkname.replace("\\", "/")
    else:
        destination = member_path(member.linkname, target)
    if member.linkname.startswith("/") or "\x00" in member.linkname:
        raise UnsafeArchive(f"link {member.name!r} points outside the folder")
    _inside(destination, target, member.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    if member.issym():
        os.symlink(member.linkname, path)
    else:
        os.link(destination, path)


def _inside(path: Path, target: Path, name: str) -> None:
    """Refuse ``path`` unless it resolves (links followed) inside ``target``."""
    root = target.resolve()
    if not path.resolve().is_relative_to(root):
        raise UnsafeArchive(f"archive member {name!r} would land outside the folder")


def _check_size(total_bytes: int, archive: Path) -> None:
    if total_bytes > MAX_TOTAL_BYTES:
        raise UnsafeArchive(f"{archive.name} unpacks to more than the limit")
