import pytest

from zordon.engines.blend_file import read_scene_facts

pytestmark = pytest.mark.real


def test_facts_come_from_the_scene_without_starting_blender(scenes):
    facts = read_scene_facts(scenes / "scene.blend")

    assert (facts["start_frame"], facts["end_frame"]) == (1, 3)
    assert facts["resolution"] == [64, 36]
    assert facts["resolution_percentage"] == 100
    assert facts["render_engine"] == "CYCLES"


def test_cameras_and_output_settings_are_read(scenes):
    facts = read_scene_facts(scenes / "scene.blend")

    assert facts["camera"] == "Camera"
    assert facts["cameras"] == ["Camera"]
    assert facts["output_path"] == "//frames/from_the_file_"
    assert facts["output_format"] == "PNG"


def test_a_movie_output_is_recognised(scenes):
    facts = read_scene_facts(scenes / "movie.blend")

    assert facts["output_is_movie"] is True
    assert facts["output_format"] == "FFMPEG"


def test_a_scene_without_camera_says_so(scenes):
    facts = read_scene_facts(scenes / "nocam.blend")

    assert facts["camera"] is None
    assert facts["cameras"] == []


def test_an_unknown_scene_name_falls_back_to_the_first_scene(scenes):
    facts = read_scene_facts(scenes / "scene.blend", scene_name="Nope")

    assert facts["scene"] == "Scene"


def damage_struct_table(data):
    """Point the first DNA struct at a type that does not exist."""
    at = data.rindex(b"STRC") + 8  # after the marker and the struct count
    return data[:at] + b"\xff\xff" + data[at + 2 :]


def rename_im_format(data):
    """Rename a field the facts need, as a damaged or foreign file might."""
    at = data.rindex(b"\x00im_format\x00") + 1
    return data[:at] + b"im_formaX" + data[at + 9 :]


@pytest.mark.parametrize(
    "content", [b"BLENDER" + b"\x00junk" * 20, b"not a blend file at all", b""]
)
def test_files_that_are_not_blends_raise_value_error(tmp_path, content):
    path = tmp_path / "broken.blend"
    path.write_bytes(content)

    with pytest.raises(ValueError, match=r"broken\.blend"):
        read_scene_facts(path)


@pytest.mark.parametrize(
    "damage",
    [damage_struct_table, rename_im_format, lambda data: data[: len(data) // 2]],
    ids=["struct-table", "missing-field", "truncated"],
)
def test_damaged_blends_raise_value_error_naming_the_file(scenes, tmp_path, damage):
    path = tmp_path / "damaged.blend"
    path.write_bytes(damage((scenes / "scene.blend").read_bytes()))

    with pytest.raises(ValueError, match=r"damaged\.blend"):
        read_scene_facts(path)
