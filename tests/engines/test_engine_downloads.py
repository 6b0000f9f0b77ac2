"""Release indexes and downloads against an index served on loopback."""

from __future__ import annotations

import errno
import io
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.release_site import ReleaseSite, evil_archive, serve, sha256
from zordon.config import Config
from zordon.engines import EngineRegistry, downloads
from zordon.engines.releases import BlenderIndex, FFmpegIndex, Platform
from zordon.errors import InvalidRequest, NotFound, ServiceUnavailable

LINUX = Platform("linux", "x64")
DOWNLOAD_TIMEOUT_S = 30


@pytest.fixture
def site():
    release_site = ReleaseSite()
    release_site.add_blender("9.0.1")
    release_site.add_blender("9.1.0")
    release_site.add_blender("9.1.2")
    release_site.add_ffmpeg("8.0.1")
    with serve(release_site) as served:
        yield served


@pytest.fixture
def registry(tmp_path, site):
    config = Config(
        data_dir=tmp_path,
        blender_releases_url=f"{site.url}/blender/",
        ffmpeg_releases_url=f"{site.url}/ffmpeg/",
    )
    return EngineRegistry(config)


def install(registry, engine, version):
    release = registry.release(engine, version, Platform.here())
    download = registry.downloads.start(registry.indexes[engine], release)
    assert download.finished.wait(DOWNLOAD_TIMEOUT_S)
    return download


def test_the_newest_series_and_build_is_the_most_recent(site):
    index = BlenderIndex(f"{site.url}/blender/")

    assert index.most_recent(LINUX).version == "9.1.2"
    assert index.find("9.0", LINUX).version == "9.0.1"
    assert index.find("9.1.0", LINUX).version == "9.1.0"
    assert index.find("9.2", LINUX) is None
    assert index.most_recent(Platform("macos", "arm64")) is None


def test_ffmpeg_static_builds_are_read_with_their_published_checksum(site):
    index = FFmpegIndex(f"{site.url}/ffmpeg/")

    release = index.most_recent(LINUX)

    assert release.version == "8.0.1"
    assert index.expected_digest(release)[0] == "md5"
    assert index.most_recent(Platform("windows", "x64")) is None


def test_an_archive_without_a_published_checksum_is_never_offered(site):
    del site.files["/blender/Blender9.1/blender-9.1.2.sha256"]
    site.add_ffmpeg("8.0.1")  # lists the folders again

    assert BlenderIndex(f"{site.url}/blender/").most_recent(LINUX).version == "9.1.0"


def test_an_unreachable_index_is_a_service_unavailable_naming_the_url():
    index = BlenderIndex("http://127.0.0.1:9/release/", timeout_s=2)

    with pytest.raises(ServiceUnavailable, match=r"cannot reach .*127\.0\.0\.1:9"):
        index.most_recent(LINUX)


def test_a_good_download_installs_a_managed_version(registry):
    download = install(registry, "blender", "9.1")

    assert download.status == "done", download.error
    assert download.progress == 1.0
    newest = registry.get("blender")
    assert (newest.version, newest.managed) == ("9.1.2", True)
    assert registry.get("blender", "9.1.2").path.endswith("linux-x64/blender")
    assert not list(registry.downloads.partial_dir.iterdir())


def test_a_checksum_mismatch_installs_nothing(registry, site):
    site.add_blender("9.3.0", digest="f" * 64)

    download = install(registry, "blender", "9.3.0")

    assert download.status == "error"
    assert "checksum mismatch" in download.error
    assert registry.find("blender", "9.3.0") is None
    assert not list(registry.downloads.partial_dir.iterdir())


def test_a_missing_archive_says_404(registry, site):
    del site.files["/blender/Blender9.1/blender-9.1.2-linux-x64.tar.xz"]

    download = install(registry, "blender", "9.1.2")

    assert download.status == "error"
    assert "HTTP 404" in download.error
    assert registry.find("blender", "9.1.2") is None


def test_a_download_cut_short_installs_nothing(registry, site):
    path = "/blender/Blender9.1/blender-9.1.2-linux-x64.tar.xz"
    site.short[path] = 100

    download = install(registry, "blender", "9.1.2")

    assert download.status == "error"
    assert "stopped after" in download.error
    assert registry.find("blender", "9.1.2") is None


def test_a_truncated_archive_with_a_matching_checksum_is_refused(registry, site):
    whole = site.add_blender("9.4.0")
    truncated = whole[: len(whole) // 2]
    site.files["/blender/Blender9.4/blender-9.4.0-linux-x64.tar.xz"] = truncated
    site.add_blender("9.4.0", digest=sha256(truncated))
    site.files["/blender/Blender9.4/blender-9.4.0-linux-x64.tar.xz"] = truncated

    download = install(registry, "blender", "9.4.0")

    assert download.status == "error"
    assert "is damaged" in download.error
    assert registry.find("blender", "9.4.0") is None


def test_an_archive_that_climbs_out_is_refused(registry, site, tmp_path):
    data = evil_archive("blender-9.5.0-linux-x64")
    site.add_blender("9.5.0", digest=sha256(data))
    site.files["/blender/Blender9.5/blender-9.5.0-linux-x64.tar.xz"] = data

    download = install(registry, "blender", "9.5.0")

    assert download.status == "error"
    assert not list(tmp_path.rglob("escaped.txt"))


def test_a_program_that_answers_another_version_is_refused(registry, site):
    site.add_blender("9.6.0", says="2.79")

    download = install(registry, "blender", "9.6.0")

    assert download.status == "error"
    assert "says it is version 2.79, not 9.6.0" in download.error


def test_a_download_without_room_to_unpack_is_refused_before_it_starts(
    registry, monkeypatch
):
    usage = shutil.disk_usage("/")
    monkeypatch.setattr(
        downloads.shutil, "disk_usage", lambda path: usage._replace(free=1000)
    )

    download = install(registry, "blender", "9.1.2")

    assert download.status == "error"
    assert download.error.startswith("not enough disk space in ")
    assert "the disk has only 1,000 bytes free" in download.error
    assert download.bytes_done == 0


def test_a_full_disk_leaves_nothing_half_installed(registry, monkeypatch):
    class FullDisk(io.RawIOBase):
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    def full_open(path, mode="r", *args, **kwargs):
        return FullDisk() if "w" in mode else open(path, mode, *args, **kwargs)

    monkeypatch.setattr(downloads, "open", full_open, raising=False)

    download = install(registry, "blender", "9.1.2")

    assert download.status == "error"
    assert download.error.startswith("the disk is full")
    assert registry.find("blender", "9.1.2") is None
    assert not list(registry.downloads.partial_dir.iterdir())


def test_a_second_request_joins_the_download_under_way(registry):
    release = registry.release("blender", "9.1.2", Platform.here())
    first = registry.downloads.start(registry.indexes["blender"], release)
    second = registry.downloads.start(registry.indexes["blender"], release)

    assert first is second
    assert first.finished.wait(DOWNLOAD_TIMEOUT_S)


def test_delete_removes_a_managed_version_only(registry):
    install(registry, "blender", "9.0.1")
    system = registry.versions("blender")[-1]

    registry.delete("blender", "9.0.1", Platform.here())

    assert registry.find("blender", "9.0.1") is None
    assert not list((registry.engines_dir / "blender").glob("9.0.1*"))
    with pytest.raises(InvalidRequest, match="system install"):
        registry.delete("blender", system.version, Platform.here())
    with pytest.raises(NotFound):
        registry.delete("blender", "9.0.1", Platform.here())


def test_installed_versions_survive_a_new_registry(registry, tmp_path, site):
    install(registry, "ffmpeg", "8.0.1")

    again = EngineRegistry(
        Config(data_dir=tmp_path, ffmpeg_releases_url=f"{site.url}/ffmpeg/")
    )

    assert again.get("ffmpeg").version == "8.0.1"
    assert again.get("ffmpeg").managed


def test_a_job_version_is_downloaded_first_when_allowed(registry):
    checker, version = registry.prepare("blender", "9.1")

    assert (checker.name, version) == ("blender", "9.1.2")
    assert registry.resolve("blender", version).version == "9.1.2"


def test_a_job_version_is_refused_when_downloads_are_off(tmp_path):
    registry = EngineRegistry(Config(data_dir=tmp_path, engine_downloads=False))

    with pytest.raises(InvalidRequest, match="engine downloads are off"):
        registry.prepare("blender", "9.1")
    with pytest.raises(InvalidRequest, match="version must look like"):
        registry.prepare("blender", "latest; rm -rf /")


def test_a_failed_download_fails_the_job_with_its_reason(registry, site):
    site.add_blender("9.7.0", digest="0" * 64)

    _, version = registry.prepare("blender", "9.7.0")

    with pytest.raises(ServiceUnavailable, match="checksum mismatch"):
        registry.resolve("blender", version)


def test_a_platform_defaults_to_this_machine_and_takes_aliases():
    here = Platform.here()

    assert Platform.parse(None, None) == here
    assert Platform.parse("Linux", "AMD64") == Platform("linux", "x64")
    assert Platform.parse("macos", "aarch64") == Platform("macos", "arm64")
    with pytest.raises(InvalidRequest, match="system_os must be one of"):
        Platform.parse("beos", None)


class _Endless(BaseHTTPRequestHandler):
    """An index page that never ends: a flood, or one byte at a time."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(10**11))
        self.end_headers()
        flood = self.path.startswith("/flood")
        try:
            while True:
                self.wfile.write(b"<a href='x'>x</a>\n" * 4096 if flood else b" ")
                if not flood:
                    time.sleep(0.2)
        except OSError:
            pass  # the client gave up, as it should

    def log_message(self, *args):
        pass


@pytest.fixture
def endless_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", ["/flood/", "/trickle/"])
def test_an_index_page_that_never_ends_is_cut_off(endless_url, path):
    index = BlenderIndex(endless_url + path, timeout_s=1.0)

    with pytest.raises(ServiceUnavailable, match=r"over 4 MB|did not answer in time"):
        index.most_recent(LINUX)


def test_a_job_whose_version_went_away_fetches_it_again(registry):
    install(registry, "blender", "9.0.1")
    registry.delete("blender", "9.0.1", Platform.here())

    engine = registry.resolve("blender", "9.0.1")

    assert (engine.version, engine.managed) == ("9.0.1", True)


def test_without_downloads_a_missing_job_version_says_why(tmp_path):
    registry = EngineRegistry(Config(data_dir=tmp_path, engine_downloads=False))

    with pytest.raises(ServiceUnavailable, match="engine downloads are off"):
        registry.resolve("blender", "9.0.1")


def test_delete_takes_the_exact_version_and_platform(registry):
    install(registry, "blender", "9.0.1")

    with pytest.raises(NotFound, match="exact version"):
        registry.delete("blender", "9.0", Platform.here())
    with pytest.raises(NotFound, match="windows-x64"):
        registry.delete("blender", "9.0.1", Platform("windows", "x64"))
    assert registry.find("blender", "9.0.1") is not None
