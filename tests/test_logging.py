"""One JSON access line per request, with who did it; never a secret."""

import pytest

from tests.conftest import bearer, mint

PASSWORD = "correct horse battery"


def access_lines(lines):
    return [line for line in lines if line.get("message") == "request"]


def test_each_request_logs_one_json_access_line(client, db, log_lines):
    response = client.get("/health", headers={"X-Request-ID": "req-1"})

    (line,) = access_lines(log_lines())
    assert line["request_id"] == "req-1" == response.headers["X-Request-ID"]
    assert line["user_id"] is None
    assert line["method"] == "GET"
    assert line["path"] == "/health"
    assert line["status"] == 200
    assert line["level"] == "INFO"
    assert isinstance(line["duration_ms"], float)
    assert line["remote_addr"] == "127.0.0.1"
    assert line["timestamp"]
    assert line["error"] is None


def test_the_access_line_names_the_user(client, db, log_lines):
    client.get("/api/protected", headers=bearer(mint("user-77")))

    (line,) = access_lines(log_lines())
    assert line["user_id"] == "user-77"
    assert line["status"] == 200


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "error"),
    [
        ("GET", "/api/protected", {}, None, 401, "missing_token"),
        ("GET", "/api/protected", bearer(mint(secret="x" * 32)), None, 401, "invalid_token"),
        ("GET", "/api/protected", bearer(mint(exp=1)), None, 401, "token_expired"),
        ("GET", "/api/nowhere", {}, None, 404, "not_found"),
        ("DELETE", "/health", {}, None, 405, "method_not_allowed"),
        ("POST", "/api/auth/signup", {}, {"email": "not-an-email"}, 422, "validation_error"),
        ("POST", "/api/auth/signin", {}, {"email": "a@b.c", "password": "wrong pass"}, 401,
         "invalid_credentials"),
    ],
)
def test_the_access_line_says_why_a_request_was_refused(
    client, db, log_lines, method, path, headers, body, status, error
):
    response = client.open(path, method=method, headers=headers, json=body)

    (line,) = access_lines(log_lines())
    assert (line["status"], line["error"]) == (status, error) == (
        response.status_code, response.get_json()["error"]
    )


def test_the_access_line_of_a_crash_says_internal_error(make_app, db, log_lines):
    app = make_app()

    @app.get("/crash")
    def crash():
        raise RuntimeError("boom")

    app.test_client().get("/crash", headers={"X-Request-ID": "crash-1"})

    (line,) = [line for line in access_lines(log_lines()) if line["request_id"] == "crash-1"]
    assert (line["status"], line["error"]) == (500, "internal_error")


def test_other_lines_written_during_a_request_carry_its_ids(make_app, db, log_lines):
    app = make_app()

    @app.get("/noisy")
    def noisy():
        app.logger.warning("something happened")
        return {}

    app.test_client().get("/noisy", headers={"X-Request-ID": "noisy-1"})

    lines = [line for line in log_lines() if line.get("request_id") == "noisy-1"]
    assert {line["message"] for line in lines} == {"something happened", "request"}


def test_no_log_line_holds_a_token_or_a_password(client, db, log_lines):
    client.post("/api/auth/signup", json={"email": "ada@example.com", "password": PASSWORD})
    pair = client.post(
        "/api/auth/signin", json={"email": "ada@example.com", "password": PASSWORD}
    ).get_json()
    client.get("/api/tasks", headers=bearer(pair["token"]))
    client.post("/api/auth/signin", json={"email": "ada@example.com", "password": "wrong pass"})
    client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    text = "\n".join(map(str, log_lines()))
    assert len(access_lines(log_lines())) == 5
    for secret in (PASSWORD, "wrong pass", pair["token"], pair["refresh_token"], "$argon2"):
        assert secret not in text
