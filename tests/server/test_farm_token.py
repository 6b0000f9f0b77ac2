"""With a farm token set, changes need it; reads stay open."""

import pytest

from zordon.config import Config
from zordon.server.app import build_services, create_app

TOKEN = "correct horse battery staple"


@pytest.fixture
def client(tmp_path):
    config = Config(
        data_dir=tmp_path / "data", discovery=False, farm_token=TOKEN, debug=True
    )
    services = build_services(config)
    yield create_app(config, services).test_client()
    services.close()


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_a_change_without_the_token_is_a_401(client, header):
    headers = {"Authorization": header} if header else {}

    response = client.post("/api/_debug/clear_history", headers=headers)

    assert response.status_code == 401
    assert "token" in response.get_data(as_text=True)


def test_a_change_with_the_token_goes_through(client):
    response = client.post(
        "/api/_debug/clear_history", headers={"Authorization": f"Bearer {TOKEN}"}
    )

    assert response.status_code == 200


def test_reads_need_no_token(client):
    assert client.get("/api/jobs").status_code == 200
    assert client.get("/api/heartbeat").status_code == 200
