"""Fixtures: generated scenes and clips, and real servers on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from tests.helpers import ServerProcess, make_clip, make_scenes
from zordon.client import RenderServerProxy


@pytest.fixture(scope="session")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of .blend files that Blender makes for this test run.

    scene.blend is Cycles at 64x36, 2 samples, no denoising (Debian's Blender
    has no OpenImageDenoise), frames 1-3 with the cube moving. movie.blend
    asks for FFMPEG output, nocam.blend has no camera, and heavy.blend takes
    minutes (100000 samples, adaptive sampling off, 50 frames).
    """
    folder = tmp_path_factory.mktemp("scenes")
    make_scenes(folder)
    return folder


@pytest.fixture(scope="session")
def scene_blend(scenes: Path) -> Path:
    return scenes / "scene.blend"


@pytest.fixture(scope="session")
def heavy_blend(scenes: Path) -> Path:
    return scenes / "heavy.blend"


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s, 128x72, 10 fps ``testsrc`` clip: 20 frames."""
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    make_clip(path)
    return path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server shared by tests whose jobs do not disturb each other."""
    running = ServerProcess(tmp_path_factory.mktemp("shared") / "data").start()
    yield running
    running.stop()


@pytest.fixture
def proxy(server: ServerProcess) -> RenderServerProxy:
    return server.proxy()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start servers of this test's own (by default on one data folder)."""
    started: list[ServerProcess] = []

    def start(
        data_dir: Path | None = None, extra_args: Iterable[str] = (), **env: str
    ) -> ServerProcess:
        running = ServerProcess(data_dir or tmp_path / "data", env, extra_args)
        running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
