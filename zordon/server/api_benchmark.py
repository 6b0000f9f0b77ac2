"""Benchmark routes: CPU and disk, one at a time."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from zordon import benchmark, system
from zordon.server.app import services

blueprint = Blueprint("benchmark", __name__)


@blueprint.get("/cpu_benchmark")
def cpu_benchmark() -> Response:
    """Busy every core for ``cpu_benchmark_s`` (10 s); the score as plain text.

    The score is kept in the data folder: status shows it, and split jobs
    share frames by it.
    """
    svc = services()
    seconds = svc.config.cpu_benchmark_s
    with svc.benchmarks.only_one("CPU"):
        score = benchmark.cpu_score(seconds)
    system.save_cpu_score(svc.config.data_dir, score, seconds)
    return Response(f"{score:.1f}", mimetype="text/plain")


@blueprint.get("/disk_benchmark")
def disk_benchmark() -> Any:
    """Write and read speeds of the data folder's disk, in MB/s."""
    svc = services()
    with svc.benchmarks.only_one("disk"):
        return benchmark.disk_speeds(
            svc.config.data_dir / "tmp", svc.config.disk_benchmark_mb
        )
