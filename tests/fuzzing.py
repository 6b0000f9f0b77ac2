"""Schemathesis against a live server: the test suite's short run and bench/fuzz.py.

The server's own OpenAPI document is fetched and given examples of real
values (ids of jobs that exist, a file one of them made), so the generated
requests reach past "no such job" into the code that serves real jobs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zordon.client import RenderServerProxy

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
PHASES = "examples,coverage,fuzzing"


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
    workers: int = 2,
    seed: int | None = None,
) -> dict[str, Any]:
    """Run schemathesis; returns its JSON report plus its printed ``output``."""
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
