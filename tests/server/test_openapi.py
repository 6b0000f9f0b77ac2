"""The OpenAPI document covers every /api route, and is valid OpenAPI 3.1."""

from zordon.server import openapi


def test_every_api_route_is_documented(app):
    """A route added later without a declaration in api_schema fails here."""
    assert openapi.undocumented(app) == []


def test_the_document_is_served_at_api_openapi_json(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


def test_every_route_and_method_is_an_operation(app, client):
    paths = client.get("/api/openapi.json").get_json()["paths"]

    for rule in openapi.api_rules(app):
        item = paths[openapi.openapi_path(rule.rule)]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert "200" in item[method.lower()]["responses"], (method, rule.rule)


def test_path_arguments_become_path_parameters(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]

    parameters = paths["/api/jobs/{job_id}"]["get"]["parameters"]

    assert [(p["name"], p["in"]) for p in parameters] == [("job_id", "path")]


def test_only_the_heartbeat_is_open_without_the_token(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]

    open_ops = [
        path
        for path, item in paths.items()
        for op in item.values()
        if op.get("security") == []
    ]

    assert open_ops == ["/api/heartbeat"]


def test_the_document_is_valid_openapi(client):
    from schemathesis import openapi as loader

    schema = loader.from_dict(client.get("/api/openapi.json").get_json())

    assert len(list(schema.get_all_operations())) >= 25
