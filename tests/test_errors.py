"""Every failure speaks JSON in the one error shape, and every response has X-Request-ID."""

import pytest

from tests.conftest import bearer, mint


@pytest.mark.parametrize(
    "method, path, kwargs, status, error",
    [
        ("GET", "/no/such/path", {}, 404, "not_found"),
        ("DELETE", "/health", {}, 405, "method_not_allowed"),
        (
            "POST",
            "/api/auth/signup",
            {"data": "email=a", "content_type": "text/plain"},
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/api/auth/signup",
            {"data": "<xml/>", "content_type": "application/xml"},
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/api/auth/signup",
            {"data": "{bad json", "content_type": "application/json"},
            400,
            "bad_request",
        ),
    ],
)
def test_errors_have_the_contract_shape(client, method, path, kwargs, status, error):
    response = client.open(path, method=method, **kwargs)

    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == error
    assert body["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "fields" not in body


def test_405_names_the_allowed_methods(client):
    response = client.delete("/health")

    assert "GET" in response.headers["Allow"]


def test_a_body_over_the_limit_is_413(make_app, db):
    app = make_app(MAX_CONTENT_LENGTH=1024)

    response = app.test_client().post(
        "/api/tasks", json={"title": "x" * 2000}, headers=bearer(mint())
    )

    assert response.status_code == 413
    assert response.get_json()["error"] == "payload_too_large"


def test_an_unexpected_error_is_a_bare_500(make_app, db, log_lines):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail: SELECT * FROM users")

    response = app.test_client().get("/boom")

    assert response.status_code == 500
    body = response.get_json()
    assert body["error"] == "internal_error"
    assert "SELECT" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_valid_request_id_is_echoed(client):
    response = client.get("/health", headers={"X-Request-ID": "abc.DEF_123-xyz"})

    assert response.headers["X-Request-ID"] == "abc.DEF_123-xyz"


@pytest.mark.parametrize("supplied", ["", "x" * 129, "has space", "semi;colon", "ünï"])
def test_an_invalid_request_id_is_replaced(client, supplied):
    response = client.get("/health", headers={"X-Request-ID": supplied})

    generated = response.headers["X-Request-ID"]
    assert generated != supplied
    assert 1 <= len(generated) <= 128


def test_request_ids_are_unique_per_request(client):
    ids = {client.get("/health").headers["X-Request-ID"] for _ in range(5)}

    assert len(ids) == 5


def test_a_bodyless_post_without_content_type_is_not_415(client, auth_headers):
    response = client.post("/api/auth/signout", headers=auth_headers)

    assert response.status_code == 200
