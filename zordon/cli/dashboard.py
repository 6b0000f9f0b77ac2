"""The farm in a terminal, drawn from ``/api/full_status``.

:func:`farm_view` builds what is shown from one full-status answer, with no
I/O, so a test can print it to text. ``zordon status`` prints it once;
``zordon dashboard`` redraws it until Ctrl-C or ``q``.
"""

from __future__ import annotations

import contextlib
import select
import sys
import termios
import time
import tty
import urllib.parse
from collections.abc import Iterator
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from zordon.client import ClientError, RenderServerProxy

REFRESH_S = 2.0
QUIT_KEYS = ("q", "Q")
SHOWN_STATUSES = ("running", "waiting_for_subjobs")
QUEUED_STATUSES = ("not_started", "scheduled")
BAR_WIDTH = 24
GB = 1e9


def farm_view(full: dict[str, Any]) -> RenderableType:
    """Every server, reachable or not, then the jobs rendering on each."""
    servers = full.get("servers", [])
    up = sum(1 for server in servers if server["reachable"])
    when = time.strftime("%H:%M:%S", time.localtime(full.get("timestamp", 0)))
    title = f"Zordon farm: {up} of {len(servers)} servers reachable, at {when}"
    return Group(servers_table(servers, title), jobs_table(servers))


def servers_table(servers: list[dict[str, Any]], title: str = "") -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    # The address is what tells servers apart: it is never cut short.
    table.add_column("server", no_wrap=True)
    for header in ("state", "cpu", "memory", "jobs", "score"):
        table.add_column(header)
    for server in servers:
        table.add_row(*_server_row(server))
    return table


def _server_row(server: dict[str, Any]) -> list[RenderableType]:
    name = escape(server.get("hostname") or "?")
    label = f"{name}{' (this one)' if server['self'] else ''}\n[dim]{server['url']}[/]"
    status = server.get("status")
    if not server["reachable"] or not status:
        silent = _duration(server.get("silent_s") or 0)
        why = escape(server.get("error") or "")
        state = f"[red]unreachable[/]\nsilent {silent}\n[dim]{why}[/]"
        return [label, state, "", "", "", ""]
    return [
        label,
        "[green]up[/]",
        f"{status['cpu_percent']:.0f}% of {status['cpu_count']} cores",
        _memory(status),
        _job_counts(status.get("job_counts") or {}),
        _score(status.get("cpu_score"), "-"),
    ]


def _score(score: float | None, missing: str) -> str:
    return f"{score:.0f}" if score else missing


def _memory(status: dict[str, Any]) -> str:
    used, total = status.get("memory_used", 0) / GB, status["memory_total"] / GB
    return f"{used:.1f} / {total:.1f} GB ({status['memory_percent']:.0f}%)"


def _job_counts(counts: dict[str, int]) -> str:
    running = sum(counts.get(name, 0) for name in SHOWN_STATUSES)
    queued = sum(counts.get(name, 0) for name in QUEUED_STATUSES)
    return f"{running} running, {queued} queued"


def jobs_table(servers: list[dict[str, Any]]) -> RenderableType:
    rows = [
        (server, job)
        for server in servers
        for job in server.get("jobs", [])
        if job.get("status") in SHOWN_STATUSES
    ]
    if not rows:
        return Text("No job is rendering.", style="dim")
    table = Table(title="Rendering", title_justify="left")
    for header in ("server", "job", "status", "progress", "", "frames"):
        table.add_column(header)
    names = _short_names(servers)
    for server, job in rows:
        progress = float(job.get("progress") or 0.0)
        table.add_row(
            escape(names[server["url"]]),
            f"{escape(job.get('name', ''))} [dim]{job.get('id', '')}[/]",
            job["status"],
            ProgressBar(total=1.0, completed=progress, width=BAR_WIDTH),
            f"{progress:.0%}",
            f"{job.get('start_frame')}-{job.get('end_frame')}",
        )
    return table


def _short_names(servers: list[dict[str, Any]]) -> dict[str, str]:
    """Host names, with the port where two servers share a host."""
    hosts = [server.get("hostname") or "?" for server in servers]
    names = {}
    for server, host in zip(servers, hosts, strict=True):
        port = urllib.parse.urlsplit(server["url"] or "").port
        shared = hosts.count(host) > 1 and port is not None
        names[server["url"]] = f"{host}:{port}" if shared else host
    return names


def server_facts(status: dict[str, Any]) -> Table:
    """This server's own facts, a line each."""
    table = Table.grid(padding=(0, 2))
    facts = [
        ("server", f"{status['hostname']} at {status.get('url') or '?'}"),
        ("system", status.get("os_name") or f"{status['os']} {status['os_version']}"),
        ("cpu", f"{status.get('cpu_brand') or '?'}, {status['cpu_count']} cores"),
        ("memory", _memory(status)),
        ("jobs", _job_counts(status.get("job_counts") or {})),
        (
            "cpu score",
            _score(status.get("cpu_score"), "not measured (zordon benchmark)"),
        ),
        ("version", f"zordon {status['app_version']}, API {status['api_version']}"),
    ]
    for name, value in facts:
        table.add_row(f"[bold]{name}[/]", escape(value))
    return table


def status_view(full: dict[str, Any]) -> RenderableType:
    """What ``zordon status`` prints: this server's facts, then the farm."""
    servers = full.get("servers", [])
    own = next((s for s in servers if s["self"]), None)
    parts: list[RenderableType] = []
    if own and own.get("status"):
        parts += [server_facts(own["status"]), Text("")]
    parts.append(farm_view(full))
    return Group(*parts)


def run_dashboard(
    proxy: RenderServerProxy, console: Console, refresh_s: float = REFRESH_S
) -> None:
    """Redraw the farm every ``refresh_s`` until Ctrl-C or ``q``."""
    first = _fetch_view(proxy, refresh_s)
    with (
        Live(first, console=console, auto_refresh=False) as live,
        _keys() as quit_pressed,
    ):
        while not quit_pressed(refresh_s):
            live.update(_fetch_view(proxy, refresh_s), refresh=True)


def _fetch_view(proxy: RenderServerProxy, refresh_s: float) -> RenderableType:
    try:
        return farm_view(proxy.get_full_status())
    except ClientError as exc:
        message = f"{escape(str(exc))}\ntrying again every {refresh_s:g} s"
        return Panel(message, title=proxy.base_url, border_style="red")


@contextlib.contextmanager
def _keys() -> Iterator[Any]:
    """A function that waits up to a timeout and says whether ``q`` was pressed."""
    stdin = sys.stdin
    if not stdin.isatty():
        yield _sleep_without_keys
        return
    saved = termios.tcgetattr(stdin)
    tty.setcbreak(stdin)
    try:
        yield lambda timeout_s: _read_quit(stdin, timeout_s)
    finally:
        termios.tcsetattr(stdin, termios.TCSADRAIN, saved)


def _sleep_without_keys(timeout_s: float) -> bool:
    time.sleep(timeout_s)
    return False


def _read_quit(stdin: Any, timeout_s: float) -> bool:
    ready, _, _ = select.select([stdin], [], [], timeout_s)
    return bool(ready) and stdin.read(1) in QUIT_KEYS


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
