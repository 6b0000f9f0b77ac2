"""Every bad input from the issue: a clear message, nothing lost, server up."""

import http.client
import json

import pytest
import requests

from tests.helpers import LOOPBACK, heartbeat_ok, submit, wait_for_job
from zordon.client import BadRequest, NotFoundError

pytestmark = pytest.mark.real


@pytest.fixture(autouse=True)
def server_stays_up(proxy):
    yield
    assert heartbeat_ok(proxy), "the server stopped answering"


@pytest.fixture(scope="module")
def finished_job(server, scene_blend):
    """A completed one-frame job, to aim downloads at."""
    proxy = server.proxy()
    job = submit(proxy, scene_blend, start_frame=1, end_frame=1, args={"samples": 1})
    return wait_for_job(proxy, job["id"])


def raw_get(server, path):
    """GET ``path`` byte for byte as written: no client re-quotes it."""
    connection = http.client.HTTPConnection(LOOPBACK, server.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def post_body(server, body, content_type="application/json"):
    return requests.post(
        f"{server.url}/api/add_job",
        data=body,
        headers={"Content-Type": content_type},
        timeout=10,
    )


# submitting


def test_an_unknown_renderer_is_a_400_naming_it(proxy, scene_blend):
    with pytest.raises(BadRequest, match="maya") as caught:
        submit(proxy, scene_blend, renderer="maya")

    assert caught.value.status == 400


def test_a_job_without_a_file_is_a_400(proxy):
    with pytest.raises(BadRequest, match="file"):
        proxy.create_job({"name": "no file", "renderer": "blender"})


def test_a_local_path_that_does_not_exist_is_a_400(proxy, tmp_path):
    with pytest.raises(BadRequest, match="not a file"):
        proxy.create_job({"local_path": str(tmp_path / "missing.blend")})


def test_an_empty_file_is_a_400(proxy, tmp_path):
    empty = tmp_path / "empty.blend"
    empty.write_bytes(b"")

    with pytest.raises(BadRequest, match="empty"):
        submit(proxy, empty)


def test_an_empty_local_file_is_a_400(proxy, tmp_path):
    empty = tmp_path / "empty.blend"
    empty.write_bytes(b"")

    with pytest.raises(BadRequest, match="empty"):
        proxy.create_job({"local_path": str(empty)})


def test_a_start_frame_after_the_end_frame_is_a_400(proxy, scene_blend):
    with pytest.raises(BadRequest, match="after end_frame"):
        submit(proxy, scene_blend, start_frame=5, end_frame=2)


@pytest.mark.parametrize("value", ["abc", 1.5, "1-3", True, [1], "", "2.0"])
def test_frame_numbers_that_are_not_integers_are_a_400(proxy, scene_blend, value):
    with pytest.raises(BadRequest, match="start_frame"):
        submit(proxy, scene_blend, start_frame=value, end_frame=3)


@pytest.mark.parametrize(
    ("key", "value"), [("scene", "NoSuchScene"), ("camera", "Cam2")]
)
def test_a_scene_or_camera_the_file_lacks_is_a_400(proxy, scene_blend, key, value):
    with pytest.raises(BadRequest, match=value):
        submit(proxy, scene_blend, args={key: value})


@pytest.mark.parametrize(
    "spec", [{"start_frame": 19, "end_frame": 25}, {"frames": [1]}]
)
def test_video_frames_outside_the_clip_or_listed_are_a_400(proxy, clip, spec):
    with pytest.raises(BadRequest, match="frame"):
        submit(proxy, clip, **spec)


def test_an_empty_file_sent_by_digest_is_a_400(proxy, tmp_path):
    (tmp_path / "empty.blend").write_bytes(b"")

    with pytest.raises(BadRequest, match="empty"):
        proxy.create_job_from_tree({}, tmp_path, "empty.blend")


def test_a_body_that_is_not_json_is_a_400(server):
    response = post_body(server, b'{"renderer": "blender",')

    assert response.status_code == 400
    assert "not valid JSON" in response.text


def test_an_empty_body_is_a_400(server):
    response = post_body(server, b"")

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")


def test_a_multipart_form_without_its_json_field_is_a_400(server, scene_blend):
    response = requests.post(
        f"{server.url}/api/add_job",
        files={"file": ("scene.blend", scene_blend.read_bytes())},
        timeout=10,
    )

    assert response.status_code == 400


def test_a_refused_job_in_a_list_refuses_the_whole_list(proxy, scene_blend):
    before = len(proxy.get_jobs())

    with pytest.raises(BadRequest):
        proxy.create_job([{"start_frame": 1}, {"start_frame": "x"}], scene_blend)

    assert len(proxy.get_jobs()) == before


def test_refused_submissions_leave_no_job_behind(proxy, scene_blend):
    before = proxy.get_jobs_with_token()["jobs"]

    with pytest.raises(BadRequest):
        submit(proxy, scene_blend, start_frame=9, end_frame=1)

    assert proxy.get_jobs_with_token()["jobs"] == before


# unknown jobs


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.get_job("nope"),
        lambda p: p.get_job_logs("nope"),
        lambda p: p.get_job_files("nope"),
        lambda p: p.cancel_job("nope"),
        lambda p: p.delete_job("nope"),
    ],
    ids=["get", "logs", "files", "cancel", "delete"],
)
def test_an_unknown_job_id_is_a_400(proxy, call):
    with pytest.raises(BadRequest, match="nope"):
        call(proxy)


# downloads


def test_a_download_without_a_filename_is_a_400(proxy, finished_job):
    with pytest.raises(BadRequest, match="filename"):
        proxy.request("GET", f"/jobs/{finished_job['id']}/download")


@pytest.mark.parametrize(
    "filename",
    [
        "../job.log",
        "../input/scene.blend",
        "..%2fjob.log",
        "%2e%2e%2fjob.log",
        "%2e%2e/input/scene.blend",
        "%252e%252e%252fjob.log",
        "..%5cjob.log",
        "%2fetc%2fpasswd",
        "/etc/passwd",
    ],
)
def test_a_download_outside_the_job_folder_is_a_404_without_the_file(
    server, finished_job, filename
):
    path = f"/api/jobs/{finished_job['id']}/download?filename={filename}"

    status, body = raw_get(server, path)

    assert status == 404
    assert b"BLENDER" not in body
    assert b"Saved:" not in body
    assert b"root:" not in body


def test_a_download_of_the_logs_absolute_path_is_a_404(proxy, finished_job):
    log_path = f"{finished_job['output_dir']}/../job.log"

    with pytest.raises(NotFoundError):
        proxy.request(
            "GET",
            f"/jobs/{finished_job['id']}/download",
            params={"filename": log_path},
        )


# files the engine refuses


def test_a_corrupt_blend_ends_in_error_with_blenders_reason(proxy, tmp_path):
    corrupt = tmp_path / "corrupt.blend"
    corrupt.write_bytes(b"BLENDER" + b"\x00\xffjunk" * 16)

    job = submit(proxy, corrupt)
    ended = wait_for_job(proxy, job["id"])

    assert ended["status"] == "error"
    assert "Failed to read blend file" in ended["error"]
    assert ended["error"] in proxy.get_job_logs(job["id"])


def test_a_scene_without_a_camera_ends_in_error_saying_so(proxy, scenes):
    job = submit(proxy, scenes / "nocam.blend", start_frame=1, end_frame=1)
    ended = wait_for_job(proxy, job["id"])

    assert ended["status"] == "error"
    assert ended["error"] == "Cannot render, no camera"
    assert "Error: Cannot render, no camera" in proxy.get_job_logs(job["id"])


def test_a_damaged_blend_is_taken_and_fails_in_blender_not_the_server(
    proxy, scene_blend, tmp_path
):
    data = scene_blend.read_bytes()
    at = data.rindex(b"STRC") + 8  # the first struct's type index
    damaged = tmp_path / "damaged.blend"
    damaged.write_bytes(data[:at] + b"\xff\xff" + data[at + 2 :])

    job = submit(proxy, damaged, start_frame=1, end_frame=1)
    ended = wait_for_job(proxy, job["id"])

    assert ended["status"] == "error"
    assert "cannot read damaged.blend" in json.dumps(ended["facts"])
