"""Blob routes: which input files a server lacks, and uploading them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from zordon.errors import InvalidRequest
from zordon.server.app import services

blueprint = Blueprint("cache", __name__)

MAX_QUERY_DIGESTS = 10_000


@blueprint.post("/cache/missing")
def missing() -> Any:
    body = request.get_json(silent=True)
    digests = body.get("sha256") if isinstance(body, dict) else None
    if not isinstance(digests, list) or len(digests) > MAX_QUERY_DIGESTS:
        raise InvalidRequest('send {"sha256": [digest, ...]}')
    return {"missing": services().queue.blobs.missing(str(d) for d in digests)}


@blueprint.post("/cache")
def upload_new() -> Any:
    """Store the body, whatever it is, and say under which digest."""
    digest = services().queue.blobs.put_new(request.stream)
    return {"sha256": digest, "stored": True}


@blueprint.put("/cache/<digest>")
def upload(digest: str) -> Any:
    blobs = services().queue.blobs
    if blobs.has(digest):
        request.get_data()  # drain the body so the connection stays usable
        return {"sha256": digest, "stored": False}
    path = blobs.put(request.stream, digest)
    return {"sha256": digest, "stored": True, "size": path.stat().st_size}
