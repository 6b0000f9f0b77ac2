"""The web dashboard: static files at ``/``, built only on the ``/api`` routes."""

from __future__ import annotations

from flask import Blueprint, Response

blueprint = Blueprint(
    "dashboard", __name__, static_folder="static", static_url_path="/ui"
)


@blueprint.get("/")
def index() -> Response:
    return blueprint.send_static_file("index.html")
