"""docs/API.md stays true to the code: its endpoints and error codes against the OpenAPI
document the app serves, against the error codes the source can answer with, and against the
errors the nginx in front of the API answers itself (docker/nginx/default.conf.template)."""

import ast
import http
import json
import re
from pathlib import Path

import pytest

from ironmind_api.errors import DEFAULT_CODES, ApiError

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "API.md"
PROXY_TEMPLATE = ROOT / "docker" / "nginx" / "default.conf.template"
PROXY_ANSWER = re.compile(r"return (?P<status>\d{3}) '(?P<body>\{.*\})\\n';")
SOURCE = ROOT / "ironmind_api"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ENDPOINT_ROW = re.compile(
    r"^\| `(?P<method>[A-Z]+) (?P<path>/[^`]*)` \| (?P<auth>access|—) \| (?P<status>\d{3})\b"
)
ERROR_ROW = re.compile(r"^\| (?P<status>\d{3}) \| (?P<codes>[^|]+) \|")
MENTIONED_ENDPOINT = re.compile(rf"`(?P<method>{'|'.join(METHODS)}) (?P<path>/[^`\s?]*)")
MENTIONED_ERROR = re.compile(r"`(?P<status>[45]\d\d) (?P<code>[a-z_]+)`")
PHRASES = {status.phrase: status.value for status in http.HTTPStatus}


def section(title):
    """The lines of one `## title` section of docs/API.md (up to the next `## `)."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"## {title}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), None)
    return lines[start + 1 : end]


def documented_endpoints():
    rows = {}
    for line in section("Endpoints"):
        match = ENDPOINT_ROW.match(line)
        if match:
            key = (match["method"].lower(), match["path"])
            assert key not in rows, f"{key} is listed twice in docs/API.md"
            rows[key] = {"auth": match["auth"] == "access", "status": match["status"]}
    return rows


def documented_errors():
    pairs = set()
    for line in section("Errors"):
        match = ERROR_ROW.match(line)
        if match:
            codes = re.findall(r"`([a-z_]+)`", match["codes"])
            assert codes, line
            pairs |= {(int(match["status"]), code) for code in codes}
    return pairs


@pytest.fixture(scope="module")
def spec(app):
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def openapi_operations(spec):
    return {
        (method, path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method.upper() in METHODS
    }


def openapi_errors(spec):
    """(status, code) for every error response component: its status from its description."""
    pairs = set()
    for name, response in spec["components"]["responses"].items():
        status = PHRASES[response["description"].split(":")[0]]
        schema = response["content"]["application/json"]["schema"]
        parts = [part for part in schema["allOf"] if "properties" in part]
        codes = [part["properties"]["error"]["enum"] for part in parts]
        assert codes, name
        pairs |= {(status, code) for code in codes[0]}
    return pairs


def proxy_errors():
    """(status, code) of every answer nginx makes itself; each body must be the error shape."""
    pairs = set()
    for match in PROXY_ANSWER.finditer(PROXY_TEMPLATE.read_text(encoding="utf-8")):
        body = json.loads(match["body"].replace("$ironmind_request_id", "3f2a"))
        assert set(body) == {"error", "message", "request_id"}, match[0]
        pairs.add((int(match["status"]), body["error"]))
    return pairs


def source_errors():
    """(status, code) of every ApiError subclass, and of every ApiError(...) /
    error_response(...) written with literals."""
    pairs = {(cls.status, cls.error) for cls in api_error_classes()}
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name not in ("ApiError", "error_response") or len(node.args) < 2:
                continue
            status, code = node.args[:2]
            if isinstance(status, ast.Constant) and isinstance(code, ast.Constant):
                pairs.add((status.value, code.value))
    return pairs


def api_error_classes():
    # Every module that defines one is imported by the app; walk the subclass tree.
    import ironmind_api  # noqa: F401

    found, pending = [], list(ApiError.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_the_doc_parses_into_every_section():
    # Guards the parsing below: a reformatted table must not make the other tests vacuous.
    assert len(documented_endpoints()) >= 15
    assert len(documented_errors()) >= 15
    assert ("post", "/api/auth/signup") in documented_endpoints()
    assert (401, "token_revoked") in documented_errors()


def test_every_documented_endpoint_is_served_and_every_served_one_is_documented(spec):
    documented = set(documented_endpoints())
    served = set(openapi_operations(spec))
    assert documented - served == set(), "in docs/API.md but not in /api/openapi.json"
    assert served - documented == set(), "in /api/openapi.json but not in docs/API.md"


def test_every_endpoint_mentioned_anywhere_in_the_doc_exists(spec):
    served = set(openapi_operations(spec))
    text = DOC.read_text(encoding="utf-8")
    mentioned = {(m["method"].lower(), m["path"]) for m in MENTIONED_ENDPOINT.finditer(text)}
    assert mentioned, "the doc mentions no endpoint"
    assert mentioned - served == set()


def test_auth_and_success_status_of_each_endpoint_match_the_openapi_document(spec):
    operations = openapi_operations(spec)
    for key, row in documented_endpoints().items():
        operation = operations[key]
        assert bool(operation.get("security")) == row["auth"], key
        successes = sorted(s for s in operation["responses"] if s.startswith("2"))
        assert successes == [row["status"]], key


def test_error_codes_match_the_openapi_document_both_ways(spec):
    documented, published = documented_errors(), openapi_errors(spec)
    # The OpenAPI document describes the app; the proxy's own codes are documented beside it.
    proxy_only = proxy_errors() - published
    assert documented - published == proxy_only, (
        "in docs/API.md but neither in /api/openapi.json nor answered by the proxy"
    )
    assert published - documented == set(), "in /api/openapi.json but not in docs/API.md"


def test_every_error_the_proxy_answers_itself_is_documented():
    answered = proxy_errors()
    # The template's answers parsed: 400, 404, 408, 413, 414, 431, 500, 502, 504.
    assert {(413, "payload_too_large"), (502, "bad_gateway")} <= answered and len(answered) == 9
    assert answered - documented_errors() == set()


def test_every_error_code_the_code_answers_with_is_documented():
    from_source = source_errors()
    # The scan must find the handlers; a refactor that hides them fails here, not silently.
    assert {(409, "email_taken"), (401, "missing_token"), (429, "rate_limited")} <= from_source
    defaults = {(status, code) for status, (code, _message) in DEFAULT_CODES.items()}
    assert (from_source | defaults) - documented_errors() == set()


def test_every_status_and_code_mentioned_in_prose_is_in_the_error_table():
    text = DOC.read_text(encoding="utf-8")
    mentioned = {(int(m["status"]), m["code"]) for m in MENTIONED_ERROR.finditer(text)}
    assert (401, "invalid_credentials") in mentioned
    assert mentioned - documented_errors() == set()


def test_readme_links_the_contract_in_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/API.md)" in readme
    assert "shared/API.md" not in readme
