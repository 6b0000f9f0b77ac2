"""Routes for development, served only by ``zordon server --debug``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from zordon.server.app import services

blueprint = Blueprint("debug", __name__)


@blueprint.get("/_debug/detected_clients")
def detected_clients() -> Any:
    """Every peer this server knows, from --peer and Zeroconf, up or down."""
    cluster = services().cluster
    if cluster is None:
        return jsonify([])
    return jsonify([peer.to_dict() for peer in cluster.peers.peers()])


@blueprint.post("/_debug/clear_history")
def clear_history() -> Any:
    """Forget every finished job."""
    removed = services().queue.clear_history()
    return {"success": True, "removed": removed}
