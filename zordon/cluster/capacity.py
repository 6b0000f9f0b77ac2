"""How much work a server can take for an engine, and how fast it goes.

Speed is measured in frames per second on earlier jobs. Frames of different
scenes cost different amounts, so servers are compared on the children of
one earlier split job, which rendered the same scene side by side. Without
such a job in common, the CPU benchmark score decides, then the core count.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zordon import system
from zordon.engines import EngineRegistry
from zordon.jobs.model import Job
from zordon.jobs.status import JobStatus
from zordon.jobs.store import JobStore

RECENT_JOBS = 10
SAME_SPEED_RATIO = 1.25


def availability(
    engines: EngineRegistry,
    name: str,
    store: JobStore,
    data_dir: Path,
    version: str = "",
) -> dict[str, Any]:
    """The answer to ``/api/engines/<name>/availability[?version=V]``.

    With a version, ``version_ready`` says whether this server has it or may
    download it.
    """
    installed = engines.versions(name)
    info = {
        "engine": name,
        "available": any(e.path is not None for e in installed),
        "versions": [e.version for e in installed if e.version],
        "cpu_count": os.cpu_count(),
        "hostname": system.hostname(),
        "server_id": system.server_id(data_dir),
        "speed": {
            "split_fps": split_fps(store, name),
            "cpu_score": system.cpu_score(data_dir),
            "cpu_count": os.cpu_count(),
        },
    }
    if version:
        info["version"] = version
        info["version_ready"] = engines.can_fetch(name, version)
    return info


def split_fps(store: JobStore, engine_name: str) -> dict[str, float]:
    """Frames per second of this server's recent child jobs, by parent, newest
    first: ``{"PARENT_ID@URL": fps}``."""
    children = [
        job
        for job in store.list(JobStatus.COMPLETED)
        if job.renderer == engine_name and job.parent and _seconds(job) > 0
    ][-RECENT_JOBS:]
    return {job.parent: job.total_frames / _seconds(job) for job in reversed(children)}


def weights(speeds: dict[str, dict[str, Any]]) -> dict[str, float]:
    """One weight per server: shared split jobs, else benchmark, else cores."""
    if not speeds:
        return {}
    shared = _newest_shared_parent([s.get("split_fps") or {} for s in speeds.values()])
    if shared is not None:
        measured = {url: float(s["split_fps"][shared]) for url, s in speeds.items()}
        return _beyond_noise(measured)
    for measure in ("cpu_score", "cpu_count"):
        values = {url: _positive(speed.get(measure)) for url, speed in speeds.items()}
        if all(values.values()):
            return {url: float(v or 0) for url, v in values.items()}
    return dict.fromkeys(speeds, 1.0)


def _beyond_noise(measured: dict[str, float]) -> dict[str, float]:
    """Equal weights when the speeds differ by less than one run's noise.

    Two renders of the same frames on one machine vary by about a tenth from
    run to run; reading that as a speed difference would leave one server
    with more frames than it should have.
    """
    if max(measured.values()) < SAME_SPEED_RATIO * min(measured.values()):
        return dict.fromkeys(measured, 1.0)
    return measured


def _positive(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return float(value) if ok else None


def _newest_shared_parent(histories: list[dict[str, float]]) -> str | None:
    """The newest parent every server rendered a child of, if any."""
    for parent in histories[0]:
        if all(parent in history for history in histories[1:]):
            return parent
    return None


def _seconds(job: Job) -> float:
    if job.started_at is None or job.finished_at is None:
        return 0.0
    return (job.finished_at - job.started_at).total_seconds()
