"""Scene facts read straight from a .blend with blender-asset-tracer.

Reading this way takes tens of milliseconds, where starting Blender to ask
would take about a second, so ``add_job`` can fill its defaults from the file.
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path
from typing import Any

from blender_asset_tracer import blendfile

logger = logging.getLogger(__name__)

OBJECT_TYPE_CAMERA = 11

# Blender's R_IMF_IMTYPE_* codes for the formats a user meets.
IMAGE_TYPES = {
    4: "JPEG",
    17: "PNG",
    20: "BMP",
    21: "HDR",
    22: "TIFF",
    23: "OPEN_EXR",
    28: "OPEN_EXR_MULTILAYER",
    30: "JPEG2000",
    35: "WEBP",
}
MOVIE_TYPES = {15: "AVI_RAW", 16: "AVI_JPEG", 24: "FFMPEG", 31: "H264", 32: "XVID"}

# What reading a damaged file raises: the library's own error, and whatever its
# parser trips over when sizes, names or fields are garbage.
READ_ERRORS = (
    blendfile.exceptions.BlendFileError,
    OSError,
    EOFError,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    struct.error,
)


def read_scene_facts(path: Path, scene_name: str | None = None) -> dict[str, Any]:
    """Frame range, resolution, cameras, engine and output of one scene.

    Raises ``ValueError`` naming the problem when the file is not a .blend
    this library can read.
    """
    try:
        bf = _BlendFile(path)
        try:
            return _facts(bf, scene_name)
        finally:
            bf.close()
    except READ_ERRORS as exc:
        raise ValueError(f"cannot read {path.name}: {exc}") from exc


class _BlendFile(blendfile.BlendFile):
    """A BlendFile that closes its file when parsing fails; the library does not."""

    def __init__(self, path: Path) -> None:
        try:
            super().__init__(path)
        except BaseException:
            if getattr(self, "fileobj", None) is not None:
                self.close()
            raise


def _facts(bf: blendfile.BlendFile, scene_name: str | None) -> dict[str, Any]:
    scenes = bf.find_blocks_from_code(b"SC")
    if not scenes:
        raise ValueError("the file holds no scene")
    names = [_id_name(block) for block in scenes]
    scene = scenes[names.index(scene_name)] if scene_name in names else scenes[0]

    camera = scene.get_pointer(b"camera")
    cameras = [
        _id_name(ob)
        for ob in bf.find_blocks_from_code(b"OB")
        if ob.get(b"type") == OBJECT_TYPE_CAMERA
    ]
    imtype = scene.get((b"r", b"im_format", b"imtype"))
    fps_base = scene.get((b"r", b"frs_sec_base")) or 1.0
    return {
        "scene": _id_name(scene),
        "scenes": names,
        "start_frame": scene.get((b"r", b"sfra")),
        "end_frame": scene.get((b"r", b"efra")),
        "frame_step": scene.get((b"r", b"frame_step")) or 1,
        "fps": round(scene.get((b"r", b"frs_sec")) / fps_base, 3),
        "resolution": [scene.get((b"r", b"xsch")), scene.get((b"r", b"ysch"))],
        "resolution_percentage": scene.get((b"r", b"size")),
        "render_engine": scene.get((b"r", b"engine")).decode(errors="replace"),
        "camera": _id_name(camera) if camera else None,
        "cameras": cameras,
        "output_path": scene.get((b"r", b"pic")).decode(errors="replace"),
        "output_format": IMAGE_TYPES.get(imtype) or MOVIE_TYPES.get(imtype, imtype),
        "output_is_movie": imtype in MOVIE_TYPES,
    }


def _id_name(block: blendfile.BlendFileBlock) -> str:
    """The ID name without its two-letter type code."""
    return block.id_name[2:].decode(errors="replace")
