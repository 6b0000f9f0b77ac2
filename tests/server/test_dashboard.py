"""The routes the web dashboard adds to the API, and the page itself."""

import io
import re

from tests.helpers import new_job


def upload(client, data=b"not really a blend"):
    response = client.post(
        "/api/cache", data=data, content_type="application/octet-stream"
    )
    return response


def page(client, path):
    with client.get(path) as response:
        return response.status_code, response.get_data(as_text=True)


def test_the_dashboard_is_served_at_the_root(client):
    status, html = page(client, "/")

    assert status == 200
    assert "<title>Zordon</title>" in html


def test_everything_the_page_loads_comes_from_the_server_itself(client):
    links = re.findall(r'(?:src|href)="([^"]*)"', page(client, "/")[1])

    assert links
    assert all(link.startswith(("/ui/", "#")) for link in links)
    assert all(page(client, link)[0] == 200 for link in links if link[0] == "/")


def test_a_page_of_jobs_through_the_api(client, services):
    for n in range(3):
        services.store.add(new_job(services.config.jobs_dir, name=f"shot {n}"))

    body = client.get("/api/jobs?limit=2&order=newest&fields=summary").get_json()

    assert [j["name"] for j in body["jobs"]] == ["shot 2", "shot 1"]
    assert body["total"] == 3


def test_a_bad_page_is_a_400(client):
    assert client.get("/api/jobs?limit=lots").status_code == 400
    assert client.get("/api/jobs/long_poll?status=asleep").status_code == 400


def test_an_upload_without_a_digest_is_stored_under_its_own(client, services):
    body = upload(client).get_json()

    assert services.queue.blobs.has(body["sha256"])


def test_an_empty_upload_is_refused(client):
    assert upload(client, b"").status_code == 400


def test_inspect_names_the_engine_of_an_uploaded_file(client):
    digest = upload(client).get_json()["sha256"]

    response = client.get(f"/api/engines/inspect?sha256={digest}&filename=a.blend")

    assert response.status_code == 200
    assert response.get_json()["engine"] == "blender"


def test_inspect_of_a_file_never_uploaded_is_a_404(client):
    response = client.get(f"/api/engines/inspect?sha256={'0' * 64}&filename=a.blend")

    assert response.status_code == 404


def test_inspect_refuses_a_digest_that_is_a_path(client):
    response = client.get("/api/engines/inspect?sha256=../../etc&filename=a.blend")

    assert response.status_code == 400


def test_render_again_makes_a_new_job_from_the_same_input(client):
    spec = '{"name": "shot", "start_frame": 2, "end_frame": 4, "args": {"samples": 3}}'
    made = client.post(
        "/api/add_job",
        data={"json": spec, "file": (io.BytesIO(b"blend bytes"), "shot.blend")},
    ).get_json()

    again = client.post(f"/api/jobs/{made['id']}/render_again").get_json()

    assert again["id"] != made["id"]
    assert (again["name"], again["start_frame"], again["end_frame"]) == ("shot", 2, 4)
    assert again["args"] == {"samples": 3}
    assert again["input_file"] == "shot.blend"


def test_render_again_of_a_job_whose_input_is_gone_is_a_400(client, services):
    job = services.store.add(new_job(services.config.jobs_dir))

    assert client.post(f"/api/jobs/{job.id}/render_again").status_code == 400


def test_farm_engines_of_a_server_outside_a_farm_is_an_empty_list(client):
    assert client.get("/api/engines/farm").get_json() == {"servers": []}


def test_the_log_tail_is_its_last_lines(client, services):
    job = services.store.add(new_job(services.config.jobs_dir))
    job.log_path.parent.mkdir(parents=True)
    job.log_path.write_text("one\ntwo\nthree\n")

    assert page(client, f"/api/jobs/{job.id}/logs?tail=2") == (200, "two\nthree\n")
    assert page(client, f"/api/jobs/{job.id}/logs?tail=-1")[0] == 400
