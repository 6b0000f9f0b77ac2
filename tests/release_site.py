"""A release index on loopback, shaped like Blender's and FFmpeg's real ones.

Archives hold a small shell script named like the engine. Asked for its
version, it answers as the engine would; asked anything else, it says who it
is and hands over to the real program, so a job can render with it.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BLENDER_SCRIPT = """#!/bin/sh
for arg in "$@"; do
    if [ "$arg" = "--version" ]; then
        echo "Blender {version}"
        echo "	build date: 2026-01-01"
        exit 0
    fi
done
echo "test wrapper: Blender {version}"
exec {real} "$@"
"""

FFMPEG_SCRIPT = """#!/bin/sh
if [ "$1" = "-version" ]; then
    echo "ffmpeg version {version}-static Copyright (c) the FFmpeg developers"
    exit 0
fi
exec {real} "$@"
"""


def program_archive(engine: str, version: str, folder: str, says: str = "") -> bytes:
    """A .tar.xz holding ``folder/<engine>`` that answers as ``says`` (or version)."""
    real = shutil.which(engine) or f"/usr/bin/{engine}"
    template = BLENDER_SCRIPT if engine == "blender" else FFMPEG_SCRIPT
    script = template.format(version=says or version, real=real).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
        _add(tar, f"{folder}/{engine}", script, 0o755)
        _add(tar, f"{folder}/readme.txt", b"a test build\n", 0o644)
    return buffer.getvalue()


def evil_archive(folder: str) -> bytes:
    """A .tar.xz with a member that climbs out of the folder it unpacks into."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
        _add(tar, f"{folder}/blender", b"#!/bin/sh\n", 0o755)
        _add(tar, "../../escaped.txt", b"out\n", 0o644)
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listing(names: list[str]) -> bytes:
    """An autoindex page like the ones release servers print."""
    rows = "".join(
        f'<a href="{name}">{name}</a>{" " * 20}01-Jan-2026 10:00    -\n'
        for name in names
    )
    page = f"<html><body><h1>Index</h1><pre><a href='../'>../</a>\n{rows}</pre>"
    return (page + "</body></html>").encode()


class ReleaseSite:
    """Files by URL path, plus ways to break them: short bodies."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.short: dict[str, int] = {}  # path -> bytes really sent
        self.requests: list[str] = []
        self.url = ""

    def add_blender(self, version: str, says: str = "", digest: str = "") -> bytes:
        """Publish ``blender-<version>-linux-x64.tar.xz`` with its .sha256."""
        series = "Blender" + ".".join(version.split(".")[:2])
        name = f"blender-{version}-linux-x64"
        data = program_archive("blender", version, name, says)
        self.files[f"/blender/{series}/{name}.tar.xz"] = data
        sums = f"{digest or sha256(data)}  {name}.tar.xz\n"
        sums += f"{'0' * 64}  blender-{version}-windows-x64.zip\n"
        self.files[f"/blender/{series}/blender-{version}.sha256"] = sums.encode()
        self.files[f"/blender/{series}/blender-{version}-windows-x64.zip"] = b"zip"
        self._relist()
        return data

    def add_ffmpeg(self, version: str) -> bytes:
        name = f"ffmpeg-{version}-amd64-static"
        data = program_archive("ffmpeg", version, name)
        self.files[f"/ffmpeg/{name}.tar.xz"] = data
        self.files[f"/ffmpeg/{name}.tar.xz.md5"] = (
            f"{hashlib.md5(data).hexdigest()}  {name}.tar.xz\n".encode()
        )
        self._relist()
        return data

    def _relist(self) -> None:
        folders: dict[str, set[str]] = {}
        for path in self.files:
            if path.endswith("/"):
                continue
            parts = path.strip("/").split("/")
            for depth in range(len(parts)):
                folder = "/" + "/".join(parts[:depth]) + ("/" if depth else "")
                child = parts[depth] + ("/" if depth < len(parts) - 1 else "")
                folders.setdefault(folder.replace("//", "/"), set()).add(child)
        for folder, children in folders.items():
            self.files[folder] = listing(sorted(children))


@contextmanager
def serve(site: ReleaseSite) -> Iterator[ReleaseSite]:
    """Serve ``site`` on a free loopback port for the ``with`` block."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            data = site.files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: site.short.get(self.path, len(data))])

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
