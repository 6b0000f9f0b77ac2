"""The terminal dashboard, drawn from a full-status answer into text."""

from __future__ import annotations

import io

from rich.console import Console

from zordon.cli.dashboard import farm_view, status_view

STATUS = {
    "hostname": "render-a",
    "url": "http://10.0.0.5:8735",
    "os": "Linux",
    "os_version": "6.1.0",
    "os_name": "Debian GNU/Linux 12 (bookworm)",
    "cpu_brand": "Ryzen 9",
    "cpu_count": 16,
    "cpu_percent": 87.0,
    "memory_total": 64e9,
    "memory_used": 12.5e9,
    "memory_percent": 19.5,
    "job_counts": {"running": 1, "not_started": 2, "completed": 7},
    "cpu_score": 412.6,
    "app_version": "0.1.0",
    "api_version": "0.1",
}
JOB = {
    "id": "a1b2c3",
    "name": "shot_010",
    "status": "running",
    "progress": 0.5,
    "start_frame": 1,
    "end_frame": 240,
}
FULL = {
    "timestamp": 1_800_000_000.0,
    "servers": [
        {
            "url": "http://10.0.0.5:8735",
            "self": True,
            "reachable": True,
            "hostname": "render-a",
            "silent_s": 0.0,
            "status": STATUS,
            "jobs": [
                JOB,
                {**JOB, "id": "q1", "name": "later", "status": "not_started"},
            ],
        },
        {
            "url": "http://10.0.0.6:8735",
            "self": False,
            "reachable": False,
            "hostname": "render-b",
            "error": "cannot reach http://10.0.0.6:8735",
            "silent_s": 42.0,
            "status": None,
            "jobs": [],
        },
    ],
}


def as_text(renderable) -> str:
    console = Console(file=io.StringIO(), width=120, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_the_farm_view_shows_each_server_reachable_or_not():
    text = as_text(farm_view(FULL))

    assert "1 of 2 servers reachable" in text
    assert "render-a (this one)" in text
    assert "87% of 16 cores" in text
    assert "12.5 / 64.0 GB (20%)" in text
    assert "1 running, 2 queued" in text
    assert "render-b" in text and "unreachable" in text and "silent 42 s" in text


def test_the_farm_view_draws_a_progress_bar_per_rendering_job():
    text = as_text(farm_view(FULL))

    line = next(row for row in text.splitlines() if "shot_010" in row)
    assert "50%" in line and "━" in line and "1-240" in line
    assert "later" not in text  # queued jobs are counted, not drawn


def test_status_prints_this_server_s_facts_before_the_farm():
    text = as_text(status_view(FULL))

    assert "Debian GNU/Linux 12" in text
    assert "Ryzen 9, 16 cores" in text
    assert "zordon 0.1.0, API 0.1" in text
    assert text.index("Ryzen 9") < text.index("servers reachable")


def test_an_idle_farm_says_nothing_is_rendering():
    idle = {**FULL, "servers": [{**FULL["servers"][0], "jobs": []}]}

    assert "No job is rendering." in as_text(farm_view(idle))


def test_servers_on_one_host_are_told_apart_by_port():
    here = {**FULL["servers"][0], "url": "http://127.0.0.1:8801", "hostname": "vm"}
    there = {**here, "url": "http://127.0.0.1:8802", "self": False}
    farm = {**FULL, "servers": [here, there]}

    text = as_text(farm_view(farm))

    assert "vm:8801" in text and "vm:8802" in text


def test_a_narrow_terminal_keeps_every_server_address_whole():
    full = {
        "timestamp": 0,
        "servers": [
            {
                "url": f"http://192.168.10.{n}:8735",
                "self": n == 20,
                "reachable": False,
                "hostname": None,
                "silent_s": 12,
                "error": "did not answer in time",
                "status": None,
                "jobs": [],
            }
            for n in (20, 21)
        ],
    }
    console = Console(file=io.StringIO(), width=80, record=True, color_system=None)

    console.print(farm_view(full))

    text = console.export_text()
    assert "http://192.168.10.20:8735" in text
    assert "http://192.168.10.21:8735" in text
    assert "did not" in text
