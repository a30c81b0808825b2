"""The bad-input table: every rejected request gets the contract's 4xx and error shape,
and leaves the database exactly as it was."""

import json

import pytest
from sqlalchemy import func, select

from ironmind_api.auth.models import User
from ironmind_api.tasks.models import Task

JSON = {"Content-Type": "application/json"}
LONG = "x" * 10_000


def row_counts(db):
    return (db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(Task.id))))


def assert_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["request_id"]
    assert ("fields" in body) == (status == 422)
    return body


@pytest.fixture
def task(client, auth_headers):
    response = client.post("/api/tasks", json={"title": "Existing"}, headers=auth_headers)
    return response.get_json()


RAW_BODIES = [
    ("malformed JSON", b'{"title": "a",', 400, "bad_request"),
    ("invalid UTF-8", b'{"title": "\xff"}', 400, "bad_request"),
    ("duplicate keys", b'{"title": "a", "title": "b"}', 400, "bad_request"),
    ("nested duplicate keys", b'{"title": "a", "x": {"k": 1, "k": 2}}', 400, "bad_request"),
    ("deeply nested JSON", b"[" * 100_000 + b"]" * 100_000, 400, "bad_request"),
    ("JSON array", b'[{"title": "a"}]', 422, "validation_error"),
    ("JSON string", b'"title"', 422, "validation_error"),
    ("JSON number", b"42", 422, "validation_error"),
    ("JSON null", b"null", 422, "validation_error"),
    ("empty body", b"", 400, "bad_request"),
]
WRITES = [
    ("post", "/api/tasks"),
    ("put", "/api/tasks/{id}"),
    ("patch", "/api/tasks/{id}"),
]


@pytest.mark.parametrize("method,path", WRITES)
@pytest.mark.parametrize("case,body,status,code", RAW_BODIES, ids=[c[0] for c in RAW_BODIES])
def test_unusable_bodies_are_rejected(client, db, auth_headers, task, method, path,
                                      case, body, status, code):
    before = row_counts(db)
    response = client.open(path.format(id=task["id"]), method=method.upper(), data=body,
                           headers={**auth_headers, **JSON})
    assert_error(response, status, code)
    assert row_counts(db) == before
    assert client.get(f"/api/tasks/{task['id']}", headers=auth_headers).get_json() == task


def test_duplicate_key_message_names_the_key(client, auth_headers):
    response = client.post("/api/tasks", data=b'{"title": "a", "title": "b"}',
                           headers={**auth_headers, **JSON})
    assert "'title'" in assert_error(response, 400, "bad_request")["message"]


def test_signup_with_duplicate_keys_creates_no_account(client, db):
    body = b'{"email": "a@example.com", "password": "long enough 1", "email": "b@example.com"}'
    assert_error(client.post("/api/auth/signup", data=body, headers=JSON), 400, "bad_request")
    assert row_counts(db) == (0, 0)


FIELD_CASES = [
    ({"title": 5}, "title"),
    ({"title": ["a"]}, "title"),
    ({"title": {"a": 1}}, "title"),
    ({"title": True}, "title"),
    ({"title": None}, "title"),
    ({"title": ""}, "title"),
    ({"title": "   \t\n "}, "title"),
    ({"title": LONG}, "title"),
    ({"title": "a" * 201}, "title"),
    ({"title": "nul\x00byte"}, "title"),
    ({"title": "ok", "description": 7}, "description"),
    ({"title": "ok", "description": "d" * 2001}, "description"),
    ({"title": "ok", "description": "nul\x00"}, "description"),
    ({"title": "ok", "completed": None}, "completed"),
    ({"title": "ok", "completed": "true"}, "completed"),
    ({"title": "ok", "completed": 0}, "completed"),
    ({"title": "ok", "completed": 1}, "completed"),
    ({"title": "ok", "completed": 1.0}, "completed"),
    ({"title": "ok", "owner": "someone"}, "owner"),
]


@pytest.mark.parametrize("method,path", WRITES)
@pytest.mark.parametrize("body,field", FIELD_CASES, ids=[repr(c[0])[:40] for c in FIELD_CASES])
def test_invalid_fields_are_422_naming_the_field(client, db, auth_headers, task, method, path,
                                                 body, field):
    before = row_counts(db)
    response = client.open(path.format(id=task["id"]), method=method.upper(), json=body,
                           headers=auth_headers)
    assert field in assert_error(response, 422, "validation_error")["fields"]
    assert row_counts(db) == before
    assert client.get(f"/api/tasks/{task['id']}", headers=auth_headers).get_json() == task


@pytest.mark.parametrize("field", ["email", "password", "name"])
def test_signup_null_fields_are_422(client, db, field):
    body = {"email": "a@example.com", "password": "long enough 1", "name": "A", field: None}
    response = client.post("/api/auth/signup", json=body)
    if field == "name":  # the contract makes name optional and nullable
        assert response.status_code == 201
        return
    assert field in assert_error(response, 422, "validation_error")["fields"]
    assert row_counts(db) == (0, 0)


VERBATIM_TITLES = [
    "Ünïcödé ✓ 漢字 עברית",
    "emoji 🏋️‍♀️👩🏽‍💻🇫🇷",
    "'; DROP TABLE tasks; --",
    "Robert'); DELETE FROM users WHERE ('1'='1",
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)> &amp; &lt;",
    "a" * 200,
]


@pytest.mark.parametrize("title", VERBATIM_TITLES)
def test_titles_round_trip_exactly(client, db, auth_headers, title):
    created = client.post("/api/tasks", json={"title": title, "description": title},
                          headers=auth_headers)
    assert created.status_code == 201
    assert created.get_json()["title"] == title
    fetched = client.get(f"/api/tasks/{created.get_json()['id']}", headers=auth_headers)
    assert fetched.get_json()["title"] == title and fetched.get_json()["description"] == title
    assert db.session.scalar(select(Task.title)) == title
    assert row_counts(db)[1] == 1


@pytest.mark.parametrize("query", [
    "limit=0", "limit=-1", "limit=101", "limit=99999999999999999999", "limit=abc",
    "limit=1.5", "limit=", "completed=maybe", "cursor=", "cursor=not-a-cursor",
    "cursor=" + "x" * 513,
])
def test_bad_list_parameters_are_400(client, auth_headers, task, query):
    response = client.get(f"/api/tasks?{query}", headers=auth_headers)
    assert_error(response, 400, "bad_request")


def test_tampered_cursor_is_400(client, auth_headers):
    for title in ("one", "two", "three"):
        client.post("/api/tasks", json={"title": title}, headers=auth_headers)
    page = client.get("/api/tasks?limit=1", headers=auth_headers)
    cursor = page.headers["Link"].split("cursor=")[1].split(">")[0].split("&")[0]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    response = client.get(f"/api/tasks?limit=1&cursor={tampered}", headers=auth_headers)
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("task_id", [
    "00000000-0000-0000-0000-000000000000", "not-a-uuid", "1", "%00", "x" * 300,
    "' OR '1'='1", "%F0%9F%8F%8B",
])
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_missing_and_malformed_task_ids_are_404(client, db, auth_headers, task, task_id,
                                                method):
    before = row_counts(db)
    body = {"title": "new"} if method in ("put", "patch") else None
    response = client.open(f"/api/tasks/{task_id}", method=method.upper(), json=body,
                           headers=auth_headers)
    assert_error(response, 404, "not_found")
    assert row_counts(db) == before


def test_body_over_max_content_length_is_413(make_app, db):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    client = app.test_client()
    body = json.dumps({"email": "a@example.com", "password": "p" * 2000}).encode()
    response = client.post("/api/auth/signup", data=body, headers=JSON)
    assert_error(response, 413, "payload_too_large")
    assert row_counts(db) == (0, 0)


def test_body_that_is_not_json_is_415(client, db, auth_headers):
    response = client.post("/api/tasks", data="title=a", headers={
        **auth_headers, "Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 415, "unsupported_media_type")
    assert row_counts(db)[1] == 0


def test_signout_without_a_body_is_accepted(client, auth_headers):
    assert client.post("/api/auth/signout", headers=auth_headers).status_code == 200
