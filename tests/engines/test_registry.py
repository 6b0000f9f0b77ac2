import pytest

from zordon.config import Config
from zordon.engines import EngineRegistry
from zordon.errors import InvalidRequest


@pytest.fixture
def registry(tmp_path):
    return EngineRegistry(Config(data_dir=tmp_path))


def test_engines_are_found_by_name_in_any_case(registry):
    assert registry.get("Blender").name == "blender"
    assert registry.get("FFMPEG").name == "ffmpeg"


def test_an_unknown_renderer_is_refused_naming_the_known_ones(registry):
    with pytest.raises(InvalidRequest, match="blender, ffmpeg"):
        registry.get("maya")


def test_the_engine_is_chosen_by_file_extension(registry):
    assert registry.for_filename("shot.blend").name == "blender"
    assert registry.for_filename("clip.MOV").name == "ffmpeg"
    assert registry.for_filename("notes.txt") is None


def test_configured_engine_paths_are_used(tmp_path):
    config = Config(data_dir=tmp_path, blender_path="/opt/blender/blender")

    registry = EngineRegistry(config)

    assert registry.get("blender").path == "/opt/blender/blender"
