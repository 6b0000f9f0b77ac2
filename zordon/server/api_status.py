"""Connectivity and status routes."""

from __future__ import annotations

import time

from flask import Blueprint, Response

blueprint = Blueprint("status", __name__)


@blueprint.get("/heartbeat")
def heartbeat() -> Response:
    return Response(f"{time.time():.3f}", mimetype="text/plain")
