"""The ``zordon`` command, run as a user would, against a real server."""

import os
import subprocess
import sys
import zipfile

import pytest

pytestmark = pytest.mark.real

CLI_TIMEOUT_S = 120


def zordon(*args, cwd=None):
    """Run ``zordon ARGS`` with its output piped, as a script would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZORDON_")}
    env.pop("COLUMNS", None)
    return subprocess.run(
        [sys.executable, "-m", "zordon.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        env=env,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def watched(server, scene_blend):
    """``zordon submit --watch`` of frames 1-2, run once for this module."""
    done = zordon(
        "submit", str(scene_blend), "--frames", "1-2", "--watch", "--server", server.url
    )
    return done, done.stdout.strip().splitlines()[0]


def test_submit_watch_exits_0_when_the_job_completes(watched):
    done, _ = watched

    assert done.returncode == 0, done.stderr


def test_submit_watch_says_where_the_files_are(proxy, watched):
    done, job_id = watched
    output_dir = proxy.get_job(job_id)["output_dir"]

    assert f"files in {output_dir}" in done.stderr
    assert sorted(os.listdir(output_dir)) == ["scene_0001.png", "scene_0002.png"]


def test_jobs_lists_the_submitted_job(server, watched):
    _, job_id = watched

    done = zordon("jobs", "--server", server.url)

    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if job_id in line)
    assert "completed" in row


def test_download_all_saves_a_zip_of_the_frames(server, watched, tmp_path):
    _, job_id = watched

    done = zordon("download", job_id, "--all", "--server", server.url, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(tmp_path / f"{job_id}.zip") as zipped:
        assert sorted(zipped.namelist()) == ["scene_0001.png", "scene_0002.png"]


def test_download_saves_each_frame_into_dest(server, watched, tmp_path):
    _, job_id = watched

    done = zordon("download", job_id, "--dest", str(tmp_path), "--server", server.url)

    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "scene_0001.png",
        "scene_0002.png",
    ]


def test_a_failed_job_makes_submit_watch_exit_non_zero(server, scenes):
    done = zordon(
        "submit",
        str(scenes / "nocam.blend"),
        "--frames",
        "1-1",
        "--watch",
        "--server",
        server.url,
    )

    assert done.returncode != 0
    assert "Cannot render, no camera" in done.stderr


def test_an_unknown_job_is_a_clear_error(server):
    done = zordon("cancel", "nope", "--server", server.url)

    assert done.returncode != 0
    assert "no job with id 'nope'" in done.stderr


def test_an_engine_argument_the_engine_refuses_is_reported(server, scene_blend):
    done = zordon(
        "submit", str(scene_blend), "--arg", "python=evil()", "--server", server.url
    )

    assert done.returncode != 0
    assert "python" in done.stderr
