"""The ``zordon`` command: run a server, submit and follow jobs."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import webbrowser
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from zordon import __version__
from zordon.cli import engines as engine_cli
from zordon.cli.watch import watch_job
from zordon.client import ClientError, NotAuthorized, RenderServerProxy
from zordon.cluster.packing import Pack, pack_input
from zordon.config import DEFAULT_PORT, Config
from zordon.errors import ConfigError, InvalidRequest
from zordon.jobs.blobs import sha256_file

console = Console(stderr=True)
DEFAULT_SERVER = f"http://127.0.0.1:{DEFAULT_PORT}"

server_option = click.option(
    "--server",
    envvar="ZORDON_SERVER",
    default=DEFAULT_SERVER,
    show_default=True,
    help="URL of the Zordon server to talk to (or set ZORDON_SERVER).",
)


def _proxy(server: str) -> RenderServerProxy:
    return RenderServerProxy(server, farm_token=_client_token())


def _client_token() -> str:
    """The farm token from ``$ZORDON_TOKEN`` (or the older ``$ZORDON_FARM_TOKEN``)."""
    return os.environ.get("ZORDON_TOKEN") or os.environ.get("ZORDON_FARM_TOKEN", "")


@click.group()
@click.version_option(__version__, prog_name="zordon")
def cli() -> None:
    """Zordon: a render farm for the machines you have."""


@cli.command()
@click.option("--host", help="Address to listen on [default: 0.0.0.0].")
@click.option("--port", "port_number", type=int, help=f"[default: {DEFAULT_PORT}]")
@click.option("--data-dir", type=click.Path(path_type=Path), help="Data folder.")
@click.option("--config", "config_file", type=click.Path(path_type=Path))
@click.option("--peer", "peers", multiple=True, help="Peer URL (repeatable).")
@click.option("--max-concurrent-jobs", type=int, help="Jobs run at once [1].")
@click.option("--no-discovery", is_flag=True, help="Do not use Zeroconf.")
@click.option("--log-level", help="DEBUG, INFO, WARNING ... [INFO]")
@click.option(
    "--token",
    "farm_token",
    help="Farm token every request needs (or set ZORDON_TOKEN); see `zordon token`.",
)
@click.option("--debug", is_flag=True, help="Serve the /api/_debug routes.")
def server(
    config_file: Path | None, no_discovery: bool, debug: bool, **flags: Any
) -> None:
    """Run a render server on this machine."""
    from zordon.server.serve import run_server

    if no_discovery:
        flags["discovery"] = False
    if debug:
        flags["debug"] = True
    flags["peers"] = list(flags["peers"])
    try:
        config = Config.load(flags, config_file=config_file)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"bad configuration: {exc}") from exc
    try:
        run_server(config)
    except ConfigError as exc:
        raise click.ClickException(f"bad configuration: {exc}") from exc


@cli.command()
def token() -> None:
    """Make a new farm token and show how to give it to every machine."""
    from zordon.server.access import new_token

    value = new_token()
    print(value)
    console.print(
        "\nGive every server of the farm, and every machine that talks to it, "
        "this token:\n"
        f"  servers:  ZORDON_TOKEN={value} zordon server\n"
        f'            (or --token {value}, or token = "{value}" in zordon.toml)\n'
        f"  clients:  export ZORDON_TOKEN={value}\n"
        "Keep it secret: whoever has it can run jobs on the farm.",
        highlight=False,
        soft_wrap=True,
    )


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--frames", help="Frame range such as 1-100, or one frame.")
@click.option("--engine", help="Renderer (default: chosen by the file's type).")
@click.option("--engine-version", help="Engine version such as 4.2 or 4.2.3.")
@click.option("--arg", "args", multiple=True, help="Engine argument key=value.")
@click.option("--name", help="Job name (default: the file name).")
@click.option("--preset", help="Start from a preset's args (see zordon presets).")
@click.option("--split", is_flag=True, help="Split the frames across the farm.")
@click.option("--watch", is_flag=True, help="Show progress until the job ends.")
@server_option
def submit(
    file: Path,
    frames: str | None,
    engine: str | None,
    engine_version: str | None,
    args: tuple[str, ...],
    name: str | None,
    preset: str | None,
    split: bool,
    watch: bool,
    server: str,
) -> None:
    """Send FILE to a server as a new job."""
    spec: dict[str, Any] = {"name": name or file.name, "args": _parse_args(args)}
    if engine:
        spec["renderer"] = engine
    if engine_version:
        spec["engine_version"] = engine_version
    if preset:
        spec["preset"] = preset
    if frames:
        spec["start_frame"], spec["end_frame"] = _parse_frames(frames)
    if split:
        spec["enable_split_jobs"] = True
    if file.stat().st_size == 0:
        raise click.ClickException(f"{file} is empty")
    proxy = _proxy(server)
    with tempfile.TemporaryDirectory(prefix="zordon-pack-") as folder:
        bundle = _pack(file, Path(folder))
        job = _call(
            lambda: proxy.create_job_from_tree(
                spec, bundle.root, bundle.main_file, bundle.files
            )
        )
    console.print(
        f"job [bold]{job['id']}[/]: {job['renderer']}, "
        f"frames {job['start_frame']}-{job['end_frame']}"
    )
    print(job["id"])
    if watch:
        final = _call(lambda: watch_job(proxy, job["id"], console))
        if final["status"] != "completed":
            raise SystemExit(1)  # watch_job has said why


@cli.command()
@server_option
def jobs(server: str) -> None:
    """List the server's jobs."""
    listed = _call(lambda: _proxy(server).get_jobs())
    table = Table(
        _whole_column("id", [job["id"] for job in listed]),
        "name",
        "renderer",
        _whole_column("status", [job["status"] for job in listed]),
        *("frames", "progress", "error"),
    )
    for job in listed:
        table.add_row(
            job["id"],
            escape(job["name"]),
            job["renderer"],
            job["status"],
            f"{job['start_frame']}-{job['end_frame']}",
            f"{job['progress']:.0%}",
            escape((job["error"] or "")[:60]),
        )
    Console().print(table)


@cli.command()
@click.argument("job_id")
@click.option("--all", "everything", is_flag=True, help="One zip of every file.")
@click.option("--filename", help="Download only this file.")
@click.option("--dest", type=click.Path(path_type=Path), default=Path("."))
@server_option
def download(
    job_id: str, everything: bool, filename: str | None, dest: Path, server: str
) -> None:
    """Download a job's output files into DEST."""
    proxy = _proxy(server)
    if everything:
        target = dest / f"{job_id}.zip"
        _call(lambda: proxy.download_all_job_files(job_id, target))
        console.print(f"saved {target}")
        return
    names = [filename] if filename else _call(lambda: proxy.get_job_files(job_id))
    for item in names:
        path = _call(lambda item=item: proxy.download_job_file(job_id, item, dest))
        console.print(f"saved {path}")


@cli.command()
@click.argument("job_id")
@server_option
def cancel(job_id: str, server: str) -> None:
    """Cancel a job; its engine processes stop."""
    job = _call(lambda: _proxy(server).cancel_job(job_id))
    console.print(f"job {job_id}: {job['status']}")


@cli.command()
@click.argument("job_id")
@server_option
def delete(job_id: str, server: str) -> None:
    """Delete a job and the files Zordon made for it."""
    _call(lambda: _proxy(server).delete_job(job_id))
    console.print(f"job {job_id}: deleted")


@cli.group(invoke_without_command=True)
@server_option
@click.pass_context
def engines(ctx: click.Context, server: str) -> None:
    """List the engine versions of the server and its peers.

    \b
    zordon engines download blender 4.2.3   install a version
    zordon engines delete blender 4.2.3     remove a downloaded version
    """
    if ctx.invoked_subcommand is not None:
        return
    proxy = _proxy(server)
    _call(proxy.get_engine_names)  # says so when the server refuses us
    peers = [_proxy(url) for url in engine_cli.peer_urls(proxy)]
    Console().print(engine_cli.engine_table([proxy, *peers], console))


@engines.command("download")
@click.argument("engine")
@click.argument("version", required=False)
@server_option
def engines_download(engine: str, version: str | None, server: str) -> None:
    """Install ENGINE VERSION on the server (the newest when left out)."""
    proxy = _proxy(server)
    if not version:
        version = _call(lambda: proxy.engine_most_recent_version(engine))["version"]
    assert version is not None
    started = _call(lambda: proxy.download_engine(engine, version))
    if started["status"] == "installed":
        console.print(f"{engine} {version} is already installed")
        return
    version = started["version"]
    done = _call(lambda: engine_cli.follow_download(proxy, engine, version, console))
    if done["status"] == "error":
        raise click.ClickException(f"{engine} {version}: {done['error']}")
    console.print(f"{engine} {version} installed")


@engines.command("delete")
@click.argument("engine")
@click.argument("version")
@server_option
def engines_delete(engine: str, version: str, server: str) -> None:
    """Remove a version Zordon downloaded (never a system install)."""
    deleted = _call(lambda: _proxy(server).delete_engine_download(engine, version))
    console.print(f"{engine} {deleted['version']} deleted")


@cli.command()
@server_option
def presets(server: str) -> None:
    """List the presets a job can start from (submit --preset NAME)."""
    table = Table("preset", "engine", "args", "description")
    for name, preset in _call(lambda: _proxy(server).get_presets()).items():
        args = " ".join(f"{key}={value}" for key, value in preset["args"].items())
        table.add_row(name, preset["engine"], args, escape(preset["description"]))
    Console().print(table)


@cli.command()
@server_option
def status(server: str) -> None:
    """Show this server and every peer it knows."""
    from zordon.cli.dashboard import status_view

    full = _call(lambda: _proxy(server).get_full_status())
    Console().print(status_view(full))


@cli.command()
@click.option("--refresh", default=2.0, show_default=True, help="Seconds between.")
@server_option
def dashboard(refresh: float, server: str) -> None:
    """A live view of the whole farm; quit with q or Ctrl-C."""
    from zordon.cli.dashboard import run_dashboard

    with contextlib.suppress(KeyboardInterrupt):
        run_dashboard(_proxy(server), Console(), refresh_s=refresh)


@cli.command()
@click.option("--no-browser", is_flag=True, help="Only print the address.")
@server_option
def web(no_browser: bool, server: str) -> None:
    """Open the server's web dashboard in a browser."""
    url = server.rstrip("/") + "/"
    click.echo(url)
    if not no_browser and not webbrowser.open(url):
        console.print("no browser found here: open that address in one")


@cli.command()
@click.option("--disk", is_flag=True, help="Measure the data folder's disk too.")
@server_option
def benchmark(disk: bool, server: str) -> None:
    """Measure the server's CPU (about 10 s) and keep its score."""
    proxy = _proxy(server)
    console.print("measuring the CPU...")
    score = _call(proxy.cpu_benchmark)
    print(f"cpu score: {score:.1f}")
    if disk:
        console.print("measuring the disk...")
        speeds = _call(proxy.disk_benchmark)
        print(
            f"disk: write {speeds['write_mb_s']} MB/s, read {speeds['read_mb_s']} MB/s"
        )


def _pack(file: Path, folder: Path) -> Pack:
    """The file with what it needs; a file that cannot be packed goes alone."""
    try:
        bundle = pack_input(file.resolve(), folder)
    except InvalidRequest as exc:
        console.print(f"[yellow]warning:[/] {escape(str(exc))}; sending the file alone")
        return Pack(file.parent, file.name, {file.name: sha256_file(file)})
    for missing in bundle.missing:
        console.print(f"[yellow]warning:[/] dependency missing: {escape(missing)}")
    return bundle


def _whole_column(header: str, cells: list[str]) -> Column:
    """A column a narrow terminal never cuts short: users copy ids from it."""
    width = max(map(len, [header, *cells]))
    return Column(header, no_wrap=True, min_width=width)


def _parse_frames(text: str) -> tuple[int, int]:
    try:
        start, _, end = text.partition("-")
        return int(start), int(end or start)
    except ValueError as exc:
        raise click.BadParameter("use START-END, such as 1-100") from exc


def _parse_args(pairs: tuple[str, ...]) -> dict[str, str]:
    args = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r}: use key=value")
        args[key.strip()] = value.strip()
    return args


def _call(fn: Any) -> Any:
    try:
        return fn()
    except NotAuthorized as exc:
        hint = "set ZORDON_TOKEN to the farm's token"
        if exc.status == 401 and _client_token():
            hint = "the ZORDON_TOKEN set here is not this farm's token"
        raise click.ClickException(f"{exc} ({hint})") from exc
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc


def main() -> None:
    cli(prog_name="zordon")


if __name__ == "__main__":
    sys.exit(main())
