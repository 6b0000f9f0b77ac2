"""Servers of a farm send each other the farm token."""

from zordon.cluster import Cluster
from zordon.config import Config
from zordon.server.app import build_services

TOKEN = "farm-token-for-the-peers-0123456789"


def test_every_proxy_the_cluster_makes_carries_the_token(tmp_path):
    config = Config(data_dir=tmp_path / "data", discovery=False, farm_token=TOKEN)
    services = build_services(config)
    try:
        cluster = Cluster(config, services.queue)
        proxy = cluster.peers.proxy("http://127.0.0.1:9")

        sent = proxy._session.headers.get("Authorization")
    finally:
        services.close()

    assert sent == f"Bearer {TOKEN}"
