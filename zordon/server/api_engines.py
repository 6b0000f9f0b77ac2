"""Engine routes: which engines this server has and what they accept."""

from __future__ import annotations

import os
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Blueprint, Response, jsonify, request

from zordon.client import ClientError
from zordon.cluster import Cluster, capacity
from zordon.cluster.peers import Peer
from zordon.engines import Engine
from zordon.errors import EngineUnavailable, InvalidRequest, NotFound
from zordon.server.app import services

blueprint = Blueprint("engines", __name__)

HELP_TIMEOUT_S = 15
PEER_ASKS = 8  # peers asked for their engines at once


def _describe(engine: Engine) -> dict[str, Any]:
    data = engine.describe()
    if request.args.get("response_type", "standard") == "full":
        data["args"] = engine.accepted_args()
        data["system"] = {"cpu_count": os.cpu_count(), "hostname": socket.gethostname()}
    return data


@blueprint.get("/engines")
def engines() -> Any:
    installed = services().engines.installed()
    return {engine.name: _describe(engine) for engine in installed}


@blueprint.get("/engines/names")
def engine_names() -> Any:
    return jsonify([engine.name for engine in services().engines.installed()])


@blueprint.get("/engines/for_filename")
def engine_for_filename() -> Response:
    filename = request.args.get("filename", "")
    if not filename:
        raise InvalidRequest("give ?filename=NAME")
    engine = services().engines.for_filename(os.path.basename(filename))
    if engine is None:
        raise InvalidRequest(f"no engine renders {filename!r}")
    return Response(engine.name, mimetype="text/plain")


@blueprint.get("/engines/farm")
def farm_engines() -> Any:
    """The engines of each peer this server knows, asked of them all at once."""
    cluster = services().cluster
    if cluster is None:
        return {"servers": []}
    peers = cluster.peers.peers()
    with ThreadPoolExecutor(max_workers=PEER_ASKS) as pool:
        servers = list(pool.map(lambda peer: _peer_engines(cluster, peer), peers))
    return {"servers": servers}


def _peer_engines(cluster: Cluster, peer: Peer) -> dict[str, Any]:
    found: dict[str, Any] = {
        "url": peer.url,
        "hostname": peer.hostname,
        "reachable": peer.up,
        "engines": None,
    }
    if peer.up:
        try:
            found["engines"] = cluster.peers.proxy(peer.url).get_engines()
        except ClientError as exc:
            found["error"] = str(exc)
    return found


@blueprint.get("/engines/inspect")
def inspect() -> Any:
    """Facts of a file uploaded to ``/api/cache``: engine, frames, size.

    ``?sha256=D&filename=NAME`` names the blob and the file it was;
    ``&engine=E`` picks the engine instead of the file's extension.
    """
    svc = services()
    filename = os.path.basename(request.args.get("filename", ""))
    path = svc.queue.blobs.path(request.args.get("sha256", ""))
    if not path.is_file():
        raise NotFound("upload the file to /api/cache first")
    engine = _engine_for(request.args.get("engine", ""), filename)
    info = engine.probe(path)
    return {
        "engine": engine.name,
        "start_frame": info.start_frame,
        "end_frame": info.end_frame,
        "frame_step": info.frame_step,
        "fps": info.fps,
        "resolution": _resolution(info.facts),
        "facts": info.facts,
    }


def _engine_for(name: str, filename: str) -> Engine:
    if name:
        return services().engines.get(name)
    engine = services().engines.for_filename(filename)
    if engine is None:
        raise InvalidRequest(f"no engine renders {filename!r}; name an engine")
    return engine


def _resolution(facts: dict[str, Any]) -> list[int] | None:
    """Width and height as rendered: a .blend's scaled size, or a video's."""
    if facts.get("resolution"):
        width, height = facts["resolution"]
        percent = facts.get("resolution_percentage") or 100
        return [width * percent // 100, height * percent // 100]
    if facts.get("width") and facts.get("height"):
        return [facts["width"], facts["height"]]
    return None


@blueprint.get("/engines/<engine_name>")
def engine(engine_name: str) -> Any:
    return _describe(services().engines.get(engine_name))


@blueprint.get("/engines/<engine_name>/availability")
def availability(engine_name: str) -> Any:
    svc = services()
    engine = svc.engines.get(engine_name)
    return capacity.availability(engine, svc.store, svc.config.data_dir)


@blueprint.get("/engines/<engine_name>/args")
def engine_args(engine_name: str) -> Any:
    return services().engines.get(engine_name).accepted_args()


@blueprint.get("/engines/<engine_name>/help")
def engine_help(engine_name: str) -> Response:
    engine = services().engines.get(engine_name)
    if engine.path is None:
        raise EngineUnavailable(f"{engine.name} is not installed on this server")
    done = subprocess.run(
        [engine.path, "-h"],
        capture_output=True,
        text=True,
        timeout=HELP_TIMEOUT_S,
        check=False,
    )
    return Response(done.stdout or done.stderr, mimetype="text/plain")
