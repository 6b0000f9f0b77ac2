"""Bringing a split job's output home.

Which frames are home is read from the parent's folders, never stored: a
restarted server resumes where it stopped, and no frame is fetched twice.
Image frames land in ``output/`` under the names a single machine would
give them; video segments wait in ``segments/`` for the join.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from zordon.client import RenderServerProxy
from zordon.jobs.model import Job

FRAME_NUMBER = re.compile(r"_(?P<frame>-?\d+)\.[A-Za-z0-9]+$")
SEGMENT = re.compile(r"^seg_(?P<start>-?\d+)_(?P<end>-?\d+)\.")
SEGMENTS_DIR = "segments"


def frames_home(parent: Job, segmented: bool) -> set[int]:
    """Frames whose output is in the parent's folder."""
    frames: set[int] = set()
    if segmented:
        for path in segments(parent):
            match = SEGMENT.match(path.name)
            assert match is not None
            frames.update(range(int(match["start"]), int(match["end"]) + 1))
        return frames
    stem = Path(parent.input_path).stem
    for path in _files(parent.output_dir):
        match = FRAME_NUMBER.search(path.name)
        if match and path.name.startswith(stem + "_"):
            frames.add(int(match["frame"]))
    return frames


def segments(parent: Job) -> list[Path]:
    """The video segments that are home, in order."""
    found = {}
    for path in _files(parent.folder / SEGMENTS_DIR):
        match = SEGMENT.match(path.name)
        if match:
            found[int(match["start"])] = path
    return [found[start] for start in sorted(found)]


def fetch_frames(
    parent: Job, proxy: RenderServerProxy, child_id: str, wanted: Iterable[int]
) -> set[int]:
    """Download the child's files for ``wanted`` frames; returns those fetched."""
    wanted = set(wanted)
    got = set()
    for name in proxy.get_job_files(child_id):
        match = FRAME_NUMBER.search(name)
        if match and int(match["frame"]) in wanted:
            proxy.download_job_file(child_id, name, parent.output_dir)
            got.add(int(match["frame"]))
    return got


def fetch_segment(
    parent: Job, proxy: RenderServerProxy, child_id: str, first: int, last: int
) -> bool:
    """Download the child's encoded segment; False if it has none."""
    names = proxy.get_job_files(child_id)
    if not names:
        return False
    folder = parent.folder / SEGMENTS_DIR
    temp = proxy.download_job_file(child_id, names[0], folder / ".incoming")
    temp.replace(folder / f"seg_{first}_{last}{Path(names[0]).suffix}")
    return True


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if p.is_file()]
