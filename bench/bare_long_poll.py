"""The floor for long-poll wake latency on this machine: the bare minimum.

A WSGI app with nothing in it but a long-poll, served by waitress with as
many threads as ``zordon server`` has. ``GET /api/jobs/long_poll`` waits
for a change and answers a fixed body of the given size; ``POST
/api/change`` makes one. bench_load.py runs it beside Zordon and reports
Zordon's wake latency as a ratio of this one's.

    python bench/bare_long_poll.py PORT BODY_BYTES
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

import waitress

from zordon.config import Config

WAIT_S = 30.0


def bare_app(body: bytes) -> Callable[..., Iterable[bytes]]:
    changed = threading.Condition()
    version = [0]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ["PATH_INFO"] == "/api/change":
            with changed:
                version[0] += 1
                changed.notify_all()
            answer = b"{}"
        elif environ["PATH_INFO"] == "/api/jobs/long_poll":
            with changed:
                seen = version[0]
                changed.wait_for(lambda: version[0] != seen, WAIT_S)
            answer = body
        else:
            answer = b"up"
        headers = [("Content-Type", "application/json")]
        start_response("200 OK", [*headers, ("Content-Length", str(len(answer)))])
        return [answer]

    return app


def main() -> None:
    port, size = int(sys.argv[1]), int(sys.argv[2])
    threads = Config().server_threads
    waitress.serve(
        bare_app(os.urandom(size)), host="127.0.0.1", port=port, threads=threads
    )


if __name__ == "__main__":
    main()
