import logging

from zordon import API_VERSION


def test_domain_errors_come_back_as_plain_text(client):
    response = client.get("/api/jobs/nope")

    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert "nope" in response.get_data(as_text=True)


def test_unknown_routes_are_plain_text_404s(client):
    response = client.get("/api/no_such_route")

    assert response.status_code == 404
    assert response.mimetype == "text/plain"


def test_wrong_methods_are_plain_text_405s(client):
    response = client.get("/api/add_job")

    assert response.status_code == 405
    assert response.mimetype == "text/plain"


def test_unexpected_errors_are_plain_text_500s(client, services, monkeypatch):
    def broken(job_id):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.store, "get", broken)

    response = client.get("/api/jobs/abc")

    assert response.status_code == 500
    assert response.mimetype == "text/plain"
    assert "RuntimeError" in response.get_data(as_text=True)


def test_unexpected_errors_are_logged_with_method_path_and_cause(
    client, services, monkeypatch, caplog
):
    def broken(job_id):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.store, "get", broken)

    with caplog.at_level(logging.ERROR, logger="zordon.server.app"):
        client.get("/api/jobs/abc")

    assert "GET /api/jobs/abc" in caplog.text
    assert "disk on fire" in caplog.text


def test_a_matching_api_version_is_accepted(client):
    response = client.get("/api/heartbeat", headers={"X-API-Version": API_VERSION})

    assert response.status_code == 200


def test_a_request_without_api_version_is_accepted(client):
    assert client.get("/api/heartbeat").status_code == 200


def test_a_different_api_version_is_refused(client):
    response = client.get("/api/jobs", headers={"X-API-Version": "9.9"})

    assert response.status_code == 400
    assert API_VERSION in response.get_data(as_text=True)


def test_local_path_from_another_machine_is_refused(remote_client, tmp_path):
    existing = tmp_path / "shot.blend"
    existing.write_bytes(b"BLENDER-v300")

    response = remote_client.post("/api/add_job", json={"local_path": str(existing)})

    assert response.status_code == 400
    assert "only from this machine" in response.get_data(as_text=True)


def test_local_path_from_this_machine_gets_past_the_check(client, tmp_path):
    response = client.post(
        "/api/add_job", json={"local_path": str(tmp_path / "missing.blend")}
    )

    assert response.status_code == 400
    assert "is not a file" in response.get_data(as_text=True)


def test_ipv6_loopback_counts_as_this_machine(app, tmp_path):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "::1"

    response = client.post(
        "/api/add_job", json={"local_path": str(tmp_path / "missing.blend")}
    )

    assert "is not a file" in response.get_data(as_text=True)


def test_heartbeat_is_a_plain_text_timestamp(client):
    response = client.get("/api/heartbeat")

    assert response.mimetype == "text/plain"
    assert float(response.get_data(as_text=True)) > 0


def test_the_api_version_header_is_for_the_api_not_the_web_page(client):
    page = client.get("/", headers={"X-API-Version": "9.0"})
    page.close()  # a file answer holds its file open until then
    api = client.get("/api/status", headers={"X-API-Version": "9.0"})

    assert page.status_code == 200
    assert api.status_code == 400
