"""No name or argument in a request reaches outside the folders Zordon owns,
nor puts a script on an engine's command line."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from tests.helpers import new_job
from zordon.config import Config
from zordon.engines.base import RenderTask
from zordon.engines.blender import SCRIPT_OPTIONS, BlenderEngine
from zordon.engines.ffmpeg import FFmpegEngine
from zordon.server.app import build_services, create_app

TRAVERSALS = [
    "../../../escaped.blend",
    "..%2f..%2fescaped.blend",
    "%2e%2e%2f%2e%2e%2fescaped.blend",
    "%252e%252e%252fescaped.blend",
    "..\\..\\escaped.blend",
    "/tmp/escaped.blend",
    "C:\\escaped.blend",
    "sub/../../escaped.blend",
    "escaped.blend\x00.png",
]
DIGEST = hashlib.sha256(b"BLENDER").hexdigest()


def text(response) -> str:
    return response.get_data(as_text=True)


def upload(client, name: str, spec: dict | None = None):
    return client.post(
        "/api/add_job",
        data={"json": json.dumps(spec or {}), "file": (io.BytesIO(b"BLENDER"), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("name", TRAVERSALS)
def test_an_upload_name_never_leaves_the_jobs_input_folder(client, services, name):
    response = upload(client, name, {"renderer": "blender"})

    data_dir = services.config.data_dir
    assert not list(data_dir.parent.glob("**/escaped.blend")) or response.is_json
    if response.status_code == 200:
        job = services.store.get(response.get_json()["id"])
        input_path = Path(job.input_path)
        assert input_path.parent == job.folder / "input"
        assert input_path.resolve().is_relative_to(services.config.jobs_dir)
    else:
        assert response.status_code == 400
    assert not (data_dir.parent / "escaped.blend").exists()
    assert not Path("/tmp/escaped.blend").exists()


@pytest.mark.parametrize("name", TRAVERSALS)
def test_a_manifest_path_that_leaves_its_folder_is_refused(client, name):
    spec = {"files": {name: DIGEST}, "main_file": name, "renderer": "blender"}

    response = client.post("/api/add_job", json=spec)

    # Names such as "%2e%2e" are plain names inside the folder: the blob is
    # missing, so they fail for that reason, never by escaping.
    assert response.status_code == 400


@pytest.mark.parametrize("name", TRAVERSALS)
def test_a_main_file_outside_the_manifest_is_refused(client, name):
    spec = {"files": {"shot.blend": DIGEST}, "main_file": name}

    response = client.post("/api/add_job", json=spec)

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("local_path", "reason"),
    [
        ("relative/shot.blend", "absolute"),
        ("~/shot.blend", "absolute"),
        ("/dev/zero", "not a file"),
        ("/dev/null", "not a file"),
        ("/etc", "not a file"),
        ("/etc/passwd", "does not render"),
        ("/tmp/shot.blend\x00/etc/passwd", "absolute"),
    ],
)
def test_a_local_path_must_be_a_file_the_engine_renders(client, local_path, reason):
    response = client.post(
        "/api/add_job", json={"local_path": local_path, "renderer": "blender"}
    )

    assert response.status_code == 400
    assert reason in text(response)


def test_a_local_path_through_a_symlink_to_a_device_is_refused(client, tmp_path):
    link = tmp_path / "shot.blend"
    link.symlink_to("/dev/zero")

    response = client.post("/api/add_job", json={"local_path": str(link)})

    assert response.status_code == 400


@pytest.mark.parametrize(
    "args",
    [
        {"scene": "-P"},
        {"scene": "--python-expr"},
        {"camera": "--python"},
        {"scene": "-y"},
        {"scene": "Scene\x00-P"},
        {"python": "evil.py"},
        {"script": "evil.py"},
        {"P": "evil.py"},
        {"enable_autoexec": True},
        {"format": "PNG --python evil.py"},
        {"threads": "1 -P evil.py"},
        {"resolution_percentage": "50; import os"},
    ],
)
def test_blender_args_cannot_smuggle_a_script(client, args):
    response = upload(client, "shot.blend", {"renderer": "blender", "args": args})

    assert response.status_code == 400


@pytest.mark.parametrize(
    "args",
    [
        {"codec": "libx264 -f image2"},
        {"scale": "1:1,movie=/etc/passwd"},
        {"scale": "640x480 /tmp/out.mp4"},
        {"bitrate": "1M -i /etc/passwd"},
        {"preset": "../../../tmp/x"},
        {"container": "../../escaped"},
        {"container": "mp4/../../escaped"},
        {"fps": "nan"},
        {"fps": "30,movie=/etc/passwd"},
        {"output": "/tmp/escaped.mp4"},
        {"filter_complex": "movie=/etc/passwd"},
        {"i": "/etc/passwd"},
    ],
)
def test_ffmpeg_options_outside_the_whitelist_are_refused(args):
    from zordon.errors import InvalidRequest

    with pytest.raises(InvalidRequest):
        FFmpegEngine().validate_args(args)


def test_ffmpeg_writes_only_into_the_jobs_output_folder(tmp_path):
    engine = FFmpegEngine()
    args = engine.validate_args({"container": "MKV", "scale": "-2x360"})
    task = RenderTask("j", tmp_path / "in" / "clip.mp4", tmp_path / "out", 1, 10)
    task = RenderTask(**{**task.__dict__, "args": args, "facts": _clip_facts()})

    argv = engine.plan(task)[0].argv

    assert Path(argv[-1]).parent == tmp_path / "out"


def _clip_facts() -> dict:
    return {"fps": 10.0, "frame_count": 20, "duration_s": 2.0, "has_audio": False}


@pytest.mark.parametrize(
    "args", [{}, {"scene": "Scene", "camera": "Camera", "threads": 2}]
)
def test_blenders_command_line_keeps_scripts_off(tmp_path, args):
    engine = BlenderEngine("/usr/bin/blender")
    task = RenderTask(
        "j", tmp_path / "-P.blend", tmp_path / "out", 1, 3, args=args, facts={"x": 1}
    )

    argv = engine.plan(task)[0].argv

    assert argv[1:3] == ["-b", "-Y"] and argv.index("-Y") < argv.index(
        str(task.input_path)
    )
    assert [a for a in argv if a in SCRIPT_OPTIONS] == ["--python-expr"]


# downloads


@pytest.fixture
def job_with_a_link(services, tmp_path):
    """A job whose output folder holds a frame and a symlink to a secret."""
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    job = services.store.add(new_job(services.config.jobs_dir))
    job.output_dir.mkdir(parents=True)
    (job.output_dir / "scene_0001.png").write_bytes(b"frame")
    (job.output_dir / "link.png").symlink_to(secret)
    return job


def test_a_symlink_in_the_output_folder_is_neither_listed_nor_sent(
    client, job_with_a_link
):
    job_id = job_with_a_link.id
    files = client.get(f"/api/jobs/{job_id}/files").get_json()
    response = client.get(f"/api/jobs/{job_id}/download?filename=link.png")

    assert files == ["scene_0001.png"]
    assert response.status_code == 404 and "SECRET" not in text(response)


@pytest.mark.parametrize("name", [*TRAVERSALS, "scene_0001.png/../../job.log"])
def test_a_download_name_finds_only_the_jobs_own_files(client, job_with_a_link, name):
    response = client.get(
        f"/api/jobs/{job_with_a_link.id}/download", query_string={"filename": name}
    )

    assert response.status_code == 404


# the upload limit


@pytest.fixture
def small_limit_client(tmp_path):
    config = Config(data_dir=tmp_path / "small", discovery=False, max_upload_mb=1)
    services = build_services(config)
    yield create_app(config, services).test_client()
    services.close()


def test_an_upload_over_the_limit_is_a_413_that_names_the_setting(
    small_limit_client,
):
    # A body built by hand: the test client would spool a big form to a
    # temporary file that it never closes when the app does not read it.
    body = (
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.blend"'
        b"\r\n\r\n" + b"B" * (2 * 1024 * 1024) + b"\r\n--x--\r\n"
    )

    response = small_limit_client.post(
        "/api/add_job", data=body, content_type="multipart/form-data; boundary=x"
    )

    assert response.status_code == 413
    assert "max_upload_mb" in text(response)


def test_a_blob_over_the_limit_is_a_413(small_limit_client):
    response = small_limit_client.put(
        f"/api/cache/{DIGEST}", data=b"B" * (2 * 1024 * 1024)
    )

    assert response.status_code == 413


@pytest.mark.real
def test_a_playlist_dressed_as_a_video_is_never_read_through(tmp_path):
    from zordon.errors import InvalidRequest

    playlist = tmp_path / "innocent.mp4"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n"
        "#EXT-X-ENDLIST\n"
    )

    try:
        facts = FFmpegEngine().probe(playlist).facts
    except InvalidRequest as refused:
        assert "refers to other files" in str(refused)
    else:
        assert "error" in facts


def test_ffmpeg_opens_its_input_as_a_local_file_only(tmp_path):
    task = RenderTask("j", tmp_path / "clip.mp4", tmp_path / "out", 1, 20)
    task = RenderTask(**{**task.__dict__, "facts": _clip_facts()})

    argv = FFmpegEngine("/usr/bin/ffmpeg").plan(task)[0].argv

    at = argv.index("-i")
    assert argv[at - 2 : at] == ["-protocol_whitelist", "file"]
