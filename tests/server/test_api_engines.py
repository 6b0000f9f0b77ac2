"""Engine routes through the app, with the runner stopped."""

from tests.helpers import new_job
from zordon.jobs.status import JobStatus


def test_a_version_rendering_a_job_is_not_deleted(client, services):
    job = new_job(services.config.jobs_dir, engine_version="9.0.1")
    job.status = JobStatus.RUNNING.value
    services.store.add(job)

    response = client.post(
        "/api/engines/delete", json={"engine": "blender", "version": "9.0.1"}
    )

    assert response.status_code == 400
    assert f"rendering job {job.id}" in response.get_data(as_text=True)
