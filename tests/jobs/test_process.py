import time

import psutil

from zordon.jobs import process

GRACE_S = 0.2
EXIT_TIMEOUT_S = 5


def family_of(proc):
    """The shell and the sleeps it started, once they are all running."""
    root = psutil.Process(proc.pid)
    while len(root.children(recursive=True)) < 2:
        time.sleep(0.01)
    return [root, *root.children(recursive=True)]


def all_gone(members):
    """True once every member has exited; zombies waiting for init count."""
    deadline = time.monotonic() + EXIT_TIMEOUT_S
    while any(running(m) for m in members):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def running(member):
    try:
        return member.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_kill_tree_stops_a_process_and_its_children(tmp_path):
    script = "sleep 60 & sleep 60 & wait"
    with process.start(["sh", "-c", script], cwd=tmp_path) as proc:
        members = family_of(proc)

        process.kill_tree(proc, grace_s=GRACE_S)

        assert all_gone(members)


def test_kill_tree_kills_children_that_ignore_sigterm(tmp_path):
    # An ignored signal stays ignored across exec, so the sleeps ignore it too.
    script = "trap '' TERM; sleep 60 & sleep 60 & wait"
    with process.start(["sh", "-c", script], cwd=tmp_path) as proc:
        members = family_of(proc)

        process.kill_tree(proc, grace_s=GRACE_S)

        assert all_gone(members)


def test_children_that_die_on_sigterm_are_not_reported_as_ignoring_it(tmp_path, caplog):
    with process.start(["sh", "-c", "sleep 60 & wait"], cwd=tmp_path) as proc:
        family_of_two = psutil.Process(proc.pid)
        while not family_of_two.children():
            time.sleep(0.01)

        process.kill_tree(proc, grace_s=EXIT_TIMEOUT_S)

    assert "ignored SIGTERM" not in caplog.text


def test_kill_tree_of_a_finished_process_does_nothing(tmp_path):
    with process.start(["true"], cwd=tmp_path) as proc:
        proc.wait(EXIT_TIMEOUT_S)

        process.kill_tree(proc, grace_s=GRACE_S)

        assert proc.returncode == 0


def test_started_processes_merge_stderr_into_stdout(tmp_path):
    with process.start(["sh", "-c", "echo out; echo err >&2"], cwd=tmp_path) as proc:
        lines = proc.stdout.read().splitlines()

    assert lines == ["out", "err"]
