"""A .blend and everything it needs, gathered by blender-asset-tracer.

The pack is a folder whose paths Blender reads relative to the main file,
so any server that lays the same tree out renders exactly the same scene.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path, PurePath

from blender_asset_tracer import blendfile, pack
from blender_asset_tracer.pack import filesystem

from zordon.errors import InvalidRequest
from zordon.jobs.blobs import manifest_of, sha256_file

logger = logging.getLogger(__name__)

PACK_INFO = "pack-info.txt"


@dataclasses.dataclass
class Pack:
    """A packed tree: where it is, which file to render, and every file's digest."""

    root: Path
    main_file: str
    files: dict[str, str]
    missing: list[str] = dataclasses.field(default_factory=list)


class _Copier(filesystem.FileCopier):
    """BAT's file copier, with every move made a copy.

    BAT queues a move and only then reads the file's size, while its copying
    thread is already taking work from the queue: on a busy machine the file
    is gone before the size is read, and the pack fails with "No such file".
    A copied file stays where it was; the packer's temporary folder, where
    the moved files live, is removed when it closes.
    """

    def queue_move(self, src: Path, dst: PurePath) -> None:
        self.queue_copy(src, dst)


class _Packer(pack.Packer):
    def _create_file_transferer(self) -> filesystem.FileCopier:
        return _Copier()

    def close(self) -> None:
        # A pack that failed half way leaves BAT's copying thread waiting for
        # more work, and a process cannot exit while it waits: stop it first.
        copier = self._file_transferer
        if copier is not None and copier.is_alive():
            copier.abort_and_join()
        super().close()


def pack_blend(blend: Path, target: Path) -> Pack:
    """Copy ``blend`` and its dependencies into ``target``, paths rewritten.

    Dependencies that are not on disk are listed in ``Pack.missing``; Blender
    renders without them as it would on this machine (a point cache, say, is
    simulated again), so the caller decides whether to go on.
    """
    target.mkdir(parents=True, exist_ok=True)
    try:
        with _Packer(blend, blend.parent, str(target)) as packer:
            packer.strategise()
            packer.execute()
            main = Path(packer.output_path).relative_to(target).as_posix()
            missing = sorted(str(p) for p in packer.missing_files)
    except (OSError, ValueError, blendfile.exceptions.BlendFileError) as exc:
        raise InvalidRequest(f"cannot pack {blend.name}: {exc}") from exc
    files = manifest_of(target, skip=[PACK_INFO])
    for path in missing:
        logger.warning("%s: dependency missing: %s", blend.name, path)
    logger.info("packed %s: %d files", blend.name, len(files))
    return Pack(target, main, files, missing)


def pack_input(path: Path, target: Path) -> Pack:
    """A .blend with its dependencies; any other input as the one file it is."""
    if path.suffix.lower() == ".blend":
        return pack_blend(path, target)
    return Pack(path.parent, path.name, {path.name: sha256_file(path)})
