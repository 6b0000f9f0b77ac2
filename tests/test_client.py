"""RenderServerProxy against a real server on loopback."""

import socket

import pytest

from tests.helpers import LOOPBACK, free_port, submit, wait_until
from zordon import API_VERSION
from zordon.client import (
    BadRequest,
    NotFoundError,
    RenderServerProxy,
    ServerTimeout,
    ServerUnreachable,
)

pytestmark = pytest.mark.real

UPDATE_TIMEOUT_S = 30.0


def test_every_request_carries_the_api_version(proxy):
    response = proxy.request("GET", "/heartbeat")

    assert response.request.headers["X-API-Version"] == API_VERSION


def test_a_400_raises_bad_request_with_the_servers_message(proxy):
    with pytest.raises(BadRequest, match="no job with id 'nope'") as caught:
        proxy.get_job("nope")

    assert caught.value.status == 400
    assert not caught.value.retryable


def test_a_404_raises_not_found(proxy):
    with pytest.raises(NotFoundError):
        proxy.request("GET", "/no_such_route")


def test_a_server_that_is_not_there_is_unreachable_and_retryable():
    proxy = RenderServerProxy(f"http://{LOOPBACK}:{free_port()}", timeout_s=2)

    with pytest.raises(ServerUnreachable) as caught:
        proxy.get_jobs()

    assert caught.value.retryable
    assert proxy.check_connection() is False


def test_a_server_that_never_answers_raises_server_timeout():
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen()
        port = silent.getsockname()[1]
        proxy = RenderServerProxy(f"http://{LOOPBACK}:{port}", timeout_s=0.2)

        with pytest.raises(ServerTimeout) as caught:
            proxy.get_jobs()

    assert caught.value.retryable


def test_check_connection_is_true_for_a_live_server(proxy):
    assert proxy.check_connection() is True


def test_the_engines_this_server_has_are_listed(proxy):
    assert set(proxy.get_engine_names()) == {"blender", "ffmpeg"}
    assert proxy.get_engine("blender")["version"].startswith("3.")
    assert proxy.get_engine_for_filename("/any/dir/shot.blend") == "blender"


def test_the_updater_keeps_the_job_list_fresh(server, scene_blend):
    proxy = server.proxy()
    proxy.start_updater()
    try:
        job = submit(proxy, scene_blend, name="seen by the updater")
        while job["id"] not in [j["id"] for j in proxy.get_jobs()]:
            assert proxy.wait_for_update(UPDATE_TIMEOUT_S), "no update arrived"
    finally:
        proxy.stop_updater()
        proxy.cancel_job(job["id"])


def test_status_names_the_host_and_its_cpu(proxy):
    wait_until(lambda: proxy.get_status()["cpu_brand"], 20.0, "the CPU's name")

    status = proxy.get_status()

    assert status["cpu_count"] >= 1
    assert len(status["server_id"]) == 32
    assert status["api_version"] == API_VERSION
