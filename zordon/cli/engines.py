"""``zordon engines``: what each server has, and managed downloads."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from zordon.client import ClientError, RenderServerProxy

POLL_INTERVAL_S = 0.5


def engine_table(proxies: list[RenderServerProxy], console: Console) -> Table:
    """One row per installed version on each server; a row for one that fails."""
    table = Table("server", "engine", "version", "kind", "path")
    for proxy in proxies:
        try:
            engines = proxy.get_engines()
        except ClientError as exc:
            table.add_row(
                proxy.base_url, "", "", "[red]unreachable[/]", escape(str(exc))
            )
            continue
        for name, info in engines.items():
            for found in info.get("versions") or [info]:
                kind = "managed" if found.get("managed") else "system"
                version = found.get("version") or "?"
                path = escape(found.get("path") or "")
                table.add_row(proxy.base_url, name, version, kind, path)
            for download in info.get("downloads", []):
                if download["status"] not in ("done", "error"):
                    state = f"{download['status']} {download['progress']:.0%}"
                    table.add_row(proxy.base_url, name, download["version"], state, "")
    return table


def peer_urls(proxy: RenderServerProxy) -> list[str]:
    """The peers the server knows, from its farm status."""
    try:
        servers = proxy.get_full_status().get("servers", [])
    except ClientError:
        return []
    return [s["url"] for s in servers if s.get("url") and not s.get("self")]


def follow_download(
    proxy: RenderServerProxy, engine: str, version: str, console: Console
) -> dict[str, Any]:
    """Show the server's download of ``engine`` ``version`` until it ends."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task(f"{engine} {version}", total=None, status="")
        while True:
            download = _download_state(proxy, engine, version)
            progress.update(
                bar,
                completed=download["bytes_done"],
                total=download["bytes_total"],
                status=download["status"],
            )
            if download["status"] in ("done", "error"):
                return download
            time.sleep(POLL_INTERVAL_S)


def _download_state(proxy: RenderServerProxy, engine: str, version: str) -> Any:
    downloads = proxy.get_engine(engine).get("downloads", [])
    matching = [d for d in downloads if d["version"] == version]
    if not matching:
        raise ClientError(f"the server shows no download of {engine} {version}")
    return matching[-1]
