"""The frontend's token-exchange tokens, minted by the real `jose` SignJWT, against the API."""

import pytest

from tests.conftest import bearer

from .conftest import mint_exchange

pytestmark = pytest.mark.interop


def test_exchange_token_is_accepted_with_its_subject(client):
    response = client.get("/api/protected", headers=bearer(mint_exchange("ba-user-1")))

    assert response.status_code == 200
    assert response.get_json()["user_id"] == "ba-user-1"


def test_exchange_tokens_keep_each_users_tasks_apart(client):
    ada, bob = bearer(mint_exchange("ba-ada")), bearer(mint_exchange("ba-bob"))

    created = client.post("/api/tasks", json={"title": "Ada's task"}, headers=ada)
    client.post("/api/tasks", json={"title": "Bob's task"}, headers=bob)

    assert created.status_code == 201
    assert created.get_json()["userId"] == "ba-ada"
    assert [t["title"] for t in client.get("/api/tasks", headers=ada).get_json()] == ["Ada's task"]
    assert [t["title"] for t in client.get("/api/tasks", headers=bob).get_json()] == ["Bob's task"]


def test_me_provisions_an_exchange_subject_without_claims(client):
    response = client.get("/api/auth/me", headers=bearer(mint_exchange("ba-new")))

    assert response.status_code == 200
    assert response.get_json()["user"] | {"createdAt": None} == {
        "id": "ba-new", "email": None, "name": None, "createdAt": None,
    }


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (["--exp", "-60"], "token_expired"),
        (["--no-exp"], "invalid_token"),
        (["--iat", "3600", "--exp", "4500"], "invalid_token"),
    ],
    ids=["expired", "no-exp", "issued-in-the-future"],
)
def test_unacceptable_exchange_token_is_rejected(client, flags, error):
    response = client.get("/api/protected", headers=bearer(mint_exchange("ba-user-1", *flags)))

    assert response.status_code == 401
    assert response.get_json()["error"] == error
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_exchange_token_signed_with_another_secret_is_rejected(client):
    token = mint_exchange("ba-user-1", secret="another-secret-of-at-least-32-characters!")

    response = client.get("/api/protected", headers=bearer(token))

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_tampered_exchange_token_is_rejected(client):
    header, payload, signature = mint_exchange("ba-user-1").split(".")
    other_payload = mint_exchange("ba-admin").split(".")[1]

    response = client.get(
        "/api/protected", headers=bearer(f"{header}.{other_payload}.{signature}")
    )

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_exchange_token_still_works_when_better_auth_tokens_are_enabled(api, better_auth):
    client = api(better_auth)

    response = client.get("/api/protected", headers=bearer(mint_exchange("ba-user-1")))

    assert response.status_code == 200
    assert response.get_json()["user_id"] == "ba-user-1"
