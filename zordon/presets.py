"""Presets: named sets of engine arguments that a job can start from.

Zordon ships ``presets.yaml`` beside this module. A ``presets.yaml`` in the
data folder, or the file named by the ``presets_file`` setting, adds to
them; a preset there replaces a shipped one of the same name. Each preset
names its engine and its arguments::

    preview:
      engine: blender
      description: A quick look
      args: {resolution_percentage: 25, samples: 16, format: JPEG}
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from zordon.config import Config
from zordon.engines import Engine, EngineRegistry
from zordon.errors import ConfigError, InvalidRequest

logger = logging.getLogger(__name__)

SHIPPED_PATH = Path(__file__).with_name("presets.yaml")
FIELDS = {"engine", "description", "args"}


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    engine: str
    args: dict[str, Any]
    description: str = ""
    source: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "description": self.description,
            "args": dict(self.args),
        }


class PresetBook:
    """Every preset this server knows, by name."""

    def __init__(self, presets: Iterable[Preset] = ()) -> None:
        self._presets = {preset.name: preset for preset in presets}

    @classmethod
    def load(cls, paths: Iterable[Path], engines: EngineRegistry) -> PresetBook:
        """Read ``paths`` in order (later names win); :class:`ConfigError` if bad.

        A path that does not exist is skipped. Every preset's arguments are
        checked against its engine, so a typo stops the server at start-up
        rather than failing each job that names the preset.
        """
        presets: dict[str, Preset] = {}
        for path in paths:
            if path.is_file():
                presets.update({p.name: p for p in read_file(path)})
                logger.debug("presets read from %s", path)
        for preset in presets.values():
            _check_args(preset, engines)
        return cls(presets.values())

    @classmethod
    def for_config(cls, config: Config, engines: EngineRegistry) -> PresetBook:
        """The shipped presets, then the data folder's or ``presets_file``."""
        path = config.presets_path
        if config.presets_file and not path.is_file():
            raise ConfigError(f"presets_file {path} is not a file")
        return cls.load([SHIPPED_PATH, path], engines)

    @property
    def names(self) -> list[str]:
        return sorted(self._presets)

    def get(self, name: str) -> Preset:
        preset = self._presets.get(name)
        if preset is None:
            known = ", ".join(self.names) or "none"
            raise InvalidRequest(f"unknown preset {name!r}; this server has {known}")
        return preset

    def apply(
        self, name: Any, engine: Engine, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The preset's arguments with the job's own ``args`` over them."""
        preset = self.get(str(name))
        if preset.engine != engine.name:
            raise InvalidRequest(
                f"preset {preset.name!r} is for {preset.engine}, not {engine.name}"
            )
        return engine.merge_args(preset.args, args)

    def to_dict(self) -> dict[str, Any]:
        return {name: self._presets[name].to_dict() for name in self.names}


def read_file(path: Path) -> list[Preset]:
    """The presets in one YAML file; :class:`ConfigError` names what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {_reason(exc)}") from exc
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of preset names")
    return [_preset(path, str(name), body) for name, body in data.items()]


def _preset(path: Path, name: str, body: Any) -> Preset:
    where = f"{path}: preset {name!r}"
    if not isinstance(body, dict):
        raise ConfigError(f"{where} must be a mapping with engine and args")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")
    if not isinstance(body.get("engine"), str):
        raise ConfigError(f"{where}: name its engine, such as 'engine: blender'")
    args = body.get("args") or {}
    if not isinstance(args, dict):
        raise ConfigError(f"{where}: args must be a mapping")
    description = str(body.get("description") or "")
    return Preset(name, body["engine"].lower(), dict(args), description, path)


def _check_args(preset: Preset, engines: EngineRegistry) -> None:
    try:
        engines.get(preset.engine).validate_args(preset.args)
    except InvalidRequest as exc:
        raise ConfigError(f"{preset.source}: preset {preset.name!r}: {exc}") from exc


def _reason(exc: Exception) -> str:
    """One line: where YAML choked and why, or the error itself."""
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.MarkedYAMLError) and mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return " ".join(str(exc).split())
