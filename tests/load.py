"""Load on a live server: long-polling clients plus a steady stream of jobs.

Used by the suite's short load test and by bench/bench_load.py. The server
runs a stand-in for Blender (a shell script that "saves" the one frame it is
asked for), so the figures measure Zordon's API and store, not rendering.
Every loop here stops itself: at its deadline, or when told to.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from zordon.client import ClientError, RenderServerProxy
from zordon.jobs.blobs import sha256_file

STAND_IN_BLENDER = """\
#!/bin/sh
case "$*" in *--version*) echo "Blender 3.4.1 (stand-in)"; exit 0;; esac
echo "Fra:1 Mem:1M | Rendering 1 / 1 samples"
echo "Saved: 'stand-in.png'"
"""
SUBMIT_THREADS = 8
JOIN_TIMEOUT_S = 60.0
QUIET_S = 0.3
FINISHED = ("completed", "cancelled", "error")


def stand_in_blender(folder: Path) -> Path:
    """A program that answers like Blender and renders one frame at once."""
    path = folder / "blender"
    path.write_text(STAND_IN_BLENDER)
    path.chmod(0o755)
    return path


@dataclasses.dataclass
class LoadResult:
    submitted: list[str] = dataclasses.field(default_factory=list)
    submit_errors: list[str] = dataclasses.field(default_factory=list)
    submit_ms: list[float] = dataclasses.field(default_factory=list)
    poll_answers: int = 0
    poll_errors: list[str] = dataclasses.field(default_factory=list)
    listed: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    @property
    def lost(self) -> list[str]:
        return sorted(set(self.submitted) - set(self.listed))

    @property
    def duplicated(self) -> list[str]:
        return sorted({i for i in self.listed if self.listed.count(i) > 1})

    def figures(self) -> dict[str, Any]:
        return {
            "submitted": len(self.submitted),
            "submit_errors": len(self.submit_errors),
            "submit_p50_ms": percentile(self.submit_ms, 50),
            "submit_p99_ms": percentile(self.submit_ms, 99),
            "submissions_per_s": round(len(self.submitted) / self.seconds, 1),
            "poll_answers": self.poll_answers,
            "poll_errors": len(self.poll_errors),
            "jobs_listed": len(self.listed),
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
        }


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))
    return round(ordered[index], 2)


def upload_scene(proxy: RenderServerProxy, blend: Path) -> dict[str, Any]:
    """Send the .blend once; the jobs then name it by digest."""
    files = {blend.name: sha256_file(blend)}
    proxy.send_files(blend.parent, files)
    return {"files": files, "main_file": blend.name, "end_frame": 1}


def run_load(
    url: str,
    token: str,
    spec: dict[str, Any],
    pollers: int,
    rate_per_s: float,
    duration_s: float,
) -> LoadResult:
    """``pollers`` clients long-poll while jobs are submitted at ``rate_per_s``."""
    result = LoadResult()
    stop = threading.Event()
    lock = threading.Lock()
    threads = [
        threading.Thread(target=_poll, args=(url, token, stop, result, lock))
        for _ in range(pollers)
    ]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    try:
        _submit_steadily(url, token, spec, rate_per_s, duration_s, result, lock)
    finally:
        result.seconds = time.monotonic() - started
        stop.set()
        # One more change wakes every poller, so each sees the stop at once.
        RenderServerProxy(url, farm_token=token).create_job({**spec, "name": "last"})
        for thread in threads:
            thread.join(JOIN_TIMEOUT_S)
    listed = RenderServerProxy(url, farm_token=token).get_jobs()
    result.listed = [job["id"] for job in listed if job["name"] != "last"]
    return result


def _submit_steadily(
    url: str,
    token: str,
    spec: dict[str, Any],
    rate_per_s: float,
    duration_s: float,
    result: LoadResult,
    lock: threading.Lock,
) -> None:
    proxy = RenderServerProxy(url, farm_token=token)
    count = int(rate_per_s * duration_s)
    start = time.monotonic()
    with ThreadPoolExecutor(SUBMIT_THREADS) as pool:
        for n in range(count):
            delay = start + n / rate_per_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(_submit_one, proxy, {**spec, "name": f"load {n}"}, result, lock)


def _submit_one(
    proxy: RenderServerProxy,
    spec: dict[str, Any],
    result: LoadResult,
    lock: threading.Lock,
) -> None:
    sent = time.monotonic()
    try:
        job = proxy.create_job(spec)
    except ClientError as exc:
        with lock:
            result.submit_errors.append(str(exc))
        return
    with lock:
        result.submitted.append(job["id"])
        result.submit_ms.append((time.monotonic() - sent) * 1000)


def _poll(
    url: str,
    token: str,
    stop: threading.Event,
    result: LoadResult,
    lock: threading.Lock,
) -> None:
    proxy = RenderServerProxy(url, farm_token=token)
    seen = None
    while not stop.is_set():
        try:
            answer = proxy.long_poll(seen)
        except ClientError as exc:
            with lock:
                result.poll_errors.append(str(exc))
            stop.wait(0.5)
            continue
        if answer is not None:
            seen = answer["token"]
            with lock:
                result.poll_answers += 1


def wake_latencies(url: str, token: str, pollers: int, rounds: int) -> list[float]:
    """Milliseconds from sending a change to each waiting long-poll's answer.

    The change is the deletion of a finished job, which sets nothing else in
    motion; each round starts once the store has been still for a moment.
    The pollers are plain sockets driven by one asyncio loop, as separate
    dashboards would be, so 50 client threads fighting over this process's
    interpreter do not count as the server's time.
    """
    proxy = RenderServerProxy(url, farm_token=token)
    finished = [j["id"] for j in proxy.get_jobs() if j["status"] == "completed"]
    if len(finished) < rounds:
        raise ValueError(f"{rounds} rounds need {rounds} finished jobs")
    latencies: list[float] = []
    for victim in finished[:rounds]:
        seen = _quiet_token(proxy)
        change = functools.partial(proxy.delete_job, victim)
        latencies += asyncio.run(wake_round(url, token, seen, pollers, change))
    return latencies


async def wake_round(
    url: str, token: str, seen: str, pollers: int, change: Any
) -> list[float]:
    """``pollers`` long-polls wait with token ``seen``; then ``change()`` runs.
    Milliseconds from the change to each poll's first line."""
    parts = urlsplit(url)
    request = (
        f"GET /api/jobs/long_poll?token={seen} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
        "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n"
    ).encode()
    streams = [
        await asyncio.open_connection(parts.hostname, parts.port)
        for _ in range(pollers)
    ]
    for _, writer in streams:
        writer.write(request)
        await writer.drain()
    await asyncio.sleep(0.2)  # every poll is parked in the server by now
    sent = time.monotonic()
    await asyncio.get_running_loop().run_in_executor(None, change)
    arrivals = await asyncio.gather(*(_first_line(r) for r, _ in streams))
    for _, writer in streams:
        writer.close()
    if any(status != b"200" for status, _ in arrivals):
        raise AssertionError("a long-poll did not wake with the new list")
    return [(at - sent) * 1000 for _, at in arrivals]


async def _first_line(reader: asyncio.StreamReader) -> tuple[bytes, float]:
    """The answer's status code, and when its first line arrived."""
    line = await reader.readline()
    return line.split(b" ")[1], time.monotonic()


def finish_jobs(url: str, token: str, spec: dict[str, Any], count: int) -> None:
    """Submit ``count`` jobs and wait until every job has finished."""
    proxy = RenderServerProxy(url, farm_token=token)
    for n in range(count):
        proxy.create_job({**spec, "name": f"finished {n}"})
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    while any(j["status"] not in FINISHED for j in proxy.get_jobs()):
        if time.monotonic() > deadline:
            raise AssertionError("jobs did not finish")
        time.sleep(0.1)


def _quiet_token(proxy: RenderServerProxy) -> str:
    """The store's token once it has not changed for ``QUIET_S``."""
    token = proxy.get_jobs_with_token()["token"]
    while True:
        time.sleep(QUIET_S)
        now = proxy.get_jobs_with_token()["token"]
        if now == token:
            return token
        token = now


def list_latencies(url: str, token: str, requests: int) -> list[float]:
    """Milliseconds for each of ``requests`` GET /api/jobs, one after another,
    until the whole body is in: the server's time and the transfer, not the
    client's JSON parsing."""
    proxy = RenderServerProxy(url, farm_token=token, timeout_s=60.0)
    took = []
    for _ in range(requests):
        sent = time.monotonic()
        body = proxy.request("GET", "/jobs").content
        took.append((time.monotonic() - sent) * 1000)
        assert body.startswith(b'{"jobs":[')
    return took


def summary(values: list[float]) -> dict[str, float | None]:
    return {
        "count": len(values),
        "p50_ms": percentile(values, 50),
        "p99_ms": percentile(values, 99),
        "mean_ms": round(statistics.fmean(values), 2) if values else None,
    }
