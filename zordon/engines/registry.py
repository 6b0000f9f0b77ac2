"""The engines this server knows, by name."""

from __future__ import annotations

from zordon.config import Config
from zordon.engines.base import Engine
from zordon.engines.blender import BlenderEngine
from zordon.engines.ffmpeg import FFmpegEngine
from zordon.errors import InvalidRequest


class EngineRegistry:
    """One adapter per engine, built from the config's engine paths."""

    def __init__(self, config: Config) -> None:
        ffmpeg = FFmpegEngine(config.ffmpeg_path or None)
        blender = BlenderEngine(config.blender_path or None, ffmpeg=ffmpeg)
        self._engines: dict[str, Engine] = {e.name: e for e in (blender, ffmpeg)}

    @property
    def names(self) -> list[str]:
        return list(self._engines)

    def get(self, name: str) -> Engine:
        """The engine called ``name``, or :class:`InvalidRequest`."""
        engine = self._engines.get(str(name).lower())
        if engine is None:
            known = ", ".join(self._engines)
            raise InvalidRequest(
                f"unknown renderer {name!r}; this server knows {known}"
            )
        return engine

    def for_filename(self, filename: str) -> Engine | None:
        return next((e for e in self._engines.values() if e.handles(filename)), None)

    def installed(self) -> list[Engine]:
        return [e for e in self._engines.values() if e.path is not None]
