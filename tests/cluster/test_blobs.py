"""Input files kept by content."""

import hashlib
import io
from pathlib import Path

import pytest

from zordon.errors import InvalidRequest
from zordon.jobs.blobs import BlobStore, check_manifest, manifest_of, safe_relpath


@pytest.mark.parametrize("path", ["../x.blend", "/etc/passwd", "a/../../b", "", "C:/x"])
def test_paths_that_leave_the_folder_are_refused(path: str) -> None:
    with pytest.raises(InvalidRequest):
        safe_relpath(path)


def test_backslashes_are_folder_separators() -> None:
    assert safe_relpath("textures\\wood.png").as_posix() == "textures/wood.png"


def test_a_blob_that_does_not_match_its_digest_is_refused(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    with pytest.raises(InvalidRequest):
        blobs.put(io.BytesIO(b"not what was promised"), "0" * 64)
    assert blobs.missing(["0" * 64]) == ["0" * 64]


def test_a_manifest_is_laid_out_as_a_tree(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "lib").mkdir(parents=True)
    (source / "main.blend").write_bytes(b"main")
    (source / "lib" / "tex.png").write_bytes(b"texture")
    files = manifest_of(source)
    blobs = BlobStore(tmp_path / "blobs")
    for rel, digest in files.items():
        blobs.put(io.BytesIO((source / rel).read_bytes()), digest)

    blobs.lay_out(files, tmp_path / "job")

    assert (tmp_path / "job" / "lib" / "tex.png").read_bytes() == b"texture"
    assert files["main.blend"] == hashlib.sha256(b"main").hexdigest()


def test_manifests_refuse_bad_digests() -> None:
    with pytest.raises(InvalidRequest):
        check_manifest({"a.blend": "xyz"})
