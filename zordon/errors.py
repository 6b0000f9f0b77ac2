"""Zordon's exceptions, one shallow tree.

    ZordonError
    ├── InvalidRequest       the caller sent something we refuse (HTTP 400)
    │   └── JobNotFoundError no job with that id (400, as the reference says)
    ├── NotFound             a file or thumbnail that is not there (HTTP 404)
    ├── Unauthorized         a change without the farm token (HTTP 401)
    ├── ServiceUnavailable   the server is too busy for this now (HTTP 503)
    │   └── EngineUnavailable the engine is not installed on this server
    ├── EngineError          an engine ran and failed; the job ends in error
    ├── PreviewError         a preview could not be made (HTTP 500)
    └── ConfigError          a settings or presets file that cannot be used

The server turns each class into its HTTP status; the client raises its own
tree (``zordon.client``) so callers never see ``requests`` exceptions.
"""


class ZordonError(Exception):
    """Base of every error Zordon raises on purpose."""

    http_status = 500


class InvalidRequest(ZordonError):
    """The request is malformed or asks for something we refuse."""

    http_status = 400


class JobNotFoundError(InvalidRequest):
    """No job with that id."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job with id {job_id!r}")
        self.job_id = job_id


class NotFound(ZordonError):
    """A file that is not there, or that a request may not reach."""

    http_status = 404


class Unauthorized(ZordonError):
    """A request that changes something came without the farm token."""

    http_status = 401


class ServiceUnavailable(ZordonError):
    """The server cannot do this now; the same request may work later."""

    http_status = 503


class EngineUnavailable(ServiceUnavailable):
    """The engine is not installed on this server."""


class EngineError(ZordonError):
    """An engine process failed; the message is the engine's own reason."""


class PreviewError(ZordonError):
    """A thumbnail or preview video could not be made; the message says why."""


class ConfigError(ZordonError):
    """A settings or presets file Zordon cannot use; the server does not start."""
