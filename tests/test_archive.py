"""Archives unpack inside their folder, or not at all."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from zordon.archive import UnsafeArchive, extract

ESCAPING_NAMES = [
    "../escaped.txt",
    "a/../../escaped.txt",
    "/tmp/escaped.txt",
    "..\\escaped.txt",
    "a\\..\\..\\escaped.txt",
    "C:/escaped.txt",
    "C:\\escaped.txt",
]


def _tar(path: Path, *members: tuple[tarfile.TarInfo, bytes | None]) -> Path:
    with tarfile.open(path, "w:gz") as tarred:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tarred.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes = b"x", mode: int = 0o644):
    info = tarfile.TarInfo(name)
    info.mode = mode
    return info, data


def _link(name: str, to: str, kind: bytes = tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = to
    return info, None


def _zip(path: Path, name: str, data: bytes = b"x", mode: int | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.external_attr = mode << 16
        zipped.writestr(info, data)
    return path


def test_a_plain_tar_unpacks_with_its_program_bits_and_inner_links(tmp_path):
    archive = _tar(
        tmp_path / "engine.tar.gz",
        _file("engine/bin/run", b"#!/bin/sh\n", 0o4755),
        _file("engine/lib/libx.so.1", b"lib"),
        _link("engine/lib/libx.so", "libx.so.1"),
    )

    extract(archive, tmp_path / "out")

    run = tmp_path / "out" / "engine" / "bin" / "run"
    assert run.read_bytes() == b"#!/bin/sh\n"
    assert stat.S_IMODE(run.stat().st_mode) == 0o755  # setuid dropped
    assert (tmp_path / "out" / "engine" / "lib" / "libx.so").read_bytes() == b"lib"


def test_a_plain_zip_unpacks(tmp_path):
    extract(_zip(tmp_path / "a.zip", "dir/file.txt", b"hello"), tmp_path / "out")

    assert (tmp_path / "out" / "dir" / "file.txt").read_bytes() == b"hello"


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_tar_members_that_escape_are_refused(tmp_path, name):
    archive = _tar(tmp_path / "bad.tar.gz", _file(name))

    with pytest.raises(UnsafeArchive):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_zip_members_that_escape_are_refused(tmp_path, name):
    with pytest.raises(UnsafeArchive):
        extract(_zip(tmp_path / "bad.zip", name), tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()


@pytest.mark.parametrize(
    "link",
    [
        _link("evil", "/etc"),
        _link("evil", "../.."),
        _link("evil", "a/../../.."),
        _link("evil", "/etc/passwd", tarfile.LNKTYPE),
        _link("evil", "../outside", tarfile.LNKTYPE),
    ],
)
def test_links_that_point_outside_are_refused(tmp_path, link):
    archive = _tar(tmp_path / "bad.tar.gz", link)

    with pytest.raises(UnsafeArchive):
        extract(archive, tmp_path / "out")


def test_a_file_cannot_be_written_through_a_link_to_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    archive = _tar(
        tmp_path / "bad.tar.gz",
        _link("inner", "."),
        _link("inner/up", ".."),
        _file("inner/up/outside/pwned.txt"),
    )

    with pytest.raises(UnsafeArchive):
        extract(archive, tmp_path / "out")
    assert not (outside / "pwned.txt").exists()


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_device_files_and_fifos_are_refused(tmp_path, kind):
    info = tarfile.TarInfo("dev")
    info.type = kind

    with pytest.raises(UnsafeArchive, match="device"):
        extract(_tar(tmp_path / "bad.tar.gz", (info, None)), tmp_path / "out")


def test_zip_symlinks_are_refused(tmp_path):
    archive = _zip(tmp_path / "bad.zip", "link", b"/etc/passwd", stat.S_IFLNK | 0o777)

    with pytest.raises(UnsafeArchive):
        extract(archive, tmp_path / "out")


def test_a_file_that_is_no_archive_is_refused(tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"not an archive")

    with pytest.raises(Exception, match="neither"):
        extract(path, tmp_path / "out")
