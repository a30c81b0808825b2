"""The one token path (ironmind_api/auth/tokens.py), as a client and an auditor see it."""

import jwt as pyjwt
import pytest
from jwt.exceptions import InvalidKeyError, InvalidSignatureError

from tests.conftest import SECRET, bearer, mint

PEM_KEY = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n"


def test_an_hs256_token_is_verified_by_one_pyjwt_call_per_request(client, pyjwt_calls):
    response = client.get("/api/protected", headers=bearer(mint(sub="once")))

    assert response.status_code == 200 and response.get_json()["user_id"] == "once"
    assert pyjwt_calls == {"verify": 1, "header": 0}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(client, db, scheme):
    response = client.get("/api/protected", headers={"Authorization": f"{scheme} {mint()}"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "value, error",
    [
        ("Bearer a b", "invalid_token"),
        ("Bearer\ttoken extra", "invalid_token"),
        ("Token abc", "missing_token"),
        ("Bearer", "invalid_token"),
        ("   ", "missing_token"),
    ],
)
def test_a_malformed_authorization_header_is_refused(client, db, value, error):
    response = client.get("/api/protected", headers={"Authorization": value})

    assert response.status_code == 401
    assert response.get_json()["error"] == error


def test_a_refresh_token_is_not_an_access_token(client, signin, user):
    refresh = signin()["refresh_token"]

    response = client.get("/api/protected", headers=bearer(refresh))

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert "refresh token" in response.get_json()["message"]


def test_an_access_token_is_not_a_refresh_token(client, signin, user):
    access = signin()["token"]

    response = client.post("/api/auth/refresh", json={"refresh_token": access})

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_the_refusal_says_why(client, db):
    response = client.get("/api/protected", headers=bearer(mint(secret="x" * 40)))

    assert response.get_json()["message"] == (
        "The access token is invalid: Signature verification failed."
    )


def test_hmac_tokens_are_verified_with_the_configured_secret_only(client, db):
    accepted = client.get("/api/protected", headers=bearer(mint(sub="hmac-user")))
    forged = client.get("/api/protected", headers=bearer(mint(sub="hmac-user", secret="x" * 40)))

    assert accepted.status_code == 200 and accepted.get_json()["user_id"] == "hmac-user"
    assert forged.status_code == 401 and forged.get_json()["error"] == "invalid_token"


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_an_asymmetric_key_is_refused_as_a_secret_every_time(client, algorithm):
    token = pyjwt.encode({"sub": "x"}, SECRET, algorithm=algorithm)
    for _ in range(3):  # a refusal is never remembered as a pass
        with pytest.raises(InvalidKeyError):
            pyjwt.decode(token, PEM_KEY, algorithms=[algorithm])
    assert pyjwt.decode(token, SECRET, algorithms=[algorithm]) == {"sub": "x"}
    with pytest.raises(InvalidSignatureError):
        pyjwt.decode(token, SECRET + "-other", algorithms=[algorithm])


def test_hs384_and_hs512_tokens_are_not_accepted(client, db):
    for algorithm in ("HS384", "HS512"):
        response = client.get("/api/protected", headers=bearer(mint(algorithm=algorithm)))
        assert response.status_code == 401
        assert response.get_json()["error"] == "invalid_token"


def test_async_views_are_still_refused_by_flask(app):
    async def coroutine():
        return None

    # Flask's own async path: without asgiref installed it refuses, as plain Flask does.
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(coroutine)
