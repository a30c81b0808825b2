"""Verified tokens are kept (auth/verified_tokens.py): a reused token is not verified again,
yet everything that can change while it is valid still refuses it on the next request.

The Better Auth session check on a cached token (sign-out, revocation, ban, role change seen
within 1 s) is shown by tests/interop/test_better_auth_sessions.py, whose tests accept a
token first and then watch the same token being refused.
"""

import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.conftest import bearer, mint
from tests.security import jwks
from tests.security.jwks import ED_KEY, serving_jwks

PROTECTED = "/api/protected"


def get(client, token, path=PROTECTED):
    return client.get(path, headers=bearer(token))


def error_of(response):
    return response.status_code, response.get_json()["error"]


def test_a_token_sent_again_is_verified_once(client, db, pyjwt_calls):
    token = mint(sub="reused")

    statuses = [get(client, token).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert pyjwt_calls == {"verify": 1, "header": 0}


@pytest.mark.parametrize(
    "change",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # another signature
        lambda token: token + "A",
        lambda token: token.rsplit(".", 1)[0] + ".",  # no signature at all
        lambda token: token.upper(),
    ],
)
def test_no_other_string_reaches_a_kept_token(client, db, change):
    token = mint(sub="kept")
    assert get(client, token).status_code == 200

    assert error_of(get(client, change(token))) == (401, "invalid_token")
    assert get(client, token).status_code == 200


def test_a_kept_token_is_refused_once_it_expires(client, db):
    now = int(time.time())
    # Expired 8 s ago: inside the 10 s leeway, so accepted (and kept) for about 2 s more.
    token = mint(sub="expiring", iat=now - 60, exp=now - 8)
    assert get(client, token).status_code == 200

    time.sleep(max(0.0, now + 2 - time.time()) + 0.05)

    response = get(client, token)
    assert error_of(response) == (401, "token_expired")
    assert response.get_json()["message"] == "The access token has expired."


def test_a_kept_token_is_refused_at_once_after_sign_out(client, user, signin):
    pair = signin()
    assert get(client, pair["token"]).status_code == 200

    signed_out = client.post(
        "/api/auth/signout",
        headers=bearer(pair["token"]),
        json={"refresh_token": pair["refresh_token"]},
    )

    assert signed_out.status_code == 200
    assert error_of(get(client, pair["token"])) == (401, "token_revoked")


def test_a_kept_token_is_refused_at_once_when_its_account_is_disabled(
    client, user, signin, app
):
    token = signin()["token"]
    assert get(client, token).status_code == 200

    result = app.test_cli_runner().invoke(args=["users", "disable", "ada@example.com"])

    assert result.exit_code == 0, result.output
    assert error_of(get(client, token)) == (401, "token_revoked")


def test_roles_are_checked_on_every_request_of_a_kept_token(client, db):
    user_token, admin_token = mint(sub="plain", role="user"), mint(sub="boss", role="admin")

    for _ in range(2):
        assert error_of(get(client, user_token, "/api/admin/users")) == (403, "forbidden")
        assert get(client, admin_token, "/api/admin/users").status_code == 200
    assert get(client, user_token).status_code == 200


def test_a_full_cache_forgets_a_token_and_verifies_it_again(make_app, db, pyjwt_calls):
    client = make_app(TOKEN_CACHE_SIZE=2).test_client()
    first, *others = [mint(sub=f"user-{n}") for n in range(4)]

    for token in (first, *others, first):
        assert get(client, token).status_code == 200

    assert pyjwt_calls["verify"] == 5  # the first token was forgotten, then verified again


def test_a_cache_of_size_zero_verifies_every_request(make_app, db, pyjwt_calls):
    client = make_app(TOKEN_CACHE_SIZE=0).test_client()
    token = mint(sub="every-time")

    assert [get(client, token).status_code for _ in range(3)] == [200, 200, 200]
    assert pyjwt_calls["verify"] == 3


def test_another_secret_does_not_accept_a_token_the_first_one_kept(make_app, db):
    token = mint(sub="secret-one")
    assert get(make_app().test_client(), token).status_code == 200

    rotated = make_app(BETTER_AUTH_SECRET="another-secret-" + "x" * 32).test_client()

    assert error_of(get(rotated, token)) == (401, "invalid_token")


@pytest.fixture
def refetching_jwks_client(make_app, monkeypatch):
    """An app that fetches the JWKS on every request, from a server whose keys can change."""
    monkeypatch.setitem(jwks.JWKS, "keys", list(jwks.JWKS["keys"]))
    with serving_jwks() as server:
        base = f"http://127.0.0.1:{server.server_port}"
        app = make_app(
            BETTER_AUTH_URL=base,
            BETTER_AUTH_JWKS_URL=f"{base}/api/auth/jwks",
            JWKS_MAX_AGE=0,
            JWKS_REFETCH_INTERVAL=0,
        )
        yield app.test_client(), base


def eddsa_token(base):
    now = int(time.time())
    claims = {"sub": "ba-user", "iat": now, "exp": now + 900, "iss": base, "aud": base}
    return pyjwt.encode(claims, ED_KEY, algorithm="EdDSA", headers={"kid": "ed-1"})


def test_a_kept_jwks_token_is_refused_once_its_key_leaves_the_key_set(
    refetching_jwks_client, db, pyjwt_calls
):
    client, base = refetching_jwks_client
    token = eddsa_token(base)
    assert [get(client, token).status_code for _ in range(2)] == [200, 200]
    assert pyjwt_calls == {"verify": 1, "header": 1}

    jwks.JWKS["keys"] = [key for key in jwks.JWKS["keys"] if key["kid"] != "ed-1"]

    response = get(client, token)
    assert error_of(response) == (401, "invalid_token")
    assert "kid" in response.get_json()["message"]


def test_a_kept_jwks_token_is_verified_again_when_its_key_changes(refetching_jwks_client, db):
    client, base = refetching_jwks_client
    token = eddsa_token(base)
    assert get(client, token).status_code == 200

    # The same kid now names another key: the kept token's signature no longer holds.
    replacement = jwks.public_jwk(ed25519.Ed25519PrivateKey.generate(), "ed-1", "EdDSA")
    jwks.JWKS["keys"] = [
        replacement if key["kid"] == "ed-1" else key for key in jwks.JWKS["keys"]
    ]

    assert error_of(get(client, token)) == (401, "invalid_token")
