"""Who may use this server: the farm token, or this machine alone.

With a token set, every request for data under ``/api`` must carry
``Authorization: Bearer TOKEN`` (401 otherwise); only the heartbeat is
open, so peers and the CLI can tell "down" from "refused". Without a
token, the server answers loopback clients only (403 for anyone else).

The web page itself (``/`` and its static files) holds no data, so it is
served without the token; the page asks for the token once and sends it
on every ``/api`` call.

A browser on this machine is "this machine" too, so two more rules keep
other web sites out: an ``/api`` request whose ``Origin`` is not this
server's own page is refused (a page elsewhere cannot post jobs here), and
a server without a token answers only requests addressed to a loopback
name (a DNS-rebinding page names its own host).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
from urllib.parse import urlsplit

from flask import request

from zordon.config import Config
from zordon.errors import Forbidden, Unauthorized

logger = logging.getLogger(__name__)

OPEN_API_PATHS = frozenset({"/api/heartbeat"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
TOKEN_BYTES = 32
WEAK_TOKEN_CHARS = 16


def new_token() -> str:
    """A random token of ``TOKEN_BYTES`` bytes, URL-safe text."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def needs_token(path: str) -> bool:
    """True for the routes that serve data: everything under ``/api``."""
    return (path == "/api" or path.startswith("/api/")) and path not in OPEN_API_PATHS


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and their IPv4-mapped forms."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def token_matches(header: str, expected: str) -> bool:
    """Whether an ``Authorization`` header carries ``expected``, in constant time."""
    scheme, _, sent = header.partition(" ")
    same = hmac.compare_digest(sent.strip().encode(), expected.encode())
    return scheme.lower() == "bearer" and same


def is_loopback_host(host: str) -> bool:
    """True when a ``Host`` header names this machine: localhost or a loopback IP."""
    name = (urlsplit(f"//{host}").hostname or "").lower()
    return name in LOOPBACK_NAMES or is_loopback(name)


def check_origin() -> None:
    """Refuse an ``/api`` request a page of another site made in a browser."""
    origin = request.headers.get("Origin")
    if origin is None or not needs_token(request.path):
        return  # not a browser's cross-site request, or no data behind it
    if urlsplit(origin).netloc.lower() != request.host.lower():
        raise Forbidden(
            f"refused a request from a web page at {origin}: only this "
            "server's own dashboard may use its API from a browser"
        )


def check_request(config: Config) -> None:
    """Refuse the current request unless the farm's rules let it in."""
    check_origin()
    token = config.farm_token
    if not token:
        if not is_loopback(request.remote_addr):
            raise Forbidden(
                "this server has no farm token, so it serves only its own machine; "
                "run `zordon token` and start every server with ZORDON_TOKEN set"
            )
        if not is_loopback_host(request.host):
            raise Forbidden(
                f"this server has no farm token, so it answers only requests "
                f"to a loopback address, not to {request.host!r}"
            )
        return
    if needs_token(request.path) and not token_matches(
        request.headers.get("Authorization", ""), token
    ):
        raise Unauthorized("this farm needs its token: Authorization: Bearer TOKEN")


def log_access_rules(config: Config) -> None:
    """Say at start who may use the server, and how to let other machines in."""
    if config.farm_token:
        logger.info("farm token set: every /api request but the heartbeat needs it")
        if len(config.farm_token) < WEAK_TOKEN_CHARS:
            logger.warning(
                "the farm token is short (%s characters); `zordon token` makes "
                "a strong one",
                len(config.farm_token),
            )
        return
    log = logger.info if is_loopback(config.host) else logger.warning
    log(
        "no farm token: only this machine may use this server. To let other "
        "machines in, run `zordon token` and start every server of the farm "
        'with ZORDON_TOKEN=<token> (or token = "<token>" in zordon.toml)'
    )
