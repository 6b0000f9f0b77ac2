"""GET /api/presets, and add_job with a preset."""


def test_presets_are_served_by_name(client):
    presets = client.get("/api/presets").get_json()

    assert presets["preview"]["engine"] == "blender"
    assert presets["preview"]["args"]["resolution_percentage"] == 25


def test_a_job_starts_from_its_preset_with_its_own_args_on_top(client, clip):
    spec = {"local_path": str(clip), "preset": "proxy", "args": {"crf": 20}}

    job = client.post("/api/add_job", json=spec).get_json()

    assert job["args"]["crf"] == 20
    assert job["args"]["preset"] == "veryfast"
    assert job["args"]["scale"] == "-2:360"


def test_an_unknown_preset_is_a_400(client, clip):
    spec = {"local_path": str(clip), "preset": "no_such_preset"}

    response = client.post("/api/add_job", json=spec)

    assert response.status_code == 400
    assert "no_such_preset" in response.text
