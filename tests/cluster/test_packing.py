"""Packing a real .blend with BAT, on a machine too busy to be quick."""

from __future__ import annotations

import errno
import pathlib
import threading
import time
from pathlib import Path

import pytest
from blender_asset_tracer.pack.transfer import FileTransferer

from tests.helpers import make_scenes
from zordon.cluster import packing
from zordon.cluster.packing import pack_blend
from zordon.errors import InvalidRequest
from zordon.jobs.blobs import sha256_file

pytestmark = pytest.mark.real

# Long enough for BAT's copying thread to take a queued file first.
SLOW_STAT_S = 0.3


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenes")
    make_scenes(folder)
    return folder / "scene.blend"


def test_a_pack_made_on_a_busy_machine_holds_every_file(
    scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The packer's own thread reads the size of a file it has just queued
    slowly, as a loaded machine would, so the copying thread gets there first."""
    real_stat = pathlib.Path.stat
    packing_thread = threading.current_thread()

    def slow_stat(path: pathlib.Path, *args, **kwargs):
        busy = threading.current_thread() is packing_thread
        if busy and path.parent.name.endswith("-batpack"):
            time.sleep(SLOW_STAT_S)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "stat", slow_stat)

    packed = pack_blend(scene, tmp_path / "pack")

    assert packed.main_file == "scene.blend"
    assert packed.files["scene.blend"] == sha256_file(tmp_path / "pack/scene.blend")
    assert (tmp_path / "pack/pack-info.txt").is_file()


def test_a_pack_that_fails_half_way_leaves_no_thread_behind(
    scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_room(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(packing._Packer, "_copy_files_to_target", no_room)

    with pytest.raises(InvalidRequest, match=r"cannot pack scene\.blend: .*No space"):
        pack_blend(scene, tmp_path / "pack")

    copiers = [t for t in threading.enumerate() if isinstance(t, FileTransferer)]
    assert copiers == [], "a copying thread would keep the process from exiting"
