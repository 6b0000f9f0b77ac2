"""``RenderServerProxy``: every call a UI, the CLI or another server makes.

Failures come out as one tree, whatever ``requests`` raised::

    ClientError                  retryable: may succeed if tried again later
    ├── ServerUnreachable        no connection (retryable)
    ├── ServerTimeout            no answer in time (retryable)
    ├── BadRequest               400, 413: the server refused what we sent
    ├── NotAuthorized            401/403: a farm token is missing or wrong
    ├── NotFoundError            404
    ├── ServerError              500 and other unexpected statuses
    └── ServiceUnavailable       503 (retryable)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import requests

from zordon import API_VERSION
from zordon.jobs.blobs import manifest_of

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
LONG_POLL_TIMEOUT_S = 40.0
TRANSFER_TIMEOUT_S = 600.0
CHUNK_BYTES = 1 << 20
BUSY_RETRY_S = 1.0


class ClientError(Exception):
    """Base of every failure talking to a Zordon server."""

    retryable = False

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ServerUnreachable(ClientError):
    retryable = True


class ServerTimeout(ClientError):
    retryable = True


class BadRequest(ClientError):
    pass


class NotAuthorized(ClientError):
    pass


class NotFoundError(ClientError):
    pass


class ServerError(ClientError):
    pass


class ServiceUnavailable(ClientError):
    retryable = True


STATUS_ERRORS: dict[int, type[ClientError]] = {
    400: BadRequest,
    401: NotAuthorized,
    403: NotAuthorized,
    404: NotFoundError,
    413: BadRequest,
    500: ServerError,
    503: ServiceUnavailable,
}


class RenderServerProxy:
    """A Zordon server at ``base_url`` (``http://host:port``)."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        farm_token: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._session = requests.Session()
        self._session.headers["X-API-Version"] = API_VERSION
        if farm_token:
            self._session.headers["Authorization"] = f"Bearer {farm_token}"
        self._cache: dict[str, Any] = {"jobs": [], "token": None}
        self._cache_changed = threading.Condition()
        self._updater: threading.Thread | None = None
        self._stop_updater = threading.Event()

    def __repr__(self) -> str:
        return f"RenderServerProxy({self.base_url!r})"

    def request(
        self, method: str, path: str, timeout_s: float | None = None, **kwargs: Any
    ) -> requests.Response:
        """Send one request to ``/api{path}``; failures raise :class:`ClientError`."""
        url = f"{self.base_url}/api{path}"
        try:
            response = self._session.request(
                method, url, timeout=timeout_s or self.timeout_s, **kwargs
            )
        except requests.Timeout as exc:
            raise ServerTimeout(f"{self.base_url} did not answer in time") from exc
        except requests.ConnectionError as exc:
            raise ServerUnreachable(f"cannot reach {self.base_url}") from exc
        except requests.RequestException as exc:
            raise ClientError(f"{method} {url} failed: {exc}") from exc
        if response.status_code >= 400:
            error = STATUS_ERRORS.get(response.status_code, ServerError)
            message = response.text.strip() or response.reason
            if response.status_code == 413 and "max_upload_mb" not in message:
                # waitress refuses it before Zordon sees it, in its own words
                message = (
                    "the upload is larger than the server takes (its "
                    f"max_upload_mb setting): {' '.join(message.split())}"
                )
            raise error(message, status=response.status_code)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    # connectivity and status

    def check_connection(self) -> bool:
        """True when the server answers a heartbeat."""
        try:
            self.request("GET", "/heartbeat", timeout_s=min(self.timeout_s, 3.0))
        except ClientError:
            return False
        return True

    def heartbeat(self) -> float:
        return float(self.request("GET", "/heartbeat").text)

    def get_status(self) -> dict[str, Any]:
        return self._json("GET", "/status")

    def get_identity(self) -> dict[str, Any]:
        """The server's id and hostname, from its status."""
        return self.get_status()

    def get_snapshot(
        self, active_only: bool = False, timeout_s: float | None = None
    ) -> dict[str, Any]:
        """Status, jobs (only unfinished ones with ``active_only``) and the time."""
        params = {"jobs": "active"} if active_only else None
        return self._json("GET", "/snapshot", params=params, timeout_s=timeout_s)

    def get_full_status(self) -> dict[str, Any]:
        """This server and every peer it knows, each with its unfinished jobs."""
        return self._json("GET", "/full_status")

    def get_presets(self) -> Any:
        return self._json("GET", "/presets")

    def cpu_benchmark(self) -> float:
        return float(self.request("GET", "/cpu_benchmark", timeout_s=60).text)

    def disk_benchmark(self) -> dict[str, Any]:
        return self._json("GET", "/disk_benchmark", timeout_s=120)

    # jobs

    def get_jobs(self) -> list[dict[str, Any]]:
        """All jobs: from the updater's cache when it runs, else asked now."""
        if self._updater is not None and self._cache["token"] is not None:
            return list(self._cache["jobs"])
        return self.get_jobs_with_token()["jobs"]

    def get_jobs_with_token(self) -> dict[str, Any]:
        return self._json("GET", "/jobs")

    def long_poll(self, token: str | None) -> dict[str, Any] | None:
        """The job list once it changes from ``token``; None after 30 s unchanged."""
        try:
            response = self.request(
                "GET",
                "/jobs/long_poll",
                params={"token": token} if token else None,
                timeout_s=LONG_POLL_TIMEOUT_S,
            )
        except ServiceUnavailable:
            time.sleep(BUSY_RETRY_S)  # the server has too many long-polls open
            return None
        return None if response.status_code == 204 else response.json()

    def get_jobs_by_status(self, status: str) -> list[dict[str, Any]]:
        return self._json("GET", f"/jobs/status/{status}")

    def get_job(self, job_id: str) -> dict[str, Any]:
        return self._json("GET", f"/jobs/{job_id}")

    def get_job_logs(self, job_id: str) -> str:
        return self.request("GET", f"/jobs/{job_id}/logs").text

    def get_job_files(self, job_id: str) -> list[str]:
        return self._json("GET", f"/jobs/{job_id}/files")

    def download_job_file(self, job_id: str, filename: str, dest_dir: Path) -> Path:
        """Save one output file into ``dest_dir``; returns its path."""
        target = Path(dest_dir) / Path(filename).name
        self._download(f"/jobs/{job_id}/download", target, {"filename": filename})
        return target

    def download_all_job_files(self, job_id: str, dest: Path) -> Path:
        """Save a zip of every output file at ``dest``."""
        self._download(f"/jobs/{job_id}/download_all", Path(dest), None)
        return Path(dest)

    def _download(self, path: str, target: Path, params: Any) -> None:
        response = self.request(
            "GET", path, params=params, stream=True, timeout_s=TRANSFER_TIMEOUT_S
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        with response, open(partial, "wb") as out:
            for chunk in response.iter_content(CHUNK_BYTES):
                out.write(chunk)
        partial.replace(target)

    def get_thumbnail(
        self, job_id: str, big: bool = False, video_ok: bool = False
    ) -> tuple[bytes, str]:
        """The preview's bytes and its content type."""
        params = {"size": "big" if big else "small", "video_ok": int(video_ok)}
        response = self.request("GET", f"/jobs/{job_id}/thumbnail", params=params)
        return response.content, response.headers.get("Content-Type", "")

    def create_job(
        self,
        job: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        file_path: Path | None = None,
    ) -> Any:
        """Add one job (a dict) or several (a list), uploading ``file_path``."""
        import json

        if file_path is None:
            return self._json("POST", "/add_job", json=job)
        with open(file_path, "rb") as fh:
            return self._json(
                "POST",
                "/add_job",
                data={"json": json.dumps(job)},
                files={"file": (Path(file_path).name, fh)},
                timeout_s=TRANSFER_TIMEOUT_S,
            )

    def create_job_from_tree(
        self,
        job: Mapping[str, Any],
        root: Path,
        main_file: str,
        files: Mapping[str, str] | None = None,
    ) -> Any:
        """Add a job whose input is the tree under ``root``, sending only new files.

        ``files`` maps relative paths to SHA-256 digests (read from ``root`` when
        not given); the server renders ``main_file`` from the laid-out tree.
        """
        files = dict(files) if files is not None else manifest_of(root)
        self.send_files(root, files)
        return self._json(
            "POST", "/add_job", json={**job, "files": files, "main_file": main_file}
        )

    def send_files(self, root: Path, files: Mapping[str, str]) -> list[str]:
        """Upload the files the server lacks; returns the digests sent."""
        wanted = self._json(
            "POST", "/cache/missing", json={"sha256": sorted(set(files.values()))}
        )["missing"]
        by_digest = {digest: rel for rel, digest in files.items()}
        for digest in wanted:
            with open(Path(root) / by_digest[digest], "rb") as fh:
                self.request(
                    "PUT", f"/cache/{digest}", data=fh, timeout_s=TRANSFER_TIMEOUT_S
                )
        return wanted

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        return self._json("POST", f"/jobs/{job_id}/cancel", params={"confirm": 1})

    def delete_job(self, job_id: str) -> dict[str, Any]:
        return self._json("POST", f"/jobs/{job_id}/delete", params={"confirm": 1})

    def send_subjob_update_notification(
        self, parent_id: str, subjob: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._json("POST", f"/jobs/{parent_id}/subjob_update", json=subjob)

    def clear_history(self) -> dict[str, Any]:
        return self._json("POST", "/_debug/clear_history")

    def detected_clients(self) -> list[dict[str, Any]]:
        return self._json("GET", "/_debug/detected_clients")

    # engines

    def get_engine_for_filename(self, filename: str) -> str:
        params = {"filename": Path(filename).name}
        return self.request("GET", "/engines/for_filename", params=params).text

    def get_engines(self, response_type: str = "standard") -> dict[str, Any]:
        return self._json("GET", "/engines", params={"response_type": response_type})

    def get_engine_names(self) -> list[str]:
        return self._json("GET", "/engines/names")

    def get_engine(self, name: str, response_type: str = "standard") -> dict[str, Any]:
        params = {"response_type": response_type}
        return self._json("GET", f"/engines/{name}", params=params)

    def get_engine_availability(self, name: str, version: str = "") -> dict[str, Any]:
        params = {"version": version} if version else None
        return self._json("GET", f"/engines/{name}/availability", params=params)

    def get_engine_args(self, name: str) -> dict[str, Any]:
        return self._json("GET", f"/engines/{name}/args")

    def get_engine_help(self, name: str) -> str:
        return self.request("GET", f"/engines/{name}/help").text

    def engine_download_available(
        self, engine: str, version: str, **target: str
    ) -> Any:
        params = {"engine": engine, "version": version, **target}
        return self._json("GET", "/engines/download_available", params=params)

    def engine_most_recent_version(self, engine: str, **target: str) -> Any:
        params = {"engine": engine, **target}
        return self._json("GET", "/engines/most_recent_version", params=params)

    def download_engine(self, engine: str, version: str, **target: str) -> Any:
        params = {"engine": engine, "version": version, **target}
        return self._json(
            "POST", "/engines/download", params=params, timeout_s=TRANSFER_TIMEOUT_S
        )

    def delete_engine_download(self, engine: str, version: str, **target: str) -> Any:
        body = {"engine": engine, "version": version, **target}
        return self._json("POST", "/engines/delete", json=body)

    # the background updater

    def start_updater(self) -> None:
        """Keep :meth:`get_jobs`'s cache fresh through long-polls."""
        if self._updater is not None:
            return
        self._stop_updater.clear()
        self._updater = threading.Thread(
            target=self._update_loop, name=f"updater {self.base_url}", daemon=True
        )
        self._updater.start()

    def stop_updater(self) -> None:
        self._stop_updater.set()
        self._updater = None

    def wait_for_update(self, timeout_s: float) -> bool:
        """Block until the cache changes; False on timeout."""
        with self._cache_changed:
            return self._cache_changed.wait(timeout_s)

    def _update_loop(self) -> None:
        warned = False
        while not self._stop_updater.is_set():
            try:
                result = self.long_poll(self._cache["token"])
            except ClientError as exc:
                log = logger.debug if warned else logger.warning
                log("updater for %s: %s", self.base_url, exc)
                warned = True
                self._stop_updater.wait(1.0)
                continue
            warned = False
            if result is not None:
                with self._cache_changed:
                    self._cache = result
                    self._cache_changed.notify_all()
