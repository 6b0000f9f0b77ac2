"""Engine processes: started in their own session, killed as a whole tree."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

logger = logging.getLogger(__name__)

TERMINATE_GRACE_S = 1.0
ZOMBIE_POLL_S = 0.05


def start(argv: Sequence[str], cwd: Path) -> subprocess.Popen[str]:
    """Start ``argv`` with stdout and stderr merged into one text pipe."""
    return subprocess.Popen(
        list(argv),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
        start_new_session=True,
    )


def record(proc: subprocess.Popen[str], pid_file: Path) -> None:
    """Note the process in ``pid_file`` so a restarted server can find it."""
    try:
        started = psutil.Process(proc.pid).create_time()
    except psutil.NoSuchProcess:
        return
    pid_file.write_text(f"{proc.pid} {started}\n")


def kill_leftover(pid_file: Path) -> bool:
    """Kill the process ``pid_file`` names if it still runs: an engine that
    outlived a server killed without warning. True if one was killed."""
    try:
        pid_text, started_text = pid_file.read_text().split()
        leftover = psutil.Process(int(pid_text))
        same = abs(leftover.create_time() - float(started_text)) < 0.01
    except (OSError, ValueError, psutil.NoSuchProcess):
        return False
    finally:
        pid_file.unlink(missing_ok=True)
    if not same:
        return False  # the pid was reused by another program
    family = [leftover, *leftover.children(recursive=True)]
    for member in family:
        _send(member, signal.SIGKILL)
    psutil.wait_procs(family, timeout=TERMINATE_GRACE_S)
    logger.warning(
        "killed engine pid %s left running by a previous server", leftover.pid
    )
    return True


def kill_tree(proc: subprocess.Popen[str], grace_s: float = TERMINATE_GRACE_S) -> None:
    """Stop a process and everything it started: TERM, then KILL after ``grace_s``."""
    try:
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(True)]
    except psutil.NoSuchProcess:
        return
    _signal_group(proc.pid, signal.SIGTERM)
    for member in family:
        _send(member, signal.SIGTERM)
    alive = _wait_dead(family, grace_s)
    for member in alive:
        logger.warning("pid %s ignored SIGTERM, killing it", member.pid)
        _send(member, signal.SIGKILL)
    _signal_group(proc.pid, signal.SIGKILL)
    _wait_dead(alive, grace_s)


def _wait_dead(members: list[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    """Members still running after ``timeout_s``.

    Zombies count as dead: grandchildren are reaped by init, not by us, and
    where init does not reap (a container without one) they stay zombies.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        _, alive = psutil.wait_procs(members, timeout=ZOMBIE_POLL_S)
        members = [m for m in alive if not _is_zombie(m)]
        if not members or time.monotonic() >= deadline:
            return members


def _is_zombie(member: psutil.Process) -> bool:
    try:
        return member.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _send(member: psutil.Process, sig: signal.Signals) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        member.send_signal(sig)
