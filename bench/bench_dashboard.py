"""How the dashboard's job list holds up with 10,000 jobs in the store.

Against a real ``zordon server`` on a free loopback port whose store holds
10,000 finished jobs (a tenth of them split over three servers), measures:

(a) ``GET /api/jobs``: the whole list, and one page of 50 in summary form,
    on an idle server (the cached body) and right after a job changed; plus
    what building the whole list cost before the cache (every row to a dict);
(b) the first paint of the job list in headless Chromium: from navigation
    start to the rows being in the page (a ``performance.mark``), and the
    first contentful paint; once on a server that has just started (nothing
    cached), then again and again; the goal is at most 1 s;
(c) the time from a status change (a cancel through the API) to the page
    showing it, seen by a MutationObserver in the page, over 20 changes.

Run it with the project's venv (Chromium and chromium-driver installed)::

    .venv/bin/python bench/bench_dashboard.py [--jobs 10000] [--changes 20]

It prints the figures and writes them to ``bench/results/`` as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import start_chromium  # noqa: E402
from tests.helpers import ServerProcess, make_scenes, new_job  # noqa: E402
from zordon.jobs.model import Base, Job  # noqa: E402
from zordon.jobs.store import JobStore  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
FIRST_PAINT_GOAL_MS = 1000.0
PAGE = {"limit": 50, "offset": 0, "order": "newest", "fields": "summary"}
STATUSES = ("completed", "completed", "completed", "cancelled", "error")
SHOWN_TIMEOUT_S = 30.0
PAINT_MARKS = """
const paint = performance.getEntriesByName("first-contentful-paint")[0];
return [performance.getEntriesByName("zordon:jobs-shown")[0].startTime,
        paint ? paint.startTime : null];
"""

WATCH_ROWS = """
window.seen = {};
new MutationObserver((changes) => {
  for (const change of changes) {
    const row = change.target;
    const id = row.dataset && row.dataset.id;
    if (id && row.dataset.status === "cancelled" && !window.seen[id]) {
      window.seen[id] = performance.timeOrigin + performance.now();
    }
  }
}).observe(document.querySelector("tbody"), {subtree: true, attributes: true,
  attributeFilter: ["data-status"]});
"""


def fill_store(data_dir: Path, count: int) -> None:
    """``count`` finished jobs, written in one transaction."""
    jobs_dir = data_dir / "jobs"
    engine = create_engine(f"sqlite:///{data_dir / 'zordon.sqlite'}")
    Base.metadata.create_all(engine)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with Session(engine) as session:
        session.add_all(_job(jobs_dir, n, start) for n in range(count))
        session.commit()
    engine.dispose()


def _job(jobs_dir: Path, n: int, start: dt.datetime) -> Job:
    created = start + dt.timedelta(seconds=n)
    facts = {
        "scene": "Scene",
        "scenes": ["Scene"],
        "start_frame": 1,
        "end_frame": 240,
        "frame_step": 1,
        "fps": 24.0,
        "resolution": [1920, 1080],
        "resolution_percentage": 100,
        "render_engine": "CYCLES",
        "camera": "Camera",
        "cameras": ["Camera"],
        "output_format": "PNG",
    }
    children = []
    if n % 10 == 0:
        children = [
            {
                "server": f"http://render-{k}:8735",
                "id": f"c{n}-{k}",
                "frames": list(range(1 + k, 241, 3)),
                "status": "completed",
                "progress": 1.0,
                "hostname": f"render-{k}",
            }
            for k in range(3)
        ]
    return new_job(
        jobs_dir,
        name=f"shot {n:05d}",
        status=STATUSES[n % len(STATUSES)],
        end_frame=240,
        progress=1.0,
        frames_done=240,
        facts=facts,
        args={"samples": 64, "resolution_percentage": 50},
        enable_split_jobs=bool(children),
        children=children,
        created_at=created,
        started_at=created,
        finished_at=created + dt.timedelta(minutes=3),
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 2),
        "p95": round(percentile(values, 0.95), 2),
        "max": round(max(values), 2),
        "n": len(values),
    }


def time_get(url: str, params: dict[str, Any] | None = None) -> tuple[float, int]:
    began = time.perf_counter()
    response = requests.get(url, params=params, timeout=60)
    response.raise_for_status()
    return (time.perf_counter() - began) * 1000, len(response.content)


def bench_api(server: ServerProcess, rounds: int) -> dict[str, Any]:
    url = f"{server.url}/api/jobs"
    time_get(url)  # the first request builds the cache
    whole = [time_get(url) for _ in range(rounds)]
    page = [time_get(url, PAGE) for _ in range(rounds)]
    return {
        "whole_idle_ms": summary([t for t, _ in whole]),
        "whole_bytes": whole[0][1],
        "page_idle_ms": summary([t for t, _ in page]),
        "page_bytes": page[0][1],
    }


def bench_after_change(server: ServerProcess, job_ids: list[str]) -> dict[str, Any]:
    """One cancel, then the list: what the first request after a change costs."""
    whole, page = [], []
    for n, job_id in enumerate(job_ids):
        requests.post(f"{server.url}/api/jobs/{job_id}/cancel?confirm=true", timeout=30)
        if n % 2:
            whole.append(time_get(f"{server.url}/api/jobs")[0])
        else:
            page.append(time_get(f"{server.url}/api/jobs", PAGE)[0])
    return {
        "whole_after_change_ms": summary(whole),
        "page_after_change_ms": summary(page),
    }


def bench_uncached(data_dir: Path, rounds: int) -> dict[str, Any]:
    """The list as it was built before the cache: every row to a dict, then JSON."""
    store = JobStore(data_dir / "zordon.sqlite")
    times = []
    try:
        for _ in range(rounds):
            began = time.perf_counter()
            json.dumps({"jobs": [j.to_dict() for j in store.list()], "token": "t"})
            times.append((time.perf_counter() - began) * 1000)
    finally:
        store.close()
    return {"whole_uncached_in_process_ms": summary(times)}


def bench_first_paint(driver, server: ServerProcess, rounds: int) -> dict[str, Any]:
    shown, contentful = [], []
    for _ in range(rounds):
        driver.get("about:blank")
        driver.get(f"{server.url}/#/jobs")
        _wait(driver, "return document.body.dataset.jobsShown")
        marks = driver.execute_script(PAINT_MARKS)
        shown.append(marks[0])
        if marks[1] is not None:
            contentful.append(marks[1])
    return {
        "rows_shown_ms": summary(shown),
        "first_contentful_paint_ms": summary(contentful) if contentful else None,
        "goal_ms": FIRST_PAINT_GOAL_MS,
    }


def bench_change_to_page(driver, server: ServerProcess, job_ids: list[str]) -> dict:
    driver.get("about:blank")
    driver.get(f"{server.url}/#/jobs")
    _wait(driver, "return document.body.dataset.jobsShown")
    driver.execute_script(WATCH_ROWS)
    delays = []
    for job_id in job_ids:
        time.sleep(0.3)  # let the page settle into its next long-poll
        began = time.time() * 1000
        requests.post(f"{server.url}/api/jobs/{job_id}/cancel?confirm=true", timeout=30)
        seen = _wait(driver, f"return window.seen[{json.dumps(job_id)}]")
        delays.append(seen - began)
    return {"status_change_to_page_ms": summary(delays)}


def _wait(driver, script: str) -> Any:
    deadline = time.monotonic() + SHOWN_TIMEOUT_S
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.005)
    raise TimeoutError(script)


def queue_jobs(server: ServerProcess, blend: Path, count: int) -> list[str]:
    """``count`` jobs that stay queued behind a one-thread render that runs on."""
    proxy = server.proxy()
    proxy.create_job({"name": "busy", "end_frame": 3, "args": {"threads": 1}}, blend)
    return [
        proxy.create_job({"name": f"queued {n}", "args": {"threads": 1}}, blend)["id"]
        for n in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--paints", type=int, default=10)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="zordon-bench-dash-") as tmp:
        root = Path(tmp)
        data_dir = root / "data"
        data_dir.mkdir()
        make_scenes(root)
        fill_store(data_dir, options.jobs)
        results: dict[str, Any] = {"jobs": options.jobs}
        results.update(bench_uncached(data_dir, 5))
        driver = start_chromium()
        server = ServerProcess(data_dir).start()
        try:
            results["first_paint_cold"] = bench_first_paint(driver, server, 1)
            results.update(bench_api(server, options.rounds))
            results["first_paint"] = bench_first_paint(driver, server, options.paints)
            queued = queue_jobs(server, root / "heavy.blend", options.changes * 2)
            results.update(bench_after_change(server, queued[: options.changes]))
            page_ids = queued[options.changes :]
            results.update(bench_change_to_page(driver, server, page_ids))
        finally:
            driver.quit()
            server.stop()
    report(results)


def report(results: dict[str, Any]) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    results["when"] = stamp
    path = RESULTS_DIR / f"dashboard-{stamp}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
