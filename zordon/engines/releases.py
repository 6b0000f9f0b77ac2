"""Where engine versions come from: the release indexes Zordon reads.

Blender publishes one folder per series (``Blender4.2/``) under its release
root, each listing an archive per OS and CPU and a ``blender-4.2.3.sha256``
file. FFmpeg static builds come as ``ffmpeg-7.0.2-amd64-static.tar.xz`` in
one folder, each with a ``.sha256`` or ``.md5`` file beside it. Both roots
are settings, so a studio can point Zordon at its own mirror.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import re
import time
from abc import ABC, abstractmethod
from html.parser import HTMLParser
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from zordon.errors import InvalidRequest, ServiceUnavailable

logger = logging.getLogger(__name__)

INDEX_TIMEOUT_S = 10.0
MAX_PAGE_BYTES = 4 * 2**20  # a release folder's listing is a few kB
PAGE_CHUNK_BYTES = 64 * 2**10
SYSTEMS = ("linux", "windows", "macos")
CPUS = ("x64", "arm64")
CPU_ALIASES = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}


@dataclasses.dataclass(frozen=True)
class Platform:
    """The OS and CPU an engine build runs on."""

    system_os: str
    cpu: str

    @classmethod
    def here(cls) -> Platform:
        system = platform.system().lower()
        system = "macos" if system == "darwin" else system
        machine = platform.machine().lower()
        return cls(system, CPU_ALIASES.get(machine, machine))

    @classmethod
    def parse(cls, system_os: str | None, cpu: str | None) -> Platform:
        """The platform a request names; this machine's for what it leaves out."""
        here = cls.here()
        system = (system_os or here.system_os).strip().lower()
        arch = (cpu or here.cpu).strip().lower()
        arch = CPU_ALIASES.get(arch, arch)
        if system not in SYSTEMS:
            raise InvalidRequest(f"system_os must be one of {', '.join(SYSTEMS)}")
        if arch not in CPUS:
            raise InvalidRequest(f"cpu must be one of {', '.join(CPUS)}")
        return cls(system, arch)

    def __str__(self) -> str:
        return f"{self.system_os}-{self.cpu}"


@dataclasses.dataclass(frozen=True)
class Release:
    """One downloadable build of one engine version."""

    engine: str
    version: str
    platform: Platform
    url: str
    checksum_url: str

    @property
    def filename(self) -> str:
        return urlsplit(self.url).path.rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, str]:
        return {
            "engine": self.engine,
            "version": self.version,
            "system_os": self.platform.system_os,
            "cpu": self.platform.cpu,
            "url": self.url,
        }


def check_version(text: object) -> str:
    """A version as a request gives it (``4.2`` or ``4.2.3``), or 400."""
    version = str(text if text is not None else "").strip()
    if not re.fullmatch(r"\d{1,4}(?:\.\d{1,4}){0,3}", version):
        raise InvalidRequest(
            f"version must look like 4.2 or 4.2.3, not {version[:40]!r}"
        )
    return version


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def version_matches(wanted: str, version: str) -> bool:
    """``4.2`` matches ``4.2.3``; ``4.2.3`` matches only itself."""
    want = version_key(wanted)
    return bool(want) and version_key(version)[: len(want)] == want


class ReleaseIndex(ABC):
    """The downloadable versions of one engine, read from a web folder."""

    engine: ClassVar[str]

    def __init__(self, base_url: str, timeout_s: float = INDEX_TIMEOUT_S) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout_s = timeout_s

    @abstractmethod
    def releases(self, target: Platform, wanted: str = "") -> list[Release]:
        """Builds for ``target`` whose version matches ``wanted``, newest first."""

    def find(self, wanted: str, target: Platform) -> Release | None:
        """The newest build of ``wanted`` (``4.2`` or ``4.2.3``) for ``target``."""
        return next(iter(self.releases(target, wanted)), None)

    def most_recent(self, target: Platform) -> Release | None:
        return next(iter(self.releases(target)), None)

    def expected_digest(self, release: Release) -> tuple[str, str]:
        """``(algorithm, hex digest)`` the index publishes for ``release``."""
        algorithm = release.checksum_url.rsplit(".", 1)[-1]
        for line in self.fetch(release.checksum_url).splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].lstrip("*") == release.filename:
                return algorithm, parts[0].lower()
            if len(parts) == 1 and re.fullmatch(r"[0-9a-fA-F]{32,128}", parts[0]):
                return algorithm, parts[0].lower()
        raise ServiceUnavailable(
            f"{release.checksum_url} lists no checksum for {release.filename}"
        )

    def links(self, url: str) -> dict[str, str]:
        """The links of a directory listing: ``{last path part: absolute url}``."""
        parser = _LinkParser()
        parser.feed(self.fetch(url))
        found = {}
        for href in parser.hrefs:
            absolute = urljoin(url, href)
            name = urlsplit(absolute).path.rstrip("/").rsplit("/", 1)[-1]
            if name:
                found[name] = absolute
        return found

    def fetch(self, url: str) -> str:
        """A page of the index; 503 when unreachable, '' when not there.

        A page is read whole within ``timeout_s`` and ``MAX_PAGE_BYTES``,
        however slowly or endlessly a broken mirror sends it.
        """
        try:
            with requests.get(url, timeout=self.timeout_s, stream=True) as response:
                if response.status_code == 404:
                    return ""
                if not response.ok:
                    raise ServiceUnavailable(
                        f"the {self.engine} release index at {url} answered "
                        f"HTTP {response.status_code}"
                    )
                return self._read_page(url, response)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise self._unreachable(url, _reason(exc)) from exc

    def _read_page(self, url: str, response: requests.Response) -> str:
        # read1 returns whatever has come, so the deadline is checked even
        # while a broken mirror trickles a byte at a time.
        deadline = time.monotonic() + self.timeout_s
        body = bytearray()
        while chunk := response.raw.read1(PAGE_CHUNK_BYTES, decode_content=True):
            body += chunk
            if len(body) > MAX_PAGE_BYTES:
                raise ServiceUnavailable(
                    f"the {self.engine} release index at {url} sent a page "
                    f"over {MAX_PAGE_BYTES // 2**20} MB; is it a release folder?"
                )
            if time.monotonic() > deadline:
                raise self._unreachable(url, "it did not answer in time")
        return body.decode(response.encoding or "utf-8", errors="replace")

    def _unreachable(self, url: str, why: str) -> ServiceUnavailable:
        return ServiceUnavailable(
            f"cannot reach the {self.engine} release index at {url}: {why}"
        )


class BlenderIndex(ReleaseIndex):
    engine = "blender"
    SERIES = re.compile(r"Blender(?P<series>\d+\.\d+)$")
    ARCHIVE = re.compile(
        r"blender-(?P<version>\d+\.\d+(?:\.\d+)?)-(?P<os>linux|windows|macos)"
        r"-(?P<cpu>x64|arm64)\.(?:tar\.xz|tar\.gz|zip|dmg)$"
    )

    def releases(self, target: Platform, wanted: str = "") -> list[Release]:
        for series, url in self._series(wanted):
            found = self._in_series(url, target, wanted)
            if found:
                return found
            logger.debug("no %s build in Blender%s", target, series)
        return []

    def _series(self, wanted: str) -> list[tuple[str, str]]:
        """The series folders that may hold ``wanted``, newest first."""
        want = version_key(wanted)
        if len(want) >= 2:
            series = f"{want[0]}.{want[1]}"
            return [(series, urljoin(self.base_url, f"Blender{series}/"))]
        listed = []
        for name, url in self.links(self.base_url).items():
            match = self.SERIES.match(name)
            if match and version_matches(wanted or match["series"], match["series"]):
                listed.append((match["series"], url.rstrip("/") + "/"))
        return sorted(listed, key=lambda item: version_key(item[0]), reverse=True)

    def _in_series(self, url: str, target: Platform, wanted: str) -> list[Release]:
        links = self.links(url)
        found = []
        for name, link in links.items():
            match = self.ARCHIVE.match(name)
            if not match or (match["os"], match["cpu"]) != dataclasses.astuple(target):
                continue
            version = match["version"]
            if wanted and not version_matches(wanted, version):
                continue
            checksum = links.get(f"blender-{version}.sha256")
            if checksum is None:
                logger.info("%s has no published checksum; skipped", name)
                continue
            found.append(Release(self.engine, version, target, link, checksum))
        return sorted(found, key=lambda r: version_key(r.version), reverse=True)


class FFmpegIndex(ReleaseIndex):
    engine = "ffmpeg"
    ARCHIVE = re.compile(
        r"ffmpeg-(?P<version>\d+(?:\.\d+)+)-(?P<cpu>amd64|arm64)-static\.tar\.xz$"
    )

    def releases(self, target: Platform, wanted: str = "") -> list[Release]:
        if target.system_os != "linux":
            return []  # static builds are made for Linux only
        links = self.links(self.base_url)
        found = []
        for name, link in links.items():
            match = self.ARCHIVE.match(name)
            if not match or CPU_ALIASES[match["cpu"]] != target.cpu:
                continue
            if wanted and not version_matches(wanted, match["version"]):
                continue
            checksum = links.get(f"{name}.sha256") or links.get(f"{name}.md5")
            if checksum is None:
                logger.info("%s has no published checksum; skipped", name)
                continue
            found.append(Release(self.engine, match["version"], target, link, checksum))
        return sorted(found, key=lambda r: version_key(r.version), reverse=True)


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for key, value in attrs if key == "href" and value)


def _reason(exc: BaseException) -> str:
    """Why a request failed, in words rather than urllib3's repr."""
    if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError):
        return "it did not answer in time"
    if isinstance(exc, requests.ConnectionError):
        return "the connection failed (is the address right, and the network up?)"
    return f"{type(exc).__name__}: {exc}"[:200]
