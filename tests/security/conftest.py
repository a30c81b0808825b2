"""Fixtures of the security suite: an app that accepts Better Auth tokens from a real JWKS."""


import pytest

from tests.security.jwks import serving_jwks


@pytest.fixture(scope="module")
def jwks_server():
    with serving_jwks() as server:
        yield server


@pytest.fixture(scope="module")
def jwks_app(make_app, app, jwks_server):
    base = f"http://127.0.0.1:{jwks_server.server_port}"
    return make_app(BETTER_AUTH_URL=base, BETTER_AUTH_JWKS_URL=f"{base}/api/auth/jwks")


@pytest.fixture
def jwks_client(jwks_app, db):
    return jwks_app.test_client()
