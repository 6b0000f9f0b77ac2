"""The presets a job can name."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from zordon.server.app import services

blueprint = Blueprint("presets", __name__)


@blueprint.get("/presets")
def presets() -> Any:
    """Every preset by name: its engine, description and args."""
    return services().queue.presets.to_dict()
