"""Better Auth JWT-plugin settings: derived from BETTER_AUTH_URL, unsafe ones refused."""

import pytest

from tests.conftest import bearer, mint


def test_jwks_settings_default_to_better_auth_url(make_app):
    config = make_app(BETTER_AUTH_URL="https://auth.example.com/").config

    assert config["JWKS_URL"] == "https://auth.example.com/api/auth/jwks"
    assert config["JWT_ISSUER"] == config["JWT_AUDIENCE"] == "https://auth.example.com"
    assert config["JWT_DECODE_ALGORITHMS"] == ["HS256", "EdDSA", "ES256", "RS256", "PS256"]


def test_without_better_auth_url_only_hs256_is_accepted(make_app):
    config = make_app().config

    assert config["JWKS_URL"] is None
    assert config["JWT_DECODE_ALGORITHMS"] == ["HS256"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"BETTER_AUTH_URL": "https://auth.example.com", "JWKS_ALGORITHMS": ["EdDSA", "HS256"]},
        {"BETTER_AUTH_URL": "https://auth.example.com", "JWKS_ALGORITHMS": []},
        {"BETTER_AUTH_JWKS_URL": "https://auth.example.com/api/auth/jwks"},
    ],
    ids=["hmac-in-jwks-algorithms", "no-jwks-algorithms", "jwks-url-without-issuer"],
)
def test_unsafe_jwks_settings_refuse_to_start(make_app, overrides):
    with pytest.raises(RuntimeError):
        make_app(**overrides)


def test_asymmetric_token_is_rejected_when_better_auth_tokens_are_off(client):
    token = mint(headers={"kid": "k1"}).split(".")
    header = "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0"  # {"alg":"EdDSA","kid":"k1"}

    response = client.get("/api/protected", headers=bearer(f"{header}.{token[1]}.{token[2]}"))

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
