"""A .blend and everything it needs, gathered by blender-asset-tracer.

The pack is a folder whose paths Blender reads relative to the main file,
so any server that lays the same tree out renders exactly the same scene.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from blender_asset_tracer import blendfile, pack

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


def pack_blend(blend: Path, target: Path) -> Pack:
    """Copy ``blend`` and its dependencies into ``target``, paths rewritten.

    Dependencies that are not on disk are listed in ``Pack.missing``; Blender
    renders without them as it would on this machine (a point cache, say, is
    simulated again), so the caller decides whether to go on.
    """
    target.mkdir(parents=True, exist_ok=True)
    try:
        with pack.Packer(blend, blend.parent, str(target)) as packer:
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
