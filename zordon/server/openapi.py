"""The OpenAPI 3.1 document of the API, built from the app's own URL map.

Every route under ``/api`` becomes an operation: its path, methods and path
parameters come from the route, and what it takes and answers from
:data:`zordon.server.api_schema.OPERATIONS`. Errors are plain text with their
status; the ones any route may give (a bad request, a missing farm token,
another machine on a server without one) are added to each operation.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Blueprint, Flask, current_app
from werkzeug.routing import Rule

from zordon import API_VERSION, __version__
from zordon.server.api_schema import COMPONENTS, OPERATIONS, TEXT

blueprint = Blueprint("openapi", __name__)

API_PREFIX = "/api/"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
PATH_ARGUMENT = re.compile(r"<(?:(?P<converter>[^:<>]+):)?(?P<name>[^<>]+)>")
ERRORS = {
    "400": "the request was refused; the text says why",
    "401": "the farm token is missing or wrong",
    "403": "another machine or web site, and this server has no farm token",
    "404": "no such file, route or preview",
    "413": "the upload is over the max_upload_mb setting",
    "503": "busy or not installed here; try again later",
    "500": "the preview could not be made; the text names the cause",
}
BODY_ERRORS = ["413"]
PATH_ERRORS = ["404"]
PARAMETER_SCHEMAS = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "path": {"type": "string", "minLength": 1},
}
SEGMENT = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}


@blueprint.get("/openapi.json")
def document() -> Any:
    return build_document(current_app)


def build_document(app: Flask) -> dict[str, Any]:
    """The whole document; routes without a declaration are left out."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(api_rules(app), key=lambda r: r.rule):
        declared = OPERATIONS.get(rule.endpoint)
        if declared is None:
            continue
        item = paths.setdefault(openapi_path(rule.rule), {})
        for method in sorted(rule.methods - IGNORED_METHODS):  # type: ignore[operator]
            item[method.lower()] = _operation(rule, method, declared)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Zordon",
            "version": API_VERSION,
            "description": f"Zordon {__version__}: a render farm manager",
        },
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {"farmToken": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"farmToken": []}],
    }


def api_rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith(API_PREFIX)]


def undocumented(app: Flask) -> list[str]:
    """``METHOD /path`` of every /api route with no declared operation."""
    return sorted(
        f"{method} {rule.rule}"
        for rule in api_rules(app)
        if rule.endpoint not in OPERATIONS
        for method in rule.methods - IGNORED_METHODS  # type: ignore[operator]
    )


def openapi_path(rule: str) -> str:
    """``/api/jobs/<job_id>`` as OpenAPI writes it: ``/api/jobs/{job_id}``."""
    return PATH_ARGUMENT.sub(lambda m: "{" + m["name"] + "}", rule)


def _operation(rule: Rule, method: str, declared: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": declared["summary"],
        "tags": [rule.endpoint.partition(".")[0]],
        "parameters": _path_parameters(rule) + declared.get("parameters", []),
        "responses": copy.deepcopy(declared["responses"]),
    }
    if "body" in declared:
        operation["requestBody"] = declared["body"]
    codes = ["400", *declared.get("errors", [])]
    if declared.get("public"):
        operation["security"] = []
    else:
        codes += ["401", "403"]
    if rule.arguments:
        codes += PATH_ERRORS
    if "body" in declared:
        codes += BODY_ERRORS
    for code in codes:
        operation["responses"].setdefault(code, _text_error(ERRORS[code]))
    return operation


def _path_parameters(rule: Rule) -> list[dict[str, Any]]:
    parameters = []
    for match in PATH_ARGUMENT.finditer(rule.rule):
        schema = PARAMETER_SCHEMAS.get(match["converter"] or "", SEGMENT)
        parameters.append(
            {"name": match["name"], "in": "path", "required": True, "schema": schema}
        )
    return parameters


def _text_error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {TEXT: {"schema": {"type": "string"}}},
    }
