"""Passwords never leave the API, and signin does not tell which emails have accounts."""

import pytest

PASSWORD = "Sup3r-Secret-Passw0rd!"


@pytest.fixture
def journey(client, log_lines):
    """Every auth endpoint exercised with the password, then all responses and log lines."""
    responses = [
        client.post(
            "/api/auth/signup", json={"email": "Eve@Example.com", "password": PASSWORD, "name": "E"}
        ),
        client.post("/api/auth/signup", json={"email": "eve@example.com", "password": PASSWORD}),
        client.post("/api/auth/signup", json={"email": "bad", "password": PASSWORD}),
        client.post("/api/auth/signin", json={"email": "eve@example.com", "password": PASSWORD}),
        client.post(
            "/api/auth/signin", json={"email": "eve@example.com", "password": PASSWORD[:-1]}
        ),
        client.post("/api/auth/signin", json={"email": "nobody@example.com", "password": PASSWORD}),
        client.post("/api/auth/signin", json={"password": PASSWORD, "extra": PASSWORD}),
    ]
    token = responses[3].get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    responses.append(client.get("/api/auth/me", headers=headers))
    responses.append(client.post("/api/auth/signout", json={}, headers=headers))
    return responses, log_lines()


def test_password_is_never_in_a_response(journey):
    responses, _ = journey
    assert [r.status_code for r in responses] == [201, 409, 422, 200, 401, 401, 422, 200, 200]
    for response in responses:
        body = response.get_data(as_text=True)
        assert PASSWORD not in body
        assert "argon2" not in body and "password_hash" not in body


def test_password_and_tokens_are_never_logged(journey):
    responses, lines = journey
    assert len([line for line in lines if line["message"] == "request"]) == len(responses)
    text = "\n".join(map(str, lines))
    assert PASSWORD not in text
    assert "$argon2" not in text
    token = responses[3].get_json()["token"]
    assert token not in text and token.split(".")[2] not in text


def test_signin_answers_the_same_for_unknown_email_and_wrong_password(client, user):
    wrong = client.post(
        "/api/auth/signin", json={"email": "ada@example.com", "password": "wrong password"}
    )
    unknown = client.post(
        "/api/auth/signin", json={"email": "nobody@example.com", "password": "wrong password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: {k: v for k, v in r.get_json().items() if k != "request_id"}  # noqa: E731
    assert strip(wrong) == strip(unknown) == {
        "error": "invalid_credentials",
        "message": "Invalid email or password.",
    }
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"]


def test_signin_of_an_account_without_password_looks_like_a_wrong_password(client, db):
    from ironmind_api.auth.models import User

    db.session.add(User(id="better-auth-subject", email="sso@example.com"))
    db.session.commit()
    response = client.post(
        "/api/auth/signin", json={"email": "sso@example.com", "password": "anything at all"}
    )
    assert response.status_code == 401
    assert response.get_json()["message"] == "Invalid email or password."
