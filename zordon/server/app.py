"""The Flask app factory: one app per config, with its store and runner."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import threading

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from zordon import API_VERSION
from zordon.benchmark import BenchmarkGate
from zordon.cluster import Cluster
from zordon.config import Config
from zordon.engines import EngineRegistry
from zordon.errors import InvalidRequest, TooLarge, ZordonError
from zordon.jobs.blobs import BlobStore
from zordon.jobs.listing import JobListing
from zordon.jobs.queue import JobQueue
from zordon.jobs.runner import Runner
from zordon.jobs.store import JobStore
from zordon.presets import PresetBook
from zordon.previews import PreviewCache
from zordon.server import access
from zordon.thumbnails import Tools

logger = logging.getLogger(__name__)

RESERVED_THREADS = 8


@dataclasses.dataclass
class Services:
    """What the routes reach through ``current_app``."""

    config: Config
    store: JobStore
    engines: EngineRegistry
    runner: Runner
    queue: JobQueue
    listing: JobListing = dataclasses.field(init=False)
    cluster: Cluster | None = None
    long_polls: threading.Semaphore = dataclasses.field(
        default_factory=lambda: threading.Semaphore(1)
    )
    benchmarks: BenchmarkGate = dataclasses.field(default_factory=BenchmarkGate)
    previews: PreviewCache = dataclasses.field(
        default_factory=lambda: PreviewCache(Tools(None, None))
    )

    def __post_init__(self) -> None:
        self.listing = JobListing(self.store)

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
        self.runner.stop()
        self.previews.close()
        self.listing.close()
        self.store.close()


def build_services(config: Config) -> Services:
    """Read the presets, open the store, requeue interrupted jobs, make the runner.

    Raises :class:`ConfigError` for a presets file that cannot be used.
    """
    engines = EngineRegistry(config)
    presets = PresetBook.for_config(config, engines)
    config.jobs_dir.mkdir(parents=True, exist_ok=True)
    store = JobStore(config.db_path)
    interrupted = store.requeue_interrupted()
    runner = Runner(store, engines, workers=config.max_concurrent_jobs)
    runner.reclaim(interrupted)
    blobs = BlobStore(config.data_dir / "blobs")
    queue = JobQueue(store, runner, config.jobs_dir, blobs, presets)
    shutil.rmtree(config.data_dir / "tmp", ignore_errors=True)
    # Long-polls may hold all threads but a few, which stay for everything else.
    open_polls = max(1, config.server_threads - RESERVED_THREADS)
    return Services(
        config,
        store,
        engines,
        runner,
        queue,
        long_polls=threading.Semaphore(open_polls),
        previews=PreviewCache(_preview_tools(engines)),
    )


def _preview_tools(engines: EngineRegistry) -> Tools:
    ffmpeg = engines.get("ffmpeg")
    return Tools(ffmpeg.path, ffmpeg.ffprobe_path)  # type: ignore[attr-defined]


def create_app(config: Config, services: Services | None = None) -> Flask:
    """Build the app; the runner starts here unless ``services`` is given."""
    if services is None:
        services = build_services(config)
        services.runner.start()
    app = Flask("zordon.server")
    app.extensions["zordon"] = services
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["MAX_CONTENT_LENGTH"] = config.max_upload_bytes

    for blueprint in _blueprints(config):
        app.register_blueprint(blueprint, url_prefix="/api")
    from zordon.server import dashboard

    app.register_blueprint(dashboard.blueprint)
    app.before_request(_check_access)
    app.before_request(_check_api_version)
    app.before_request(_check_upload_size)
    app.register_error_handler(ZordonError, _zordon_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _blueprints(config: Config) -> list[Blueprint]:
    """Every route group; the debug routes only with ``debug`` set."""
    from zordon.server import (
        api_benchmark,
        api_cache,
        api_debug,
        api_engines,
        api_jobs,
        api_presets,
        api_status,
        openapi,
    )

    modules = [api_jobs, api_status, api_engines, api_cache, api_presets]
    modules += [api_benchmark, openapi]
    if config.debug:
        modules.append(api_debug)
    return [module.blueprint for module in modules]


def services() -> Services:
    """The services of the app handling this request."""
    return current_app.extensions["zordon"]


def _check_access() -> None:
    access.check_request(services().config)


def _check_api_version() -> None:
    """Refuse a client of another major API version; one that sends none is served."""
    sent = request.headers.get("X-API-Version")
    if sent is None or not request.path.startswith("/api/"):
        return  # the web page is not the API
    if _major(sent) == _major(API_VERSION):
        return
    raise InvalidRequest(
        f"this server speaks API {API_VERSION} and the client sent API "
        f"{sent.strip()[:20]!r}; use a client of version {_major(API_VERSION)}.x"
    )


def _major(version: str) -> str:
    return version.strip().split(".", 1)[0]


def _text(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def _zordon_error(exc: ZordonError) -> Response:
    if exc.http_status >= 500:
        logger.warning("%s %s: %s", request.method, request.path, exc)
    return _text(str(exc), exc.http_status)


def _http_error(exc: HTTPException) -> Response:
    return _text(exc.description or exc.name, exc.code or 500)


def _check_upload_size() -> None:
    """Refuse a body announced too large before reading any of it."""
    length = request.content_length
    if length is not None and length > services().config.max_upload_bytes:
        raise TooLarge(_too_large_message())


def _too_large_message() -> str:
    limit_mb = services().config.max_upload_mb
    return (
        f"the upload is larger than this server takes: {limit_mb} MB at most "
        "(the max_upload_mb setting)"
    )


def _too_large(exc: RequestEntityTooLarge) -> Response:
    return _text(_too_large_message(), 413)


def _unexpected_error(exc: Exception) -> Response:
    logger.error("%s %s failed", request.method, request.path, exc_info=exc)
    return _text(f"internal server error ({type(exc).__name__})", 500)
