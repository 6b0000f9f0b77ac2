"""What each /api route takes and answers, by endpoint name, for the OpenAPI
document that :mod:`zordon.server.openapi` builds from the URL map.

A route added without an entry here fails ``test_every_api_route_is_documented``.
Path parameters need no entry: they come from the route itself.
"""

from __future__ import annotations

from typing import Any

from zordon.jobs.status import JobStatus

Schema = dict[str, Any]

TEXT = "text/plain"
JSON = "application/json"


def nullable(kind: str) -> Schema:
    return {"type": [kind, "null"]}


def obj(required: str = "", **properties: Schema) -> Schema:
    """An object with these properties; ``required`` names some, space-separated."""
    return {"type": "object", "required": required.split(), "properties": properties}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}


JOB = obj(
    "id name status renderer progress",
    id=STRING,
    name=STRING,
    status={"type": "string", "enum": [s.value for s in JobStatus]},
    renderer=STRING,
    engine_version=nullable("string"),
    input_file=STRING,
    output_dir=STRING,
    start_frame=INTEGER,
    end_frame=INTEGER,
    frame_step=INTEGER,
    frames={"type": ["array", "null"], "items": INTEGER},
    total_frames=INTEGER,
    frames_done=INTEGER,
    progress={"type": "number", "minimum": 0, "maximum": 1},
    error=STRING,
    args={"type": "object"},
    facts={"type": "object"},
    enable_split_jobs=BOOLEAN,
    parent=nullable("string"),
    children={"type": "array", "items": {"type": "object"}},
    created_at=STRING,
    started_at=nullable("string"),
    finished_at=nullable("string"),
)
JOB_REF: Schema = {"$ref": "#/components/schemas/Job"}
JOB_LIST = obj("jobs token", jobs={"type": "array", "items": JOB_REF}, token=STRING)
JOBS: Schema = {"type": "array", "items": JOB_REF}
STRINGS: Schema = {"type": "array", "items": STRING}
ANY_OBJECT: Schema = {"type": "object"}
TEXT_MAP: Schema = {"type": "object", "additionalProperties": STRING}
STATUS = obj(
    "timestamp server_id hostname job_counts api_version",
    timestamp=NUMBER,
    server_id=STRING,
    url=nullable("string"),
    hostname=STRING,
    os=STRING,
    os_version=STRING,
    cpu_brand=nullable("string"),
    cpu_count=nullable("integer"),
    cpu_percent=NUMBER,
    memory_total=INTEGER,
    memory_percent=NUMBER,
    port=INTEGER,
    job_counts={"type": "object", "additionalProperties": INTEGER},
    app_version=STRING,
    api_version=STRING,
)
RELEASE = obj(
    "engine version system_os cpu url",
    engine=STRING,
    version=STRING,
    system_os=STRING,
    cpu=STRING,
    url=STRING,
)
DOWNLOAD = obj(
    "engine version status progress",
    engine=STRING,
    version=STRING,
    system_os=STRING,
    cpu=STRING,
    url=STRING,
    status={
        "type": "string",
        "enum": ["downloading", "verifying", "installing", "done", "error"],
    },
    progress={"type": "number", "minimum": 0, "maximum": 1},
    bytes_done=INTEGER,
    bytes_total=nullable("integer"),
    error=STRING,
    started_at=STRING,
)
INSTALLED = obj(
    "version path managed",
    version=nullable("string"),
    path=nullable("string"),
    managed=BOOLEAN,
)
ENGINE = obj(
    "name path version extensions versions downloads",
    name=STRING,
    path=nullable("string"),
    version=nullable("string"),
    extensions=STRINGS,
    versions={"type": "array", "items": INSTALLED},
    downloads={"type": "array", "items": DOWNLOAD},
    export_formats=STRINGS,
    args=TEXT_MAP,
    ui_options={"type": "array", "items": ANY_OBJECT},
    system=ANY_OBJECT,
)
AVAILABILITY = obj(
    "engine available versions speed",
    engine=STRING,
    available=BOOLEAN,
    versions=STRINGS,
    cpu_count=nullable("integer"),
    hostname=STRING,
    server_id=STRING,
    speed=ANY_OBJECT,
    version=STRING,
    version_ready=BOOLEAN,
)
PEER = obj(
    "url source up",
    url=STRING,
    source=STRING,
    up=BOOLEAN,
    failures=INTEGER,
    server_id=nullable("string"),
    hostname=nullable("string"),
    last_seen=nullable("number"),
)
NEW_JOB = obj(
    name=STRING,
    renderer=STRING,
    engine=STRING,
    engine_version=STRING,
    start_frame=INTEGER,
    end_frame=INTEGER,
    frame_step=INTEGER,
    frames={"type": "array", "items": INTEGER},
    args=ANY_OBJECT,
    enable_split_jobs=BOOLEAN,
    child_jobs={"type": "array", "items": ANY_OBJECT},
    local_path=STRING,
    parent=STRING,
    files=TEXT_MAP,
    main_file=STRING,
)
BINARY: Schema = {"type": "string", "format": "binary"}

COMPONENTS: Schema = {"Job": JOB}


def query(name: str, description: str, required: bool = False) -> Schema:
    """A query parameter that takes text."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": STRING,
    }


def ok(schema: Schema | None = None, media: str = JSON, code: str = "200") -> Schema:
    """A success answer: ``schema`` as ``media``."""
    content = {media: {"schema": schema}} if schema is not None else {media: {}}
    return {code: {"description": "OK", "content": content}}


CONFIRM = query("confirm", "must be true, so a stray request changes nothing")
ENGINE_VERSION = [
    query("engine", "engine name: blender or ffmpeg", True),
    query("version", "a version such as 4.2 or 4.2.3", True),
    query("system_os", "linux, windows or macos (default: this server's)"),
    query("cpu", "x64 or arm64 (default: this server's)"),
]
SERVER = obj(
    "url self reachable",
    url=nullable("string"),
    self=BOOLEAN,
    reachable=BOOLEAN,
    error=nullable("string"),
    hostname=nullable("string"),
    last_seen=nullable("number"),
    silent_s=NUMBER,
    status={"oneOf": [STATUS, {"type": "null"}]},
    jobs={"type": "array", "items": ANY_OBJECT},
)

# endpoint -> summary, parameters, request body, success answers, other statuses
OPERATIONS: dict[str, Schema] = {
    "status.heartbeat": {
        "summary": "The server's time: a quick 'are you there'",
        "responses": ok(STRING, TEXT),
        "public": True,
    },
    "status.status": {
        "summary": "Host and queue facts",
        "responses": ok(STATUS),
    },
    "status.snapshot": {
        "summary": "Status and every job at once",
        "responses": ok(
            obj("status jobs timestamp", status=STATUS, jobs=JOBS, timestamp=NUMBER)
        ),
    },
    "jobs.list_jobs": {
        "summary": "Every job, with a token that changes whenever a job does",
        "responses": ok(JOB_LIST),
    },
    "jobs.long_poll": {
        "summary": "Wait until the jobs differ from the token, or time out with 204",
        "parameters": [query("token", "the token from the last job list")],
        "responses": {
            **ok(JOB_LIST),
            "204": {"description": "nothing changed in time"},
        },
        "errors": ["503"],
    },
    "jobs.jobs_with_status": {
        "summary": "Jobs with one status (400 when there are none)",
        "responses": ok(JOBS),
    },
    "jobs.get_job": {"summary": "One job", "responses": ok(JOB_REF)},
    "jobs.job_logs": {
        "summary": "The job's log",
        "responses": ok(STRING, TEXT),
    },
    "jobs.job_files": {
        "summary": "The names of the job's output files",
        "responses": ok(STRINGS),
    },
    "jobs.download": {
        "summary": "One output file, by a name from the file list",
        "parameters": [query("filename", "a name from the job's file list", True)],
        "responses": ok(BINARY, "*/*"),
        "errors": ["404"],
    },
    "jobs.download_all": {
        "summary": "A zip of every output file",
        "responses": ok(BINARY, "application/zip"),
        "errors": ["404"],
    },
    "jobs.thumbnail": {
        "summary": "A preview of the newest output: JPEG, or MP4 with video_ok",
        "parameters": [
            query("size", "big for the larger preview"),
            query("video_ok", "true to accept a video preview"),
        ],
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "image/jpeg": {"schema": BINARY},
                    "video/mp4": {"schema": BINARY},
                },
            }
        },
        "errors": ["404", "500"],
    },
    "jobs.add_job": {
        "summary": "Add one job (an object) or several (a list)",
        "body": {
            "required": True,
            "content": {
                JSON: {
                    "schema": {"oneOf": [NEW_JOB, {"type": "array", "items": NEW_JOB}]}
                },
                "multipart/form-data": {
                    "schema": obj("json", json=STRING, file=BINARY)
                },
            },
        },
        "responses": ok({"oneOf": [JOB_REF, JOBS]}),
        "errors": ["413", "503"],
    },
    "jobs.cancel": {
        "summary": "Stop a job and its engine processes",
        "parameters": [CONFIRM, query("redirect", "true to be sent to the page")],
        "responses": {
            **ok(JOB_REF),
            "302": {"description": "to the web page, with redirect=true"},
        },
    },
    "jobs.delete": {
        "summary": "Cancel a job, forget it, and remove its folder",
        "parameters": [CONFIRM],
        "responses": ok(obj("deleted", deleted=STRING)),
    },
    "jobs.subjob_update": {
        "summary": "A child job tells its parent that it changed",
        "body": {"required": True, "content": {JSON: {"schema": ANY_OBJECT}}},
        "responses": ok(obj("wanted", wanted=BOOLEAN)),
    },
    "engines.engines": {
        "summary": "The engines installed here",
        "parameters": [query("response_type", "standard or full")],
        "responses": ok({"type": "object", "additionalProperties": ENGINE}),
    },
    "engines.engine_names": {
        "summary": "The names of the engines installed here",
        "responses": ok(STRINGS),
    },
    "engines.engine_for_filename": {
        "summary": "The engine that renders a file of this name",
        "parameters": [query("filename", "a file name", True)],
        "responses": ok(STRING, TEXT),
    },
    "engines.engine": {
        "summary": "One engine",
        "parameters": [query("response_type", "standard or full")],
        "responses": ok(ENGINE),
    },
    "engines.availability": {
        "summary": "Whether this server can take a share of a split job, and how fast",
        "responses": ok(AVAILABILITY),
    },
    "engines.engine_args": {
        "summary": "The arguments a job may pass to the engine",
        "responses": ok(TEXT_MAP),
    },
    "engines.engine_help": {
        "summary": "The engine's own help text",
        "responses": ok(STRING, TEXT),
        "errors": ["503"],
    },
    "cache.missing": {
        "summary": "Which of these input files (by SHA-256) this server lacks",
        "body": {
            "required": True,
            "content": {JSON: {"schema": obj("sha256", sha256=STRINGS)}},
        },
        "responses": ok(obj("missing", missing=STRINGS)),
    },
    "cache.upload": {
        "summary": "Store one input file under its SHA-256",
        "body": {
            "required": True,
            "content": {"application/octet-stream": {"schema": BINARY}},
        },
        "responses": ok(
            obj("sha256 stored", sha256=STRING, stored=BOOLEAN, size=INTEGER)
        ),
        "errors": ["413"],
    },
    "jobs.render_again": {
        "summary": "Queue a new job with the same input, frames and arguments",
        "responses": ok(JOB_REF),
    },
    "status.full_status": {
        "summary": "This server and every peer it knows, asked side by side",
        "responses": ok(
            obj(
                "timestamp servers",
                timestamp=NUMBER,
                timeout_s=NUMBER,
                elapsed_s=NUMBER,
                servers={"type": "array", "items": SERVER},
            )
        ),
    },
    "presets.presets": {
        "summary": "Named sets of engine arguments a job can start from",
        "responses": ok({"type": "object", "additionalProperties": ANY_OBJECT}),
    },
    "benchmark.cpu_benchmark": {
        "summary": "Measure this machine's CPU (about 10 s); the score as text",
        "responses": ok(STRING, TEXT),
        "errors": ["503"],
    },
    "benchmark.disk_benchmark": {
        "summary": "Write and read speeds of the data folder, in MB/s",
        "responses": ok(
            obj("write_mb_s read_mb_s", write_mb_s=NUMBER, read_mb_s=NUMBER)
        ),
        "errors": ["503"],
    },
    "debug.detected_clients": {
        "summary": "The peers this server knows and whether they answer (--debug)",
        "responses": ok({"type": "array", "items": PEER}),
    },
    "debug.clear_history": {
        "summary": "Forget every finished job (--debug)",
        "responses": ok(obj("success removed", success=BOOLEAN, removed=INTEGER)),
    },
    "engines.download_available": {
        "summary": "Whether the release index offers this version for a platform",
        "parameters": ENGINE_VERSION,
        "responses": ok(
            obj("engine version available", available=BOOLEAN, **RELEASE["properties"])
        ),
        "errors": ["503"],
    },
    "engines.most_recent_version": {
        "summary": "The newest version the release index offers for a platform",
        "parameters": [ENGINE_VERSION[0], *ENGINE_VERSION[2:]],
        "responses": ok(RELEASE),
        "errors": ["404", "503"],
    },
    "engines.download": {
        "summary": "Install a version in the background: 202, then see /engines",
        "parameters": ENGINE_VERSION,
        "responses": {
            **ok(obj("status", status=STRING)),
            **ok(DOWNLOAD, code="202"),
        },
        "errors": ["404", "503"],
    },
    "engines.delete": {
        "summary": "Remove a version Zordon downloaded (never a system install)",
        "body": {
            "required": True,
            "content": {
                JSON: {
                    "schema": obj(
                        "engine version",
                        engine=STRING,
                        version=STRING,
                        system_os=STRING,
                        cpu=STRING,
                    )
                }
            },
        },
        "responses": ok(
            obj("status engine version", status=STRING, engine=STRING, version=STRING)
        ),
        "errors": ["404"],
    },
    "engines.farm_engines": {
        "summary": "The engines of each peer this server knows",
        "responses": ok(obj("servers", servers={"type": "array", "items": ANY_OBJECT})),
    },
    "engines.inspect": {
        "summary": "What the server reads in a file uploaded to /api/cache",
        "parameters": [
            query("sha256", "the file's digest", True),
            query("filename", "the file's name"),
            query("engine", "the engine to read it with"),
        ],
        "responses": ok(obj("engine", engine=STRING)),
        "errors": ["404"],
    },
    "cache.upload_new": {
        "summary": "Store one input file; the answer names its SHA-256",
        "body": {
            "required": True,
            "content": {"application/octet-stream": {"schema": BINARY}},
        },
        "responses": ok(obj("sha256 stored", sha256=STRING, stored=BOOLEAN)),
        "errors": ["413"],
    },
    "openapi.document": {
        "summary": "This document",
        "responses": ok(ANY_OBJECT),
    },
}
