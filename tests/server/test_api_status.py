"""Status, snapshot, full status, benchmarks and the debug routes, in-process."""

import threading

import pytest
from PIL import Image

from tests.helpers import new_job
from zordon import API_VERSION, __version__, system
from zordon.config import Config
from zordon.server.app import build_services, create_app


def test_status_describes_the_host_and_the_queue(client, services):
    services.store.add(new_job(services.config.jobs_dir, status="running"))

    status = client.get("/api/status").get_json()

    assert status["timestamp"] > 0
    assert status["os"] == "Linux" and status["os_version"]
    assert status["cpu_count"] >= 1 and 0 <= status["cpu_percent"] <= 100
    assert status["memory_total"] >= status["memory_used"] > 0
    assert 0 < status["memory_percent"] < 100
    assert status["job_counts"]["running"] == 1
    assert status["job_counts"]["completed"] == 0
    assert status["hostname"] == system.hostname()
    assert status["port"] == services.config.port_number
    assert (status["app_version"], status["api_version"]) == (__version__, API_VERSION)


def test_status_shows_the_saved_cpu_score(client, services):
    system.save_cpu_score(services.config.data_dir, 123.4, seconds=10)

    assert client.get("/api/status").get_json()["cpu_score"] == 123.4


def test_snapshot_holds_status_and_jobs_or_only_unfinished_ones(client, services):
    jobs_dir = services.config.jobs_dir
    running = services.store.add(new_job(jobs_dir, status="running"))
    services.store.add(new_job(jobs_dir, status="completed"))

    everything = client.get("/api/snapshot").get_json()
    active = client.get("/api/snapshot?jobs=active").get_json()

    assert everything["status"]["job_counts"]["running"] == 1
    assert len(everything["jobs"]) == 2
    assert [job["id"] for job in active["jobs"]] == [running.id]


def test_full_status_without_peers_holds_this_server(client):
    full = client.get("/api/full_status").get_json()

    (server,) = full["servers"]
    assert server["self"] and server["reachable"]
    assert server["status"]["hostname"] == system.hostname()


def test_a_client_of_another_major_version_is_told_both_versions(client):
    response = client.get("/api/status", headers={"X-API-Version": "7.2"})

    assert response.status_code == 400
    assert API_VERSION in response.text and "7.2" in response.text


def test_a_client_of_the_same_major_version_is_served(client):
    major = API_VERSION.split(".")[0]

    response = client.get("/api/status", headers={"X-API-Version": f"{major}.99"})

    assert response.status_code == 200


@pytest.fixture
def plain_client(tmp_path):
    """A server started without --debug."""
    config = Config(data_dir=tmp_path / "plain", discovery=False)
    services = build_services(config)
    yield create_app(config, services).test_client()
    services.close()


def test_debug_routes_are_404_without_debug(plain_client):
    assert plain_client.get("/api/_debug/detected_clients").status_code == 404
    assert plain_client.post("/api/_debug/clear_history").status_code == 404


def test_debug_routes_answer_with_debug(client):
    assert client.get("/api/_debug/detected_clients").get_json() == []
    assert client.post("/api/_debug/clear_history").get_json()["success"]


@pytest.fixture
def quick_services(tmp_path):
    config = Config(
        data_dir=tmp_path / "quick",
        discovery=False,
        cpu_benchmark_s=0.2,
        disk_benchmark_mb=4,
    )
    built = build_services(config)
    yield built
    built.close()


def test_the_cpu_benchmark_score_is_plain_text_and_kept(quick_services):
    client = create_app(quick_services.config, quick_services).test_client()

    response = client.get("/api/cpu_benchmark")

    assert response.mimetype == "text/plain"
    score = float(response.text)
    assert score > 0
    assert system.cpu_score(quick_services.config.data_dir) == pytest.approx(score, 0.1)


def test_the_disk_benchmark_gives_speeds_and_leaves_nothing(quick_services):
    client = create_app(quick_services.config, quick_services).test_client()

    speeds = client.get("/api/disk_benchmark").get_json()

    assert speeds["write_mb_s"] > 0 and speeds["read_mb_s"] > 0
    assert speeds["size_mb"] == 4
    assert list((quick_services.config.data_dir / "tmp").iterdir()) == []


def test_a_second_benchmark_meanwhile_gets_503(quick_services):
    client = create_app(quick_services.config, quick_services).test_client()
    inside, release = threading.Event(), threading.Event()

    def hold(name):
        with quick_services.benchmarks.only_one(name):
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold, args=("test",))
    holder.start()
    inside.wait(10)
    try:
        cpu = client.get("/api/cpu_benchmark")
        disk = client.get("/api/disk_benchmark")
    finally:
        release.set()
        holder.join()

    assert (cpu.status_code, disk.status_code) == (503, 503)
    assert "benchmark is running" in cpu.text


def test_a_job_without_frames_has_no_thumbnail(client, services):
    job = services.store.add(new_job(services.config.jobs_dir))

    response = client.get(f"/api/jobs/{job.id}/thumbnail")

    assert response.status_code == 404


def test_a_thumbnail_that_fails_is_a_500_naming_the_cause(client, services):
    job = services.store.add(new_job(services.config.jobs_dir))
    job.output_dir.mkdir(parents=True)
    (job.output_dir / "scene_0001.png").write_bytes(b"garbage")

    response = client.get(f"/api/jobs/{job.id}/thumbnail")

    assert response.status_code == 500
    assert response.mimetype == "text/plain"
    assert "scene_0001.png" in response.text


def test_thumbnails_are_jpegs_and_two_frames_make_a_video(client, services):
    job = services.store.add(new_job(services.config.jobs_dir))
    job.output_dir.mkdir(parents=True)
    for number in (1, 2):
        Image.new("RGB", (320, 180), "green").save(
            job.output_dir / f"scene_{number:04d}.png"
        )

    with client.get(f"/api/jobs/{job.id}/thumbnail") as still:
        assert still.mimetype == "image/jpeg"
    with client.get(f"/api/jobs/{job.id}/thumbnail?video_ok=1") as video:
        assert video.mimetype == "video/mp4"
