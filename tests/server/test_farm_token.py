"""With a farm token, every /api route but the heartbeat needs it; without one,
only this machine is served."""

from __future__ import annotations

import re

import pytest

from zordon.config import Config
from zordon.server import access
from zordon.server.app import build_services, create_app

TOKEN = "correct horse battery staple"
OPEN_ROUTES = {"/api/heartbeat"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("token") / "data"
    config = Config(data_dir=data_dir, discovery=False, farm_token=TOKEN, debug=True)
    services = build_services(config)
    yield create_app(config, services)
    services.close()


def _routes(app) -> list[tuple[str, str]]:
    """(method, path) of every /api route, path arguments filled with ``nope``."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "nope", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


def _call(app, method: str, path: str, header: str | None, remote: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = remote
    headers = {"Authorization": header} if header else {}
    response = client.open(path, method=method, headers=headers)
    response.close()  # a file route leaves its file open until then
    return response


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_every_route_but_the_heartbeat_refuses_a_missing_or_wrong_token(app, header):
    refused = {
        (method, path): _call(app, method, path, header).status_code
        for method, path in _routes(app)
        if path not in OPEN_ROUTES
    }

    assert refused and set(refused.values()) == {401}, refused


def test_every_route_lets_the_right_token_in(app):
    answered = {
        (method, path): _call(app, method, path, f"Bearer {TOKEN}").status_code
        for method, path in _routes(app)
    }

    assert not {k: v for k, v in answered.items() if v in (401, 403)}


def test_the_refusal_says_what_is_missing(app):
    response = _call(app, "GET", "/api/jobs", None)

    assert "Authorization: Bearer" in response.get_data(as_text=True)


def test_the_heartbeat_needs_no_token(app):
    assert _call(app, "GET", "/api/heartbeat", None).status_code == 200


def test_the_right_token_works_from_another_machine(app):
    response = _call(app, "GET", "/api/jobs", f"Bearer {TOKEN}", remote="10.1.2.3")

    assert response.status_code == 200


def test_the_web_page_needs_no_token(app):
    """The page holds no data; it asks for the token and sends it to /api."""
    assert _call(app, "GET", "/", None).status_code == 200
    assert _call(app, "GET", "/ui/app.js", None).status_code == 200


@pytest.fixture
def tokenless_app(tmp_path):
    config = Config(data_dir=tmp_path / "data", discovery=False)
    services = build_services(config)
    yield create_app(config, services)
    services.close()


@pytest.mark.parametrize(
    "remote", ["10.1.2.3", "192.168.1.20", "fe80::1", "::ffff:10.0.0.1"]
)
def test_without_a_token_other_machines_get_a_403_that_says_what_to_do(
    tokenless_app, remote
):
    response = _call(tokenless_app, "GET", "/api/jobs", None, remote=remote)

    assert response.status_code == 403
    assert "zordon token" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "remote", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]
)
def test_without_a_token_this_machine_is_served(tokenless_app, remote):
    response = _call(tokenless_app, "GET", "/api/jobs", None, remote=remote)

    assert response.status_code == 200


def test_a_new_token_is_long_and_random():
    tokens = {access.new_token() for _ in range(20)}

    assert len(tokens) == 20
    assert all(len(token) >= 40 for token in tokens)


def test_token_comparison_needs_the_bearer_scheme_and_the_exact_token():
    assert access.token_matches(f"Bearer {TOKEN}", TOKEN)
    assert access.token_matches(f"bearer  {TOKEN} ", TOKEN)
    assert not access.token_matches(f"Bearer {TOKEN}x", TOKEN)
    assert not access.token_matches(f"Token {TOKEN}", TOKEN)
    assert not access.token_matches("Bearer ", TOKEN)


def _from_browser(app, method: str, path: str, **headers: str):
    client = app.test_client()
    response = client.open(path, method=method, headers=headers)
    response.close()
    return response


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.2"])
def test_a_page_of_another_site_cannot_use_the_api_even_from_this_machine(
    tokenless_app, origin
):
    posted = _from_browser(
        tokenless_app, "POST", "/api/jobs/x/delete?confirm=1", Origin=origin
    )
    read = _from_browser(tokenless_app, "GET", "/api/jobs", Origin=origin)

    assert posted.status_code == read.status_code == 403
    assert "web page" in read.get_data(as_text=True)


def test_the_servers_own_page_and_clients_without_an_origin_are_served(tokenless_app):
    own = _from_browser(
        tokenless_app, "GET", "/api/jobs", Origin="http://localhost", Host="localhost"
    )
    script = _from_browser(tokenless_app, "GET", "/api/jobs")

    assert own.status_code == script.status_code == 200


@pytest.mark.parametrize("host", ["evil.example:8735", "10.0.0.5:8735", "zordon"])
def test_without_a_token_only_loopback_names_are_answered(tokenless_app, host):
    rebound = _from_browser(tokenless_app, "GET", "/api/jobs", Host=host)
    loopback = _from_browser(tokenless_app, "GET", "/api/jobs", Host="[::1]:8735")

    assert rebound.status_code == 403
    assert loopback.status_code == 200


def test_with_a_token_any_host_name_may_carry_it(app):
    response = _from_browser(
        app,
        "GET",
        "/api/jobs",
        Host="render-a.lan:8735",
        Authorization=f"Bearer {TOKEN}",
    )

    assert response.status_code == 200
