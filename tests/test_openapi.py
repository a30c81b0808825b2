"""The OpenAPI document: valid, complete, and matching the routes the app serves."""

import re

import pytest
from openapi_spec_validator import validate

AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def spec(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def test_document_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_every_served_route_is_documented_and_nothing_else(app, spec):
    served = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods - AUTOMATIC_METHODS
    }
    documented = {(path, method) for path, method, _ in operations(spec)}
    assert served == documented


def test_every_operation_has_a_summary_and_documents_500(spec):
    for path, method, operation in operations(spec):
        assert operation.get("summary"), (method, path)
        assert "500" in operation["responses"], (method, path)


def test_protected_operations_need_the_bearer_token_and_answer_401(spec):
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    protected = {(p, m) for p, m, op in operations(spec) if op.get("security")}
    assert ("/api/tasks", "get") in protected and ("/api/auth/me", "get") in protected
    assert ("/api/auth/signin", "post") not in protected
    for path, method in protected:
        assert spec["paths"][path][method]["security"] == [{"bearerAuth": []}]
        assert "401" in spec["paths"][path][method]["responses"]


def test_body_operations_document_request_schema_and_body_errors(spec):
    for path, method, operation in operations(spec):
        if "requestBody" in operation:
            assert "$ref" in operation["requestBody"]["content"]["application/json"]["schema"]
            assert {"400", "413", "415", "422"} <= set(operation["responses"]), (method, path)


def test_error_responses_use_the_error_shape_with_fields_only_on_422(spec):
    responses = spec["components"]["responses"]
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "message", "request_id"}
    assert responses["ValidationFailed"]["content"]["application/json"]["schema"]["allOf"][1][
        "required"
    ] == ["fields"]
    not_found = responses["NotFound"]["content"]["application/json"]["schema"]["allOf"][1]
    assert not_found["not"] == {"required": ["fields"]}
    assert "WWW-Authenticate" in responses["Unauthorized"]["headers"]
    assert "X-Request-ID" in responses["NotFound"]["headers"]


def test_task_list_documents_paging_parameters_and_link_header(spec):
    listing = spec["paths"]["/api/tasks"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"completed", "limit", "cursor"}
    assert set(listing["responses"]["200"]["headers"]) == {"Link", "X-Request-ID"}
    created = spec["paths"]["/api/tasks"]["post"]["responses"]["201"]
    assert created["headers"]["Location"]["required"] is True


def test_task_variants_have_their_own_names(spec):
    schemas = spec["components"]["schemas"]
    assert "Task" in schemas and "TaskPatch" in schemas
    assert "required" not in schemas["TaskPatch"]
    assert not [name for name in schemas if re.search(r"\d$", name)]


def test_docs_page_and_assets_are_served_by_the_api(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/api/openapi.json" in html and "http" not in html.split("<body>")[1].split("url:")[0]
    scripts = re.findall(r'src="([^"]+)"', html) + re.findall(r'href="([^"]+)"', html)
    assert scripts and all(src.startswith("/api/docs/assets/") for src in scripts)
    for src in scripts:
        asset = client.get(src)
        assert asset.status_code == 200 and len(asset.data) > 10_000, src
        asset.close()


def test_missing_docs_asset_is_a_json_404(client):
    response = client.get("/api/docs/assets/../config.py")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
