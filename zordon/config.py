"""Settings: defaults, then a TOML file, then ``ZORDON_*`` variables, then flags.

The file is ``--config PATH``, else ``$ZORDON_CONFIG``, else ``zordon.toml`` in
the data folder when it exists. Every field of :class:`Config` can be set in
each layer under its own name (``port_number = 9000`` in the file,
``ZORDON_PORT_NUMBER=9000`` in the environment, ``--port 9000`` as a flag).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs

DEFAULT_PORT = 8735
BLENDER_RELEASES_URL = "https://download.blender.org/release/"
FFMPEG_RELEASES_URL = "https://johnvansickle.com/ffmpeg/releases/"
ENV_PREFIX = "ZORDON_"
# Other names a setting answers to: ``token`` in the file, ``ZORDON_TOKEN``.
ALIASES = {"token": "farm_token"}


@dataclasses.dataclass
class Config:
    """Everything a server needs to know; ``Config()`` is the defaults."""

    host: str = "0.0.0.0"
    port_number: int = DEFAULT_PORT
    data_dir: Path = dataclasses.field(
        default_factory=lambda: Path(platformdirs.user_data_dir("zordon"))
    )
    max_concurrent_jobs: int = 1
    server_threads: int = 64
    long_poll_timeout_s: float = 30.0
    advertise_url: str = ""
    peers: list[str] = dataclasses.field(default_factory=list)
    discovery: bool = True
    farm_token: str = ""
    max_upload_mb: int = 10_240
    blender_path: str = ""
    ffmpeg_path: str = ""
    # Engine versions a job asks for and this server lacks are downloaded from
    # these release indexes (point them at a mirror), unless switched off.
    engine_downloads: bool = True
    blender_releases_url: str = BLENDER_RELEASES_URL
    ffmpeg_releases_url: str = FFMPEG_RELEASES_URL
    log_level: str = "INFO"
    debug: bool = False
    presets_file: str = ""
    peer_status_timeout_s: float = 2.0
    cpu_benchmark_s: float = 10.0
    disk_benchmark_mb: int = 256

    def __post_init__(self) -> None:
        # Engines run inside job folders, so a relative data folder would
        # point somewhere else for them.
        self.data_dir = Path(self.data_dir).expanduser().absolute()
        if self.farm_token and not self.farm_token.strip():
            raise ValueError("the farm token is blank; `zordon token` makes one")
        self.farm_token = self.farm_token.strip()

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def db_path(self) -> Path:
        return self.data_dir / "zordon.sqlite"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def presets_path(self) -> Path:
        """The presets file that adds to the shipped ones (it may not exist)."""
        return Path(self.presets_file or self.data_dir / "presets.yaml").expanduser()

    @property
    def log_path(self) -> Path:
        return self.data_dir / "logs" / "server.log"

    @classmethod
    def load(
        cls,
        flags: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        config_file: Path | None = None,
    ) -> Config:
        """Layer file, environment and flags over the defaults."""
        environ = os.environ if environ is None else environ
        flags = {k: v for k, v in (flags or {}).items() if v not in (None, (), [])}
        env = _from_environ(environ)

        data_dir = flags.get("data_dir") or env.get("data_dir")
        path = config_file or environ.get(f"{ENV_PREFIX}CONFIG")
        file_values = _read_file(Path(path) if path else None, data_dir)

        merged: dict[str, Any] = {**file_values, **env, **_unalias(flags)}
        return cls(**{k: _coerce(k, v) for k, v in merged.items()})


_FIELDS = {f.name: f for f in dataclasses.fields(Config)}


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    values = {}
    for name in _FIELDS:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = raw
    # An alias beats the field's own name: ZORDON_TOKEN over ZORDON_FARM_TOKEN.
    for alias, name in ALIASES.items():
        raw = environ.get(ENV_PREFIX + alias.upper())
        if raw is not None:
            values[name] = raw
    return values


def _unalias(values: Mapping[str, Any]) -> dict[str, Any]:
    plain = {k: v for k, v in values.items() if k not in ALIASES}
    for alias, name in ALIASES.items():
        if alias in values:
            plain[name] = values[alias]
    return plain


def _read_file(path: Path | None, data_dir: str | Path | None) -> dict[str, Any]:
    if path is None:
        folder = Path(data_dir) if data_dir else Config().data_dir
        path = folder / "zordon.toml"
        if not path.exists():
            return {}
    with open(path, "rb") as fh:
        values = _unalias(tomllib.load(fh))
    unknown = set(values) - set(_FIELDS)
    if unknown:
        raise ValueError(f"{path}: unknown settings {', '.join(sorted(unknown))}")
    return values


def _coerce(name: str, value: Any) -> Any:
    """Turn a text value from the environment into the field's type."""
    if name not in _FIELDS:
        raise ValueError(f"unknown setting {name!r}")
    kind = _FIELDS[name].type
    if not isinstance(value, str):
        return Path(value) if kind == "Path" else value
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value.strip().lower() in ("1", "true", "yes", "on")
    if kind == "Path":
        return Path(value).expanduser()
    if kind == "list[str]":
        return [part.strip() for part in value.split(",") if part.strip()]
    return value
