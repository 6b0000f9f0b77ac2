"""Runs a server process: logging, the app, and waitress in front of it."""

from __future__ import annotations

import gc
import logging
import logging.handlers
import signal
import sys
import threading
from types import FrameType

import waitress.server

from zordon import __version__, system
from zordon.cluster import Cluster
from zordon.config import Config
from zordon.server import access
from zordon.server.app import Services, build_services, create_app

logger = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE_BYTES = 10 * 1024 * 1024


def setup_logging(config: Config) -> None:
    """Log to stderr and to ``logs/server.log`` in the data folder."""
    config.log_path.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.handlers.RotatingFileHandler(
        config.log_path, maxBytes=LOG_FILE_BYTES, backupCount=3, encoding="utf-8"
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr), file_handler]
    formatter = logging.Formatter(LOG_FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(config.log_level.upper())
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def run_server(config: Config) -> None:
    """Serve until SIGINT or SIGTERM, then stop engines and close the store."""
    setup_logging(config)
    services = build_services(config)
    app = create_app(config, services)
    _freeze_what_start_made()
    server = waitress.server.create_server(
        app,
        host=config.host,
        port=config.port_number,
        threads=config.server_threads,
        max_request_body_size=config.max_upload_bytes,
        ident="zordon",
    )
    config.port_number = int(server.effective_port)  # type: ignore[union-attr]
    _stop_on_signals(services)
    services.runner.start()
    threading.Thread(target=_warm_up, args=(services,), daemon=True).start()
    services.cluster = Cluster(config, services.queue)
    services.cluster.start()
    host = f"[{config.host}]" if ":" in config.host else config.host
    logger.info(
        "zordon %s listening on http://%s:%s, data in %s",
        __version__,
        host,
        config.port_number,
        config.data_dir,
    )
    access.log_access_rules(config)
    try:
        server.run()
    finally:
        logger.info("shutting down")
        services.close()


def _warm_up(services: Services) -> None:
    """Ask the slow questions once now, not in the first request that needs them."""
    system.cpu_brand()  # for /api/status, which never waits for it
    for engine in services.engines.installed():
        logger.info("%s %s at %s", engine.name, engine.version, engine.path)
    services.engines.get("blender").reader.warm_up()  # type: ignore[attr-defined]


def _stop_on_signals(services: Services) -> None:
    def stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %s received", signal.Signals(signum).name)
        services.listing.close()  # parked long-polls end now, not at their timeout
        # waitress stops on SystemExit and lets its threads finish their
        # answers; closing the server here first would pull the pipe those
        # threads signal it through out from under them.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def _freeze_what_start_made() -> None:
    """Take what start-up made out of the garbage collector's sight.

    Modules, routes, the app and the store live as long as the process. Left
    in view, each full collection walks all of them, a pause of tens of
    milliseconds in the middle of some request; frozen, it takes about one.
    """
    gc.collect()
    gc.freeze()
