"""Schemathesis against a live server: the test suite's short run and bench/fuzz.py.

The server's own OpenAPI document is fetched and given examples of real
values (ids of jobs that exist, a file one of them made), so the generated
requests reach past "no such job" into the code that serves real jobs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.release_site import ReleaseSite, serve
from zordon.client import RenderServerProxy

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
PHASES = "examples,coverage,fuzzing"


@contextmanager
def server_settings(token: str) -> Iterator[dict[str, str]]:
    """Settings for a server under fuzzing, as ``ZORDON_*`` variables.

    Benchmarks are short, and the engine routes read a release index served
    on loopback, so they answer with what it holds rather than with the 503
    of a server that is offline.
    """
    site = ReleaseSite()
    site.add_blender("9.1.2")
    site.add_ffmpeg("8.0.1")
    with serve(site):
        yield {
            "ZORDON_TOKEN": token,
            "ZORDON_CPU_BENCHMARK_S": "0.2",
            "ZORDON_DISK_BENCHMARK_MB": "2",
            "ZORDON_BLENDER_RELEASES_URL": f"{site.url}/blender/",
            "ZORDON_FFMPEG_RELEASES_URL": f"{site.url}/ffmpeg/",
        }


def schema_with_examples(
    proxy: RenderServerProxy, target: Path, examples: Mapping[str, Sequence[str]]
) -> Path:
    """Save the server's document with ``examples`` for parameters, by name."""
    document = proxy.request("GET", "/openapi.json").json()
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                values = examples.get(parameter["name"])
                if values:
                    parameter["examples"] = {
                        f"real{n}": {"value": value} for n, value in enumerate(values)
                    }
    target.write_text(json.dumps(document))
    return target


def run(
    schema: Path,
    base_url: str,
    token: str,
    max_examples: int,
    report_dir: Path,
    workers: int = 1,
    seed: int | None = None,
) -> dict[str, Any]:
    """Run schemathesis; returns its JSON report plus its printed ``output``.

    One worker by default: a second benchmark while one runs answers 503 by
    design, which the server-error check would count.
    """
    argv = [sys.executable, "-m", "schemathesis.cli", "run", str(schema)]
    argv += ["--url", base_url, "-H", f"Authorization: Bearer {token}"]
    argv += ["--checks", ",".join(CHECKS), "--phases", PHASES]
    argv += ["--max-examples", str(max_examples), "--workers", str(workers)]
    argv += ["--report", "json", "--report-dir", str(report_dir)]
    argv += ["--request-timeout", "30", "--no-color"]
    if seed is not None:
        argv += ["--seed", str(seed)]
    # Run beside the report, so schemathesis's own caches stay out of the tree.
    report_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        argv, capture_output=True, text=True, check=False, cwd=report_dir
    )
    reports = sorted(report_dir.glob("*.json"))
    if not reports:
        raise RuntimeError(f"schemathesis wrote no report:\n{done.stdout}{done.stderr}")
    report = json.loads(reports[-1].read_text())
    report["output"] = done.stdout + done.stderr
    return report
