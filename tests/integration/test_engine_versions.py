"""Engine versions through real servers: download, render with, delete, split."""

from __future__ import annotations

import pytest

from tests.helpers import start_farm, wait_for_job, wait_until
from tests.integration.test_cli import zordon
from tests.integration.test_cluster import servers_used, submit_split
from tests.release_site import ReleaseSite, serve
from zordon.client import BadRequest, ServiceUnavailable

pytestmark = pytest.mark.real


@pytest.fixture
def site():
    release_site = ReleaseSite()
    release_site.add_blender("9.0.1")
    release_site.add_blender("9.1.2")
    release_site.add_ffmpeg("8.0.1")
    with serve(release_site) as served:
        yield served


def index_env(site: ReleaseSite, **more: str) -> dict[str, str]:
    return {
        "ZORDON_BLENDER_RELEASES_URL": f"{site.url}/blender/",
        "ZORDON_FFMPEG_RELEASES_URL": f"{site.url}/ffmpeg/",
        **more,
    }


def versions(proxy, engine="blender"):
    return {v["version"]: v["managed"] for v in proxy.get_engine(engine)["versions"]}


def test_a_job_asking_for_a_version_gets_it_downloaded_and_renders_with_it(
    start_server, site, scene_blend
):
    proxy = start_server(**index_env(site)).proxy()

    job = proxy.create_job({"engine_version": "9.1", "end_frame": 2}, scene_blend)
    done = wait_for_job(proxy, job["id"])

    assert done["status"] == "completed", done
    assert done["engine_version"] == "9.1.2"
    assert "test wrapper: Blender 9.1.2" in proxy.get_job_logs(job["id"])
    assert proxy.get_job_files(job["id"]) == ["scene_0001.png", "scene_0002.png"]
    assert versions(proxy)["9.1.2"] is True
    [download] = proxy.get_engine("blender")["downloads"]
    assert (download["status"], download["progress"]) == ("done", 1.0)


def test_the_cli_downloads_lists_uses_and_deletes_a_version(
    start_server, site, scene_blend
):
    server = start_server(**index_env(site))
    at = ("--server", server.url)

    got = zordon("engines", "download", "blender", "9.0.1", *at)
    listed = zordon("engines", *at)
    again = zordon("engines", "download", "blender", "9.0.1", *at)
    used = zordon(
        "submit", str(scene_blend), "--frames", "1", "--engine-version", "9.0", *at
    )
    job_id = used.stdout.strip()
    wait_for_job(server.proxy(), job_id)
    gone = zordon("engines", "delete", "blender", "9.0.1", *at)

    assert got.returncode == 0, got.stderr
    assert "blender 9.0.1 installed" in got.stderr
    assert "9.0.1" in listed.stdout and "managed" in listed.stdout
    assert "already installed" in again.stderr
    assert "test wrapper: Blender 9.0.1" in server.proxy().get_job_logs(job_id)
    assert gone.returncode == 0, gone.stderr
    assert "9.0.1" not in versions(server.proxy())


def test_the_cli_refuses_to_delete_a_system_install(start_server, site):
    server = start_server(**index_env(site))
    system = server.proxy().get_engine("blender")["version"]

    refused = zordon("engines", "delete", "blender", system, "--server", server.url)

    assert refused.returncode != 0
    assert "system install" in refused.stderr


def test_download_routes_answer_from_the_index(start_server, site):
    proxy = start_server(**index_env(site)).proxy()

    newest = proxy.engine_most_recent_version("blender")
    there = proxy.engine_download_available("blender", "9.1")
    absent = proxy.engine_download_available("blender", "9.4")
    windows = proxy.engine_download_available("blender", "9.1.2", system_os="windows")
    ffmpeg = proxy.engine_most_recent_version("ffmpeg")

    assert (newest["version"], newest["system_os"]) == ("9.1.2", "linux")
    assert there["available"] and there["version"] == "9.1.2"
    assert not absent["available"]
    assert windows["available"] and windows["url"].endswith("windows-x64.zip")
    assert ffmpeg["version"] == "8.0.1"


def test_offline_the_network_routes_answer_503_and_the_rest_work(
    start_server, scene_blend
):
    proxy = start_server().proxy()  # its release indexes point at a dead port

    for call in (
        lambda: proxy.engine_most_recent_version("blender"),
        lambda: proxy.engine_download_available("blender", "9.1"),
        lambda: proxy.download_engine("blender", "9.1.2"),
        lambda: proxy.create_job({"engine_version": "9.1"}, scene_blend),
    ):
        with pytest.raises(ServiceUnavailable, match="cannot reach the blender"):
            call()
    assert "blender" in proxy.get_engine_names()
    assert proxy.get_engines("full")["blender"]["export_formats"]


def test_bad_engine_requests_get_a_4xx(start_server, scene_blend):
    proxy = start_server(ZORDON_ENGINE_DOWNLOADS="false").proxy()

    with pytest.raises(BadRequest, match="engine downloads are off"):
        proxy.create_job({"engine_version": "9.1"}, scene_blend)
    with pytest.raises(BadRequest, match="unknown renderer"):
        proxy.get_engine("maya")
    with pytest.raises(BadRequest, match="unknown renderer"):
        proxy.download_engine("maya", "1.0")
    with pytest.raises(BadRequest, match="version must look like"):
        proxy.download_engine("blender", "../../etc")
    with pytest.raises(BadRequest, match="cpu must be one of"):
        proxy.engine_download_available("blender", "9.1", cpu="sparc")


def test_a_split_job_goes_only_to_servers_that_have_or_may_fetch_its_version(
    tmp_path, site, scene_blend
):
    envs = [
        index_env(site),
        index_env(site, ZORDON_ENGINE_DOWNLOADS="false"),
        index_env(site),
    ]
    farm = start_farm(tmp_path / "farm", size=3, envs=envs)
    try:
        refusing = farm[1].proxy().get_engine_availability("blender", "9.1.2")
        assert refusing["version_ready"] is False

        job = submit_split(
            farm[0], scene_blend, tmp_path / "pack", engine_version="9.1.2"
        )
        done = wait_for_job(farm[0].proxy(), job["id"], timeout_s=120)

        assert done["status"] == "completed", done
        assert servers_used(done) == {farm[0].url, farm[2].url}
        wait_until(
            lambda: "9.1.2" in versions(farm[2].proxy()),
            timeout_s=10,
            what="the peer to list the version it fetched",
        )
    finally:
        for server in farm:
            server.stop()
