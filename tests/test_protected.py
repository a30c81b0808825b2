"""The shared guard, as every protected route sees it."""

import time

import pytest

from tests.conftest import SECRET, bearer, mint

PROTECTED_ROUTES = [
    ("GET", "/api/protected"),
    ("GET", "/api/auth/me"),
    ("POST", "/api/auth/signout"),
    ("GET", "/api/tasks"),
    ("POST", "/api/tasks"),
    ("GET", "/api/tasks/some-id"),
    ("PUT", "/api/tasks/some-id"),
    ("PATCH", "/api/tasks/some-id"),
    ("DELETE", "/api/tasks/some-id"),
]

NOW = int(time.time())
OTHER_SECRET = "another-secret-of-at-least-32-characters"
BAD_CREDENTIALS = [
    ("no header", {}, "missing_token"),
    ("not bearer", {"Authorization": "Basic YWRhOnNlY3JldA=="}, "missing_token"),
    ("empty bearer", {"Authorization": "Bearer "}, "invalid_token"),
    ("garbage", {"Authorization": "Bearer garbage"}, "invalid_token"),
    ("wrong secret", bearer(mint(secret=OTHER_SECRET)), "invalid_token"),
    ("expired", bearer(mint(iat=NOW - 3600, exp=NOW - 60)), "token_expired"),
    ("no sub", bearer(mint(sub=None)), "invalid_token"),
    ("empty sub", bearer(mint(sub="")), "invalid_token"),
    ("no exp", bearer(mint(exp=None)), "invalid_token"),
    ("too large", bearer(mint(padding="x" * 9000)), "invalid_token"),
]


def test_protected_names_the_token_subject(client, user, auth_headers):
    response = client.get("/api/protected", headers=auth_headers)

    assert response.status_code == 200
    assert response.get_json()["user_id"] == user["id"]
    assert response.get_json()["message"]


def test_a_token_minted_by_the_frontend_is_accepted(client, db):
    # Exactly what the Next.js token-exchange route signs: sub, iat and exp, nothing else.
    response = client.get("/api/protected", headers=bearer(mint("better-auth-user-1")))

    assert response.status_code == 200
    assert response.get_json()["user_id"] == "better-auth-user-1"


@pytest.mark.parametrize("method, path", PROTECTED_ROUTES)
@pytest.mark.parametrize(
    "headers, error", [case[1:] for case in BAD_CREDENTIALS], ids=[c[0] for c in BAD_CREDENTIALS]
)
def test_every_protected_route_refuses_bad_credentials(client, db, method, path, headers, error):
    response = client.open(path, method=method, headers=headers, json={"title": "x"})

    assert response.status_code == 401
    assert response.get_json()["error"] == error
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["request_id"] == response.headers["X-Request-ID"]


def test_the_secret_is_the_configured_one(client, db):
    assert client.get("/api/protected", headers=bearer(mint(secret=SECRET))).status_code == 200
