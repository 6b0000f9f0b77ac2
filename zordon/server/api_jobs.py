"""Job routes: list, long-poll, add, inspect, download, cancel, delete."""

from __future__ import annotations

import contextlib
import ipaddress
import json
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request, send_file
from werkzeug.utils import secure_filename

from zordon.errors import InvalidRequest, ServiceUnavailable
from zordon.jobs import outputs
from zordon.jobs.listing import ListQuery
from zordon.jobs.queue import Upload
from zordon.jobs.status import string_to_status
from zordon.server.app import services

blueprint = Blueprint("jobs", __name__)

TRUE_WORDS = ("1", "true", "yes", "on", "y")
MAX_TAIL_LINES = 10_000


def _truthy(name: str) -> bool:
    return request.args.get(name, "").strip().lower() in TRUE_WORDS


def _takes_gzip() -> bool:
    """Whether the client takes the list gzipped: a tenth of the bytes."""
    return "gzip" in request.accept_encodings


def _job_list(body: bytes, gzipped: bool) -> Response:
    response = Response(body, mimetype="application/json")
    response.vary.add("Accept-Encoding")
    if gzipped:
        response.content_encoding = "gzip"
    return response


@blueprint.get("/jobs")
def list_jobs() -> Response:
    gzipped = _takes_gzip()
    body = services().listing.body(ListQuery.from_args(request.args), gzipped)
    return _job_list(body, gzipped)


@blueprint.get("/jobs/long_poll")
def long_poll() -> Response:
    svc = services()
    query = ListQuery.from_args(request.args)
    gzipped = _takes_gzip()
    token = request.args.get("token")
    if not svc.long_polls.acquire(blocking=False):
        raise ServiceUnavailable("too many long-polls are open; try again in a second")
    try:
        timeout_s = svc.config.long_poll_timeout_s
        body = svc.listing.wait(query, gzipped, token, timeout_s)
    finally:
        svc.long_polls.release()
    return Response(status=204) if body is None else _job_list(body, gzipped)


@blueprint.get("/jobs/status/<status_val>")
def jobs_with_status(status_val: str) -> Any:
    status = string_to_status(status_val)
    jobs = services().store.list(status)
    if not jobs:
        raise InvalidRequest(f"no jobs are {status}")
    return jsonify([job.to_dict() for job in jobs])


@blueprint.get("/jobs/<job_id>")
def get_job(job_id: str) -> Any:
    return services().store.get(job_id).to_dict()


@blueprint.get("/jobs/<job_id>/logs")
def job_logs(job_id: str) -> Response:
    """The job's log; ``?tail=N`` sends only its last N lines."""
    job = services().store.get(job_id)
    tail = request.args.get("tail", "")
    if tail and not (tail.isdigit() and 0 < int(tail) <= MAX_TAIL_LINES):
        raise InvalidRequest(f"tail must be a number of lines up to {MAX_TAIL_LINES}")
    text = ""
    with contextlib.suppress(FileNotFoundError):
        text = job.log_path.read_text(encoding="utf-8", errors="replace")
    if tail:
        text = "".join(text.splitlines(keepends=True)[-int(tail) :])
    return Response(text, mimetype="text/plain")


@blueprint.get("/jobs/<job_id>/files")
def job_files(job_id: str) -> Any:
    job = services().store.get(job_id)
    return jsonify([path.name for path in outputs.list_files(job)])


@blueprint.get("/jobs/<job_id>/download")
def download(job_id: str) -> Response:
    job = services().store.get(job_id)
    path = outputs.find_file(job, request.args.get("filename"))
    return send_file(path, as_attachment=True, download_name=path.name)


@blueprint.get("/jobs/<job_id>/download_all")
def download_all(job_id: str) -> Response:
    svc = services()
    job = svc.store.get(job_id)
    archive = outputs.zip_all(job, svc.config.data_dir / "tmp")
    # Unlinked at once: the open handle keeps the bytes until the send ends,
    # whether or not the WSGI server calls the response's close hooks.
    stream = open(archive, "rb")  # noqa: SIM115 - send_file closes it
    archive.unlink()
    name = secure_filename(job.name) or "job"
    return send_file(stream, as_attachment=True, download_name=f"{name}-{job.id}.zip")


@blueprint.get("/jobs/<job_id>/thumbnail")
def thumbnail(job_id: str) -> Response:
    """A JPEG of the newest frame (``size=big`` for a larger one); with
    ``video_ok``, an MP4 of the frames so far when there are several."""
    svc = services()
    job = svc.store.get(job_id)
    if _truthy("video_ok"):
        video = svc.previews.video(job)
        if video is not None:
            return send_file(video, mimetype="video/mp4", max_age=0)
    big = request.args.get("size", "").lower() == "big"
    image = svc.previews.image(job, big=big)
    return send_file(image, mimetype="image/jpeg", max_age=0)


@blueprint.post("/add_job")
def add_job() -> Any:
    specs, upload = _read_job_request()
    single = isinstance(specs, dict)
    jobs = services().queue.submit(
        [specs] if single else specs,
        upload,
        local_allowed=_from_loopback(),
        client_addr=request.remote_addr,
    )
    if single:
        return jobs[0].to_dict()
    return jsonify([job.to_dict() for job in jobs])


def _read_job_request() -> tuple[Any, Upload | None]:
    """The job spec(s) from a JSON body or a multipart ``json`` field."""
    if request.mimetype == "multipart/form-data":
        raw = request.form.get("json", "")
        file = request.files.get("file")
        upload = Upload(file.filename or "", file.stream) if file else None
    else:
        raw = request.get_data(as_text=True)
        upload = None
    if not raw.strip():
        raise InvalidRequest("the request has no job: send JSON, or a 'json' field")
    try:
        specs = json.loads(raw)
    except ValueError as exc:
        raise InvalidRequest(f"the job is not valid JSON: {exc}") from exc
    if not isinstance(specs, dict | list):
        raise InvalidRequest("the job must be a JSON object or a list of them")
    return specs, upload


def _from_loopback() -> bool:
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _require_confirm() -> None:
    if not _truthy("confirm"):
        raise InvalidRequest("add ?confirm=true to do this")


@blueprint.post("/jobs/<job_id>/cancel")
def cancel(job_id: str) -> Any:
    _require_confirm()
    job = services().queue.cancel(job_id)
    if _truthy("redirect"):
        return redirect("/")
    return job.to_dict()


@blueprint.post("/jobs/<job_id>/render_again")
def render_again(job_id: str) -> Any:
    return services().queue.render_again(job_id).to_dict()


@blueprint.post("/jobs/<job_id>/delete")
def delete(job_id: str) -> Any:
    _require_confirm()
    services().queue.delete(job_id)
    return {"deleted": job_id}


@blueprint.post("/jobs/<job_id>/subjob_update")
def subjob_update(job_id: str) -> Any:
    child = request.get_json(silent=True)
    if not isinstance(child, dict) or not child.get("id"):
        raise InvalidRequest("send the child job's JSON")
    cluster = services().cluster
    if cluster is None:
        services().store.get(job_id)
        return {"wanted": False}
    return {"wanted": cluster.coordinator.subjob_update(job_id, child)}
