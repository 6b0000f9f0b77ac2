"""A short schemathesis run against a live server: no 5xx, every answer as
documented. bench/fuzz.py is the long run."""

from __future__ import annotations

import pytest

from tests import fuzzing
from tests.helpers import submit, wait_for_job

pytestmark = pytest.mark.real

TOKEN = "fuzzing-token-0123456789abcdef"
MAX_EXAMPLES = 6
MIN_REQUESTS = 300


def test_a_short_fuzz_run_finds_no_server_error_and_no_undocumented_answer(
    start_server, scene_blend, tmp_path
):
    with fuzzing.server_settings(TOKEN) as settings:
        fuzz_server(start_server(**settings), scene_blend, tmp_path)


def fuzz_server(server, scene_blend, tmp_path):
    proxy = server.proxy()
    done = wait_for_job(proxy, submit(proxy, scene_blend, end_frame=1)["id"])
    examples = {
        "job_id": [done["id"]],
        "filename": proxy.get_job_files(done["id"]),
        "engine_name": ["blender", "ffmpeg"],
        "status_val": ["completed"],
    }
    schema = fuzzing.schema_with_examples(proxy, tmp_path / "openapi.json", examples)

    report = fuzzing.run(
        schema, server.url, TOKEN, MAX_EXAMPLES, tmp_path / "report", seed=7
    )

    cases = report["test_cases"]
    assert report["exit_code"] == 0, report["output"]
    assert cases["generated"] >= MIN_REQUESTS and cases["with_failures"] == 0
    assert "Traceback" not in server.log()
