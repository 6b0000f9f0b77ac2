"""The long fuzz run: schemathesis against a real server, at least 1,000 requests.

Starts ``zordon server`` with a farm token on a free loopback port, renders
one small job so that real ids and files exist, then lets schemathesis
generate requests for every operation of ``/api/openapi.json``. It passes
when no answer is a 5xx and every answer matches the document.

    .venv/bin/python bench/fuzz.py [--max-examples 60] [--seed N]

It prints the figures and writes them to ``bench/results/fuzz.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import fuzzing  # noqa: E402
from tests.helpers import ServerProcess, make_scenes, submit, wait_for_job  # noqa: E402

TOKEN = "bench-fuzz-token-0123456789abcdef"
MIN_REQUESTS = 1000
RESULTS = ROOT / "bench" / "results" / "fuzz.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=60)
    parser.add_argument("--seed", type=int, default=None)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zordon-fuzz-") as folder:
        figures = fuzz(Path(folder), options.max_examples, options.seed)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    ok = figures["failures"] == 0 and figures["requests"] >= MIN_REQUESTS
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def fuzz(folder: Path, max_examples: int, seed: int | None) -> dict[str, object]:
    make_scenes(folder)
    with fuzzing.server_settings(TOKEN) as settings:
        server = ServerProcess(folder / "data", settings).start()
        return fuzz_server(server, folder, max_examples, seed)


def fuzz_server(
    server: ServerProcess, folder: Path, max_examples: int, seed: int | None
) -> dict[str, object]:
    try:
        proxy = server.proxy()
        job = wait_for_job(proxy, submit(proxy, folder / "scene.blend")["id"])
        examples = {
            "job_id": [job["id"]],
            "filename": proxy.get_job_files(job["id"]),
            "engine_name": ["blender", "ffmpeg"],
            "status_val": ["completed", "running"],
        }
        schema = fuzzing.schema_with_examples(proxy, folder / "openapi.json", examples)
        started = time.monotonic()
        report = fuzzing.run(
            schema, server.url, TOKEN, max_examples, folder / "report", seed=seed
        )
        seconds = time.monotonic() - started
        tracebacks = server.log().count("Traceback")
    finally:
        server.stop()
    print(report["output"][-3000:])
    cases = report["test_cases"]
    return {
        "requests": cases["generated"],
        "failures": cases["with_failures"] + cases["errored"] + tracebacks,
        "unique_failures": cases["unique_failures"],
        "operations": report["operations"]["tested"],
        "max_examples": max_examples,
        "seed": report["seed"],
        "seconds": round(seconds, 1),
        "exit_code": report["exit_code"],
    }


if __name__ == "__main__":
    sys.exit(main())
