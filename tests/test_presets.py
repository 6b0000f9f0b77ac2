"""Presets: the shipped file, overrides, and what a job gets from one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from zordon.config import Config
from zordon.engines import EngineRegistry
from zordon.errors import ConfigError, InvalidRequest
from zordon.presets import SHIPPED_PATH, PresetBook


@pytest.fixture
def engines(tmp_path):
    return EngineRegistry(Config(data_dir=tmp_path))


def book_with(tmp_path, engines, text):
    path = tmp_path / "presets.yaml"
    path.write_text(text)
    return PresetBook.load([SHIPPED_PATH, path], engines)


def test_the_shipped_presets_cover_both_engines(engines):
    book = PresetBook.load([SHIPPED_PATH], engines)

    preview = book.get("preview")
    assert preview.args == {
        "resolution_percentage": 25,
        "samples": 16,
        "format": "JPEG",
    }
    assert {"preview", "final", "web"} <= set(book.names)
    assert {book.get(name).engine for name in book.names} == {"blender", "ffmpeg"}


def test_a_job_s_own_args_override_the_preset(engines):
    book = PresetBook.load([SHIPPED_PATH], engines)

    args = book.apply("preview", engines.get("blender"), {"samples": 4})

    assert args == {"resolution_percentage": 25, "samples": 4, "format": "JPEG"}


def test_a_job_s_bitrate_replaces_the_preset_s_crf(engines):
    book = PresetBook.load([SHIPPED_PATH], engines)

    args = book.apply(
        "web", engines.get("ffmpeg"), {"bitrate": "2M", "scale": "-2x480"}
    )

    assert "crf" not in args and "height" not in args
    engines.get("ffmpeg").validate_args(args)


def test_a_preset_for_another_engine_is_refused(engines):
    book = PresetBook.load([SHIPPED_PATH], engines)

    with pytest.raises(InvalidRequest, match="is for blender"):
        book.apply("preview", engines.get("ffmpeg"), {})


def test_an_unknown_preset_is_refused_naming_the_known_ones(engines):
    book = PresetBook.load([SHIPPED_PATH], engines)

    with pytest.raises(InvalidRequest, match=r"unknown preset .nope.*preview"):
        book.get("nope")


def test_the_data_folder_s_file_adds_and_replaces_presets(tmp_path, engines):
    book = book_with(
        tmp_path,
        engines,
        "preview:\n  engine: blender\n  args: {resolution_percentage: 10}\n"
        "mine:\n  engine: ffmpeg\n  args: {height: 240}\n",
    )

    assert book.get("preview").args == {"resolution_percentage": 10}
    assert book.get("mine").engine == "ffmpeg"
    assert "final" in book.names


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("preview: [unclosed", "presets.yaml"),
        ("- just\n- a list\n", "mapping of preset names"),
        ("fast:\n  engine: blender\n  args: {samples: lots}\n", "samples"),
        ("fast:\n  engine: maya\n", "unknown renderer"),
        ("fast:\n  args: {samples: 4}\n", "engine"),
        ("fast:\n  engine: blender\n  flags: {}\n", "unknown field"),
    ],
)
def test_a_broken_presets_file_says_what_is_wrong(tmp_path, engines, text, complaint):
    with pytest.raises(ConfigError, match=complaint):
        book_with(tmp_path, engines, text)


@pytest.mark.real
def test_a_server_with_a_broken_presets_file_refuses_to_start(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "presets.yaml").write_text("preview:\n  engine: blender\n  args: [1\n")
    argv = [sys.executable, "-m", "zordon.cli.main", "server", "--data-dir", str(data)]
    argv += ["--host", "127.0.0.1", "--port", "0", "--no-discovery"]

    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)

    assert done.returncode == 1
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: bad configuration:")
    assert "presets.yaml" in error
