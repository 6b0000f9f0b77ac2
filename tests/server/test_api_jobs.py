import io
import threading

import pytest

from tests.helpers import new_job

JOB_KEYS = {"id", "name", "status", "renderer", "start_frame", "end_frame"}


@pytest.fixture
def job(services):
    """A queued job with two output frames and a log beside them."""
    made = services.store.add(new_job(services.config.jobs_dir))
    made.output_dir.mkdir(parents=True)
    (made.output_dir / "scene_0001.png").write_bytes(b"frame one")
    (made.output_dir / "scene_0002.png").write_bytes(b"frame two")
    made.log_path.write_text("SECRET LOG LINE\n")
    return made


def text(response):
    return response.get_data(as_text=True)


# listing and watching


def test_the_job_list_comes_with_a_cache_token(client, job):
    body = client.get("/api/jobs").get_json()

    assert [j["id"] for j in body["jobs"]] == [job.id]
    assert body["token"]


def test_job_json_has_the_documented_fields(client, job):
    body = client.get(f"/api/jobs/{job.id}").get_json()

    assert JOB_KEYS | {"progress", "error"} <= set(body)
    assert body["status"] == "not_started"
    assert body["progress"] == 0.0


def test_long_poll_with_the_current_token_times_out_with_204(client, job):
    token = client.get("/api/jobs").get_json()["token"]

    response = client.get("/api/jobs/long_poll", query_string={"token": token})

    assert response.status_code == 204
    assert response.get_data() == b""


def test_long_poll_with_an_old_token_answers_at_once(client, services, job):
    token = client.get("/api/jobs").get_json()["token"]
    services.store.update(job.id, progress=0.5)

    response = client.get("/api/jobs/long_poll", query_string={"token": token})

    assert response.status_code == 200
    assert response.get_json()["jobs"][0]["progress"] == 0.5


def test_jobs_by_status_ignore_the_case_of_the_status(client, job):
    response = client.get("/api/jobs/status/NOT_STARTED")

    assert response.status_code == 200
    assert [j["id"] for j in response.get_json()] == [job.id]


def test_jobs_by_status_with_no_match_is_a_400(client, job):
    assert client.get("/api/jobs/status/running").status_code == 400
    assert client.get("/api/jobs/status/paused").status_code == 400


def test_logs_are_plain_text(client, job):
    response = client.get(f"/api/jobs/{job.id}/logs")

    assert response.mimetype == "text/plain"
    assert text(response) == "SECRET LOG LINE\n"


def test_unknown_job_ids_are_400_on_every_job_route(client):
    for route in ("", "/logs", "/files", "/download?filename=x", "/download_all"):
        response = client.get(f"/api/jobs/nope{route}")
        assert response.status_code == 400, route
    assert client.post("/api/jobs/nope/cancel?confirm=1").status_code == 400
    assert client.post("/api/jobs/nope/delete?confirm=1").status_code == 400


# files


def test_files_lists_output_names_only(client, job):
    names = client.get(f"/api/jobs/{job.id}/files").get_json()

    assert names == ["scene_0001.png", "scene_0002.png"]


def test_download_sends_the_named_file_as_an_attachment(client, job):
    with client.get(
        f"/api/jobs/{job.id}/download", query_string={"filename": "SCENE_0001.png"}
    ) as response:
        assert response.status_code == 200
        assert response.get_data() == b"frame one"
        assert "attachment" in response.headers["Content-Disposition"]


def test_download_without_a_filename_is_a_400(client, job):
    assert client.get(f"/api/jobs/{job.id}/download").status_code == 400
    response = client.get(f"/api/jobs/{job.id}/download?filename=")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "filename=../job.log",
        "filename=..%2fjob.log",
        "filename=%2e%2e%2fjob.log",
        "filename=%252e%252e%252fjob.log",
        "filename=..%5cjob.log",
        "filename=output/../../job.log",
    ],
)
def test_download_outside_the_output_folder_is_a_404(client, job, query):
    response = client.get(f"/api/jobs/{job.id}/download?{query}")

    assert response.status_code == 404
    assert "SECRET" not in text(response)


def test_download_of_an_absolute_path_is_a_404(client, job):
    response = client.get(
        f"/api/jobs/{job.id}/download", query_string={"filename": str(job.log_path)}
    )

    assert response.status_code == 404
    assert "SECRET" not in text(response)


def test_download_all_of_a_job_without_files_is_a_404(client, services):
    bare = services.store.add(new_job(services.config.jobs_dir))

    assert client.get(f"/api/jobs/{bare.id}/download_all").status_code == 404


# changing jobs


def test_cancel_without_confirm_is_refused_and_changes_nothing(client, job):
    response = client.post(f"/api/jobs/{job.id}/cancel")

    assert response.status_code == 400
    assert client.get(f"/api/jobs/{job.id}").get_json()["status"] == "not_started"


def test_cancel_with_confirm_cancels_a_queued_job(client, job):
    response = client.post(f"/api/jobs/{job.id}/cancel?confirm=true")

    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"


def test_delete_forgets_the_job_and_removes_its_folder(client, job):
    response = client.post(f"/api/jobs/{job.id}/delete?confirm=1")

    assert response.status_code == 200
    assert not job.folder.exists()
    assert client.get(f"/api/jobs/{job.id}").status_code == 400


def test_a_job_that_finishes_as_it_is_deleted_is_deleted(client, services, job):
    store = services.store
    store.update(job.id, status="running")
    real_set_status = store.set_status

    def finished_first(job_id, status, *args, **kwargs):
        store.update(job_id, status="completed")  # the render ends just now
        return real_set_status(job_id, status, *args, **kwargs)

    store.set_status = finished_first
    response = client.post(f"/api/jobs/{job.id}/delete?confirm=1")

    assert response.status_code == 200
    assert client.get(f"/api/jobs/{job.id}").status_code == 400


def test_delete_leaves_a_local_input_outside_the_jobs_folder(
    client, services, tmp_path
):
    outside = tmp_path / "mine" / "shot.blend"
    outside.parent.mkdir()
    outside.write_bytes(b"BLENDER")
    made = services.store.add(
        new_job(services.config.jobs_dir, input_path=str(outside))
    )

    client.post(f"/api/jobs/{made.id}/delete?confirm=1")

    assert outside.exists()


def test_clear_history_removes_finished_jobs(client, job, services):
    client.post(f"/api/jobs/{job.id}/cancel?confirm=1")

    body = client.post("/api/_debug/clear_history").get_json()

    assert body["success"] is True
    assert client.get("/api/jobs").get_json()["jobs"] == []


# submitting: what is refused before any engine runs


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no job"),
        (b"   ", "no job"),
        (b"{not json", "not valid JSON"),
        (b"42", "JSON object"),
        (b"[]", "no job"),
        (b'{"name": "x", "colour": "red"}', "colour"),
        (b'{"name": "x"}', "file"),
    ],
)
def test_add_job_refuses_bodies_that_hold_no_usable_job(client, body, reason):
    response = client.post("/api/add_job", data=body, content_type="application/json")

    assert response.status_code == 400
    assert reason in text(response)


def test_add_job_refuses_an_empty_upload(client):
    response = client.post(
        "/api/add_job",
        data={"json": "{}", "file": (io.BytesIO(b""), "shot.blend")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "empty" in text(response)


def test_add_job_refuses_an_unknown_renderer(client):
    response = client.post(
        "/api/add_job",
        data={
            "json": '{"renderer": "maya"}',
            "file": (io.BytesIO(b"BLENDER"), "shot.blend"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "maya" in text(response)


def test_a_refused_upload_leaves_no_files_behind(client, services):
    client.post(
        "/api/add_job",
        data={
            "json": '{"renderer": "maya"}',
            "file": (io.BytesIO(b"BLENDER"), "shot.blend"),
        },
        content_type="multipart/form-data",
    )

    leftovers = [p for p in services.config.jobs_dir.rglob("*") if p.is_file()]
    assert leftovers == []


def upload(client, spec):
    return client.post(
        "/api/add_job",
        data={"json": spec, "file": (io.BytesIO(b"BLENDER"), "shot.blend")},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ('{"start_frame": -2, "end_frame": -1}', "0 or more"),
        ('{"start_frame": "5_0"}', "integer"),
        ('{"frame_step": 0}', "frame_step"),
        ('{"name": ["a", 1]}', "name"),
        ('{"name": "two\\r\\nlines"}', "name"),
        ('{"frames": [1, 1]}', "distinct"),
        ('{"parent": "abc@http://10.9.9.9:8735"}', "not the machine"),
        ('{"parent": "no-at-sign"}', "JOB_ID@"),
    ],
)
def test_add_job_refuses_frames_names_and_parents_it_cannot_honour(
    client, spec, reason
):
    response = upload(client, spec)

    assert response.status_code == 400
    assert reason in text(response)


def test_a_split_by_hand_may_not_name_an_unknown_server(client, services):
    services.queue.split_jobs = True
    spec = (
        '{"enable_split_jobs": true, "child_jobs": '
        '[{"server": "http://10.9.9.9:8735", "start_frame": 1, "end_frame": 1}]}'
    )

    response = upload(client, spec)

    assert response.status_code == 400
    assert "known peer" in text(response)


def test_a_manifest_naming_a_file_and_a_folder_alike_is_refused(client):
    digest = "a" * 64
    body = {"files": {"a": digest, "a/b.blend": digest}, "main_file": "a/b.blend"}

    response = client.post("/api/add_job", json=body)

    assert response.status_code == 400
    assert "both a file and a folder" in text(response)


def test_download_all_leaves_no_archive_behind(client, job, services):
    response = client.get(f"/api/jobs/{job.id}/download_all")
    response.get_data()
    response.close()

    assert response.status_code == 200
    assert list((services.config.data_dir / "tmp").glob("*")) == []


def test_long_polls_past_the_limit_are_told_to_come_back(client, services, job):
    services.long_polls = threading.Semaphore(0)

    response = client.get("/api/jobs/long_poll?token=whatever")

    assert response.status_code == 503
