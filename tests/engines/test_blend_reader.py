"""Scene facts read in a worker process that a damaged file cannot hang."""

from pathlib import Path

import pytest

from zordon.engines.blend_reader import BlendReader

pytestmark = pytest.mark.real


def hanging_copy(scene: Path, target: Path) -> Path:
    """The scene with one DNA field name missing its ``]``.

    blender-asset-tracer 1.23 loops for ever over such a name.
    """
    data = bytearray(scene.read_bytes())
    names = data.find(b"NAME", data.find(b"DNA1"))
    data[data.find(b"]", data.find(b"[", names))] = ord("_")
    target.write_bytes(data)
    return target


@pytest.fixture
def reader():
    reader = BlendReader(timeout_s=3.0)
    reader.warm_up()  # the limit is for reading, not for starting the worker
    yield reader
    reader.close()


def test_facts_come_back_from_the_worker(reader, scene_blend):
    assert reader.read(scene_blend)["cameras"] == ["Camera"]


def test_a_file_that_hangs_the_parser_is_given_up_on(reader, scene_blend, tmp_path):
    bad = hanging_copy(scene_blend, tmp_path / "hang.blend")

    with pytest.raises(ValueError, match="gave up"):
        reader.read(bad)

    assert reader.read(scene_blend)["scene"] == "Scene"


def test_an_unreadable_file_is_a_value_error(reader, tmp_path):
    corrupt = tmp_path / "corrupt.blend"
    corrupt.write_bytes(b"BLENDER-v304" + b"\0" * 64)

    with pytest.raises(ValueError, match=r"cannot read corrupt\.blend"):
        reader.read(corrupt)


def test_an_unchanged_file_is_read_once(reader, scene_blend, tmp_path, monkeypatch):
    copy = tmp_path / "copy.blend"
    copy.write_bytes(scene_blend.read_bytes())
    first = reader.read(copy)
    monkeypatch.setattr(reader, "_read", lambda *a: pytest.fail("read again"))

    assert reader.read(copy) == first


def test_a_changed_file_is_read_again(reader, scene_blend, tmp_path):
    copy = tmp_path / "copy.blend"
    copy.write_bytes(scene_blend.read_bytes())
    reader.read(copy)
    copy.write_bytes(b"BLENDER-v304" + b"\0" * 64)

    with pytest.raises(ValueError):
        reader.read(copy)
