"""Connectivity and status routes: this server, and the farm it knows."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, request

from zordon import API_VERSION, __version__, system
from zordon.client import RenderServerProxy
from zordon.cluster.farm import farm_status
from zordon.jobs.status import JobStatus
from zordon.server.app import services

blueprint = Blueprint("status", __name__)


@blueprint.get("/heartbeat")
def heartbeat() -> Response:
    return Response(f"{time.time():.3f}", mimetype="text/plain")


def local_status() -> dict[str, Any]:
    svc = services()
    counts = dict.fromkeys((status.value for status in JobStatus), 0)
    counts.update(svc.store.status_counts())
    return {
        "timestamp": time.time(),
        "server_id": system.server_id(svc.config.data_dir),
        "url": svc.cluster.self_url if svc.cluster else None,
        **system.host_facts(),
        "port": svc.config.port_number,
        "job_counts": counts,
        "cpu_score": system.cpu_score(svc.config.data_dir),
        "app_version": __version__,
        "api_version": API_VERSION,
    }


def local_snapshot(active_only: bool) -> dict[str, Any]:
    store = services().store
    jobs = store.unfinished() if active_only else store.list()
    return {
        "status": local_status(),
        "jobs": [job.to_dict() for job in jobs],
        "timestamp": time.time(),
    }


@blueprint.get("/status")
def status() -> Any:
    return local_status()


@blueprint.get("/snapshot")
def snapshot() -> Any:
    """Status, jobs and the time; ``?jobs=active`` leaves out finished jobs."""
    return local_snapshot(request.args.get("jobs", "").lower() == "active")


@blueprint.get("/full_status")
def full_status() -> Any:
    """This server and each peer it knows, asked in parallel with a timeout."""
    svc = services()
    cluster = svc.cluster
    local = local_snapshot(active_only=True)
    timeout_s = svc.config.peer_status_timeout_s
    if cluster is None:
        return farm_status(local, None, [], RenderServerProxy, timeout_s)
    peers = [p for p in cluster.peers.peers() if p.server_id != cluster.server_id]
    return farm_status(local, cluster.self_url, peers, cluster.peers.proxy, timeout_s)
