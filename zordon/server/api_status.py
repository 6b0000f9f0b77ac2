"""Connectivity and status routes."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify

from zordon import API_VERSION, __version__, system
from zordon.server.app import services

blueprint = Blueprint("status", __name__)


@blueprint.get("/heartbeat")
def heartbeat() -> Response:
    return Response(f"{time.time():.3f}", mimetype="text/plain")


def local_status() -> dict[str, Any]:
    svc = services()
    counts = svc.store.status_counts()
    return {
        "timestamp": time.time(),
        "server_id": system.server_id(svc.config.data_dir),
        "url": svc.cluster.self_url if svc.cluster else None,
        **system.host_facts(),
        "port": svc.config.port_number,
        "job_counts": counts,
        "app_version": __version__,
        "api_version": API_VERSION,
    }


@blueprint.get("/status")
def status() -> Any:
    return local_status()


@blueprint.get("/snapshot")
def snapshot() -> Any:
    svc = services()
    return {
        "status": local_status(),
        "jobs": [job.to_dict() for job in svc.store.list()],
        "timestamp": time.time(),
    }


@blueprint.get("/_debug/detected_clients")
def detected_clients() -> Any:
    cluster = services().cluster
    if cluster is None:
        return jsonify([])
    return jsonify([peer.to_dict() for peer in cluster.peers.peers()])
