"""How much work a server can take for an engine, and how fast it goes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zordon import system
from zordon.engines import Engine
from zordon.jobs.status import JobStatus
from zordon.jobs.store import JobStore

RECENT_JOBS = 20


def availability(engine: Engine, store: JobStore, data_dir: Path) -> dict[str, Any]:
    """The answer to ``/api/engines/<name>/availability``."""
    return {
        "engine": engine.name,
        "available": engine.path is not None,
        "versions": [engine.version] if engine.version else [],
        "cpu_count": os.cpu_count(),
        "hostname": system.hostname(),
        "server_id": system.server_id(data_dir),
        "speed": {
            "frames_per_second": measured_fps(store, engine.name),
            "cpu_score": system.cpu_score(data_dir),
            "cpu_count": os.cpu_count(),
        },
    }


def measured_fps(store: JobStore, engine_name: str) -> float | None:
    """Frames per second over the last jobs this server rendered itself."""
    jobs = [
        job
        for job in store.list(JobStatus.COMPLETED)
        if job.renderer == engine_name
        and not job.enable_split_jobs
        and job.started_at
        and job.finished_at
    ][-RECENT_JOBS:]
    seconds = sum((j.finished_at - j.started_at).total_seconds() for j in jobs)
    frames = sum(j.total_frames for j in jobs)
    return frames / seconds if jobs and seconds > 0 else None


def weights(speeds: dict[str, dict[str, Any]]) -> dict[str, float]:
    """One weight per server from the first measure every one of them has."""
    for measure in ("frames_per_second", "cpu_score", "cpu_count"):
        values = {url: speed.get(measure) for url, speed in speeds.items()}
        if all(isinstance(v, int | float) and v > 0 for v in values.values()):
            return {url: float(v) for url, v in values.items()}  # type: ignore[arg-type]
    return dict.fromkeys(speeds, 1.0)
