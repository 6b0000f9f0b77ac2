import pytest

from zordon.config import Config
from zordon.server.app import build_services, create_app

LONG_POLL_TIMEOUT_S = 0.2


@pytest.fixture
def services(tmp_path):
    """A server's services (debug routes on) with its runner stopped."""
    config = Config(
        data_dir=tmp_path / "data",
        discovery=False,
        long_poll_timeout_s=LONG_POLL_TIMEOUT_S,
        debug=True,
    )
    built = build_services(config)
    yield built
    built.close()


@pytest.fixture
def app(services):
    return create_app(services.config, services)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def remote_client(app):
    """A client on another machine (only the WSGI environ says so)."""
    remote = app.test_client()
    remote.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    return remote
