"""Signup, signin, refresh, signout and me, as the contract describes them."""

import jwt as pyjwt
import pytest
from sqlalchemy import select

from ironmind_api.auth.models import User, better_auth_user_id
from tests.conftest import SECRET, bearer, mint

PASSWORD = "correct horse battery"


def test_signup_creates_a_user_with_a_lower_cased_email(client, db):
    response = client.post(
        "/api/auth/signup", json={"email": " Ada@Example.COM ", "password": PASSWORD, "name": "Ada"}
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["success"] is True and body["message"]
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["name"] == "Ada"
    assert set(body["user"]) == {"id", "email", "name", "createdAt"}
    assert body["user"]["createdAt"].endswith(("Z", "+00:00"))
    stored = db.session.scalar(select(User).where(User.email == "ada@example.com"))
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in response.get_data(as_text=True)


def test_signup_without_a_name_leaves_it_null(client, db):
    body = {"email": "x@example.com", "password": PASSWORD}

    response = client.post("/api/auth/signup", json=body)

    assert response.status_code == 201
    assert response.get_json()["user"]["name"] is None


def test_signup_with_a_taken_email_is_409_whatever_its_case(client, user):
    response = client.post(
        "/api/auth/signup", json={"email": "ADA@example.com", "password": PASSWORD}
    )

    assert response.status_code == 409
    assert response.get_json()["error"] == "email_taken"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "ada@example.com"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "ada@example.com", "password": "short"}, "password"),
        ({"email": "ada@example.com", "password": "x" * 129}, "password"),
        ({"email": "ada@example.com", "password": 12345678}, "password"),
        ({"email": "ada@example.com", "password": PASSWORD, "name": "n" * 201}, "name"),
        ({"email": "ada@example.com", "password": PASSWORD, "role": "admin"}, "role"),
    ],
)
def test_signup_rejects_bad_input_with_field_errors(client, db, body, field):
    response = client.post("/api/auth/signup", json=body)

    assert response.status_code == 422
    assert response.get_json()["error"] == "validation_error"
    assert field in response.get_json()["fields"]
    assert db.session.scalar(select(User.id)) is None


def test_signin_returns_a_token_pair(client, user):
    response = client.post(
        "/api/auth/signin", json={"email": "ADA@example.com", "password": PASSWORD}
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["user"] == user
    access = pyjwt.decode(body["token"], SECRET, algorithms=["HS256"])
    refresh = pyjwt.decode(body["refresh_token"], SECRET, algorithms=["HS256"])
    assert access["type"] == "access" and refresh["type"] == "refresh"
    for claims in (access, refresh):
        assert claims["sub"] == user["id"]
        assert {"iat", "nbf", "exp", "jti"} <= set(claims)
    assert access["exp"] - access["iat"] == 900
    assert refresh["exp"] - refresh["iat"] == 604800


@pytest.mark.parametrize(
    "email, password",
    [("ada@example.com", "wrong password"), ("nobody@example.com", PASSWORD)],
)
def test_signin_failure_says_the_same_for_unknown_email_and_wrong_password(
    client, user, email, password
):
    response = client.post("/api/auth/signin", json={"email": email, "password": password})

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_credentials"
    assert response.get_json()["message"] == "Invalid email or password."
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_signin_validation_error_is_422(client, db):
    response = client.post("/api/auth/signin", json={"email": "ada@example.com"})

    assert response.status_code == 422
    assert "password" in response.get_json()["fields"]


def test_a_user_known_only_from_a_token_cannot_sign_in(client, db):
    client.get("/api/auth/me", headers=bearer(mint("frontend-user", email="fe@example.com")))

    body = {"email": "fe@example.com", "password": PASSWORD}
    response = client.post("/api/auth/signin", json=body)

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_credentials"


def test_refresh_returns_a_new_token_pair(client, user, signin):
    pair = signin()

    response = client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["id"] == user["id"]
    assert client.get("/api/protected", headers=bearer(body["token"])).status_code == 200


def test_refresh_refuses_an_access_token(client, user, signin):
    response = client.post("/api/auth/refresh", json={"refresh_token": signin()["token"]})

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_refresh_refuses_garbage(client, db):
    response = client.post("/api/auth/refresh", json={"refresh_token": "not.a.token"})

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_refresh_requires_the_token_field(client, db):
    response = client.post("/api/auth/refresh", json={})

    assert response.status_code == 422
    assert "refresh_token" in response.get_json()["fields"]


def test_signout_succeeds_with_an_access_token(client, auth_headers):
    response = client.post("/api/auth/signout", headers=auth_headers)

    assert response.status_code == 200
    assert response.get_json() == {"success": True}


def test_signout_requires_a_token(client, db):
    response = client.post("/api/auth/signout")

    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_token"


def test_me_returns_the_signed_in_user(client, user, auth_headers):
    response = client.get("/api/auth/me", headers=auth_headers)

    assert response.status_code == 200
    assert response.get_json() == {"user": user}


def test_me_provisions_a_subject_seen_for_the_first_time(client, db):
    token = mint("ba-user-42", email="Grace@Example.com", name="Grace")

    first = client.get("/api/auth/me", headers=bearer(token))
    second = client.get("/api/auth/me", headers=bearer(token))

    assert first.status_code == second.status_code == 200
    assert first.get_json()["user"]["id"] == "ba-user-42"
    assert first.get_json()["user"]["email"] == "grace@example.com"
    assert first.get_json()["user"]["name"] == "Grace"
    assert second.get_json() == first.get_json()
    # Stored under the Better Auth namespace; answered as the token's subject.
    assert db.session.scalars(select(User.id)).all() == [better_auth_user_id("ba-user-42")]


def test_me_provisions_a_bare_exchange_token_subject_without_profile(client, db):
    response = client.get("/api/auth/me", headers=bearer(mint("exchange-only")))

    assert response.status_code == 200
    assert response.get_json()["user"]["email"] is None
    assert response.get_json()["user"]["name"] is None


def test_a_subject_whose_email_is_taken_is_provisioned_without_it(client, user):
    token = mint("ba-user-7", email="ada@example.com", name="Other Ada")

    response = client.get("/api/auth/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.get_json()["user"]["id"] == "ba-user-7"
    assert response.get_json()["user"]["email"] is None
