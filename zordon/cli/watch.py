"""``--watch``: a progress bar per machine until the job ends."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from zordon.client import RenderServerProxy

FINISHED = ("completed", "cancelled", "error")


def watch_job(
    proxy: RenderServerProxy, job_id: str, console: Console
) -> dict[str, Any]:
    """Follow a job through long-polls; returns its final JSON."""
    token = None
    bars: dict[str, TaskID] = {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        while True:
            job = proxy.get_job(job_id)
            _draw(progress, bars, job)
            if job["status"] in FINISHED:
                break
            result = proxy.long_poll(token)
            token = result["token"] if result else token
    _report(job, console)
    return job


def _draw(progress: Progress, bars: dict[str, TaskID], job: dict[str, Any]) -> None:
    """One bar for the job, and one per child, labelled by its server.

    A child keeps its bar from the moment it is planned, before its server
    has given it an id.
    """
    rows = [("job", "this job", job)]
    for n, child in enumerate(job.get("children", [])):
        where = child.get("hostname") or child.get("server")
        label = f"{where} [{child.get('id') or 'starting'}]"
        rows.append((f"child {n}", label, child))
    for key, label, row in rows:
        if key not in bars:
            bars[key] = progress.add_task("", total=1.0, status="")
        status = "lost" if row.get("lost") else row.get("status")
        progress.update(
            bars[key],
            description=escape(label),
            completed=row.get("progress", 0.0),
            status=status,
        )


def _report(job: dict[str, Any], console: Console) -> None:
    # soft_wrap: a folder or an error split across lines cannot be copied.
    if job["status"] == "completed":
        folder = escape(job["output_dir"])
        console.print(
            f"[green]job {job['id']} completed[/]; files in {folder}", soft_wrap=True
        )
        console.print(f"download them with: zordon download {job['id']} --all")
    else:
        console.print(
            f"[red]job {job['id']} {job['status']}[/]: {escape(job['error'])}",
            soft_wrap=True,
        )
