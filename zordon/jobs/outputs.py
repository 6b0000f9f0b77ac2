"""A job's output files: listing them, finding one by name, zipping them all."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from zordon.errors import InvalidRequest, NotFound
from zordon.jobs.model import Job


def list_files(job: Job) -> list[Path]:
    """Regular files directly in the job's output folder, sorted by name."""
    folder = job.output_dir
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and not p.is_symlink()),
        key=lambda p: p.name,
    )


def find_file(job: Job, filename: str | None) -> Path:
    """The output file called ``filename`` (any case); never one elsewhere.

    Only names in the job's own file list match, so ``../``, absolute paths
    and their encoded forms find nothing.
    """
    if not filename:
        raise InvalidRequest("give the file to download as ?filename=NAME")
    wanted = filename.casefold()
    for path in list_files(job):
        if path.name.casefold() == wanted:
            return path
    raise NotFound(f"job {job.id} has no output file {filename!r}")


def zip_all(job: Job, temp_dir: Path) -> Path:
    """Zip every output file into a temporary file the caller removes."""
    files = list_files(job)
    if not files:
        raise NotFound(f"job {job.id} has no output files yet")
    temp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{job.id}-", suffix=".zip", dir=temp_dir)
    os.close(fd)
    with zipfile.ZipFile(name, "w", zipfile.ZIP_STORED) as archive:
        for path in files:
            archive.write(path, arcname=path.name)
    return Path(name)
