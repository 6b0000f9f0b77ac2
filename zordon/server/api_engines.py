"""Engine routes: which engines and versions this server has, and downloads."""

from __future__ import annotations

import os
import platform
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Blueprint, Response, jsonify, request

from zordon import system
from zordon.client import ClientError
from zordon.cluster import Cluster, capacity
from zordon.cluster.peers import Peer
from zordon.engines import Engine
from zordon.engines.registry import ENGINE_CLASSES
from zordon.engines.releases import Platform, check_version
from zordon.errors import EngineUnavailable, InvalidRequest, NotFound
from zordon.jobs.status import JobStatus
from zordon.server.app import services

blueprint = Blueprint("engines", __name__)

HELP_TIMEOUT_S = 15
PEER_ASKS = 8  # peers asked for their engines at once


def _full() -> bool:
    kind = request.args.get("response_type", "standard")
    if kind not in ("standard", "full"):
        raise InvalidRequest("response_type must be standard or full")
    return kind == "full"


def _describe(name: str, full: bool) -> dict[str, Any]:
    registry = services().engines
    engine = registry.get(name)
    data = engine.describe()
    data["versions"] = [e.describe_version() for e in registry.versions(name)]
    data["downloads"] = [d.to_dict() for d in registry.downloads.listed(name)]
    if full:
        data["export_formats"] = engine.export_formats()
        data["args"] = engine.accepted_args()
        data["ui_options"] = _ui_options(engine)
        data["system"] = _system_info()
    return data


def _ui_options(engine: Engine) -> list[dict[str, str]]:
    """One form field per argument, for a window that builds its own form."""
    return [
        {"name": name, "label": name.replace("_", " ").capitalize(), "help": help_}
        for name, help_ in engine.accepted_args().items()
    ]


def _system_info() -> dict[str, Any]:
    here = Platform.here()
    return {
        "system_os": here.system_os,
        "os_version": platform.release(),
        "cpu": here.cpu,
        "cpu_count": os.cpu_count(),
        "hostname": system.hostname(),
    }


def _value(name: str) -> str | None:
    """A parameter from the query string, else from a JSON body."""
    if name in request.args:
        return request.args[name]
    body = request.get_json(silent=True) if request.is_json else None
    value = body.get(name) if isinstance(body, dict) else None
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string")
    return value


def _param(name: str) -> str:
    value = _value(name)
    if not value:
        raise InvalidRequest(f"give {name}")
    return value


def _target() -> Platform:
    return Platform.parse(_value("system_os"), _value("cpu"))


@blueprint.get("/engines")
def engines() -> Any:
    """Installed engines, and engines being downloaded, keyed by name."""
    full = _full()
    registry = services().engines
    downloading = {d.release.engine for d in registry.downloads.listed()}
    shown = [n for n in ENGINE_CLASSES if n in registry.names or n in downloading]
    return {name: _describe(name, full) for name in shown}


@blueprint.get("/engines/names")
def engine_names() -> Any:
    return jsonify(services().engines.names)


@blueprint.get("/engines/for_filename")
def engine_for_filename() -> Response:
    filename = request.args.get("filename", "")
    if not filename:
        raise InvalidRequest("give ?filename=NAME")
    engine = services().engines.for_filename(os.path.basename(filename))
    if engine is None:
        raise InvalidRequest(f"no engine renders {filename!r}")
    return Response(engine.name, mimetype="text/plain")


@blueprint.get("/engines/download_available")
def download_available() -> Any:
    registry = services().engines
    name, version = _param("engine"), check_version(_param("version"))
    target = _target()
    registry.get(name)  # 400 for an unknown engine
    found = registry.indexes[name.lower()].find(version, target)
    answer: dict[str, Any] = {
        "engine": name.lower(),
        "version": version,
        "system_os": target.system_os,
        "cpu": target.cpu,
        "available": found is not None,
    }
    if found is not None:
        answer.update(found.to_dict())
    return answer


@blueprint.get("/engines/most_recent_version")
def most_recent_version() -> Any:
    registry = services().engines
    name, target = _param("engine"), _target()
    registry.get(name)
    index = registry.indexes[name.lower()]
    found = index.most_recent(target)
    if found is None:
        raise NotFound(f"the index at {index.base_url} has no {name} for {target}")
    return found.to_dict()


@blueprint.post("/engines/download")
def download() -> Any:
    """Start installing a version; 202 with its progress, 200 if it is there."""
    registry = services().engines
    name, version = _param("engine").lower(), check_version(_param("version"))
    target = _target()
    registry.get(name)
    if target != Platform.here():
        raise InvalidRequest(
            f"this server runs on {Platform.here()}; it installs engines for that only"
        )
    installed = registry.find(name, version)
    if installed is not None and installed.version == version:
        return {"status": "installed", **installed.describe_version()}
    release = registry.release(name, version, target)
    if registry.find(name, release.version) is not None:
        return {"status": "installed", **release.to_dict()}
    started = registry.downloads.start(registry.indexes[name], release)
    return started.to_dict(), 202


@blueprint.post("/engines/delete")
def delete() -> Any:
    svc = services()
    name, version = _param("engine").lower(), check_version(_param("version"))
    busy = [
        job.id
        for status in (JobStatus.SCHEDULED, JobStatus.RUNNING)
        for job in svc.store.list(status)
        if job.renderer == name and job.engine_version == version
    ]
    if busy:
        raise InvalidRequest(
            f"{name} {version} is rendering job {busy[0]}; delete it when that ends"
        )
    deleted = svc.engines.delete(name, version, _target())
    return {"status": "deleted", "engine": name, "version": deleted.version}


@blueprint.get("/engines/farm")
def farm_engines() -> Any:
    """The engines of each peer this server knows, asked of them all at once."""
    cluster = services().cluster
    if cluster is None:
        return {"servers": []}
    peers = [p for p in cluster.peers.peers() if p.server_id != cluster.server_id]
    with ThreadPoolExecutor(max_workers=PEER_ASKS) as pool:
        servers = list(pool.map(lambda peer: _peer_engines(cluster, peer), peers))
    return {"servers": servers}


def _peer_engines(cluster: Cluster, peer: Peer) -> dict[str, Any]:
    """Asked even when the health loop has not seen the peer yet, briefly."""
    found: dict[str, Any] = {"url": peer.url, "hostname": peer.hostname}
    try:
        engines = cluster.peers.proxy(peer.url).get_engines()
    except ClientError as exc:
        return {**found, "reachable": False, "engines": None, "error": str(exc)}
    return {**found, "reachable": True, "engines": engines}


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
    services().engines.get(engine_name)  # 400 for an unknown engine
    return _describe(engine_name.lower(), _full())


@blueprint.get("/engines/<engine_name>/availability")
def availability(engine_name: str) -> Any:
    svc = services()
    name = svc.engines.get(engine_name).name
    version = request.args.get("version", "")
    version = check_version(version) if version else ""
    return capacity.availability(
        svc.engines, name, svc.store, svc.config.data_dir, version
    )


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
