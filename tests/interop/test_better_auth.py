"""Better Auth JWT-plugin tokens from a real Better Auth server, verified through its JWKS."""

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.request

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt import PyJWK

from tests.conftest import bearer

from .conftest import Stopwatch, mint_exchange

pytestmark = pytest.mark.interop


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def with_header(token, **changes):
    """The same token with header fields changed (its signature no longer matches)."""
    header, payload, signature = token.split(".")
    new_header = json.loads(unb64(header)) | changes
    return f"{b64(json.dumps(new_header).encode())}.{payload}.{signature}"


def test_eddsa_token_is_accepted_with_its_subject(api, better_auth):
    token, user = better_auth.token("ada@example.com", "Ada")

    response = api(better_auth).get("/api/protected", headers=bearer(token))

    assert json.loads(unb64(token.split(".")[0]))["alg"] == "EdDSA"
    assert response.status_code == 200
    assert response.get_json()["user_id"] == user["id"]


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256"])
def test_other_key_algorithms_are_accepted(api, better_auth_servers, alg):
    server = better_auth_servers("--alg", alg)
    token, user = server.token("ada@example.com", "Ada")

    response = api(server).get("/api/protected", headers=bearer(token))

    assert json.loads(unb64(token.split(".")[0]))["alg"] == alg
    assert response.status_code == 200
    assert response.get_json()["user_id"] == user["id"]


def test_better_auth_users_tasks_are_kept_apart(api, better_auth):
    client = api(better_auth)
    ada_token, ada = better_auth.token("ada@example.com", "Ada")
    bob_token, bob = better_auth.token("bob@example.com", "Bob")

    created = client.post("/api/tasks", json={"title": "Ada's"}, headers=bearer(ada_token))
    client.post("/api/tasks", json={"title": "Bob's"}, headers=bearer(bob_token))
    adas = client.get("/api/tasks", headers=bearer(ada_token)).get_json()
    bobs = client.get("/api/tasks", headers=bearer(bob_token)).get_json()

    assert created.status_code == 201
    assert [(t["title"], t["userId"]) for t in adas] == [("Ada's", ada["id"])]
    assert [(t["title"], t["userId"]) for t in bobs] == [("Bob's", bob["id"])]
    task_url = f"/api/tasks/{created.get_json()['id']}"
    assert client.get(task_url, headers=bearer(bob_token)).status_code == 404


def test_me_provisions_the_better_auth_user_from_its_claims(api, better_auth, db):
    token, user = better_auth.token("Grace@Example.com", "Grace Hopper")
    client = api(better_auth)

    first = client.get("/api/auth/me", headers=bearer(token))
    again = client.get("/api/auth/me", headers=bearer(token))

    assert first.status_code == 200
    me = first.get_json()["user"]
    assert (me["id"], me["email"], me["name"]) == (user["id"], "grace@example.com", "Grace Hopper")
    assert again.get_json() == first.get_json()


def test_tampered_token_is_rejected(api, better_auth):
    token, _ = better_auth.token("ada@example.com", "Ada")
    header, payload, signature = token.split(".")
    claims = json.loads(unb64(payload)) | {"sub": "someone-else"}
    tampered = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"

    response = api(better_auth).get("/api/protected", headers=bearer(tampered))

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_expired_token_is_rejected(api, better_auth_servers):
    # The plugin's own jwt.expirationTime option, set so that it signs tokens already expired.
    server = better_auth_servers("--expiration-time", "-2m")
    token, _ = server.token("ada@example.com", "Ada")

    response = api(server).get("/api/protected", headers=bearer(token))

    assert response.status_code == 401
    assert response.get_json()["error"] == "token_expired"


@pytest.mark.parametrize("flag", ["--audience", "--issuer"])
def test_token_for_another_audience_or_from_another_issuer_is_rejected(
    api, better_auth_servers, flag
):
    server = better_auth_servers(flag, "other")
    token, _ = server.token("ada@example.com", "Ada")

    response = api(server).get("/api/protected", headers=bearer(token))

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_configured_audience_is_the_one_checked(api, better_auth_servers):
    server = better_auth_servers("--audience", "ironmind-api")
    token, user = server.token("ada@example.com", "Ada")

    response = api(server, JWT_AUDIENCE="ironmind-api").get("/api/protected", headers=bearer(token))

    assert response.status_code == 200
    assert response.get_json()["user_id"] == user["id"]


def test_hmac_token_signed_with_the_public_key_is_rejected(api, better_auth):
    """The classic algorithm confusion: HS256 keyed with the JWKS's public key."""
    token, user = better_auth.token("ada@example.com", "Ada")
    client = api(better_auth)
    assert client.get("/api/protected", headers=bearer(token)).status_code == 200
    header, payload, _ = token.split(".")
    kid = json.loads(unb64(header))["kid"]
    with urllib.request.urlopen(f"{better_auth.url}/api/auth/jwks", timeout=10) as answer:
        jwk = next(key for key in json.load(answer)["keys"] if key["kid"] == kid)
    pem = PyJWK(jwk).key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    forged_header = b64(json.dumps({"alg": "HS256", "kid": kid}).encode())
    signing_input = f"{forged_header}.{payload}".encode()
    for secret in (pem, json.dumps(jwk).encode(), unb64(jwk["x"])):
        signature = b64(hmac.new(secret, signing_input, hashlib.sha256).digest())
        forged = f"{forged_header}.{payload}.{signature}"

        response = client.get("/api/protected", headers=bearer(forged))

        assert response.status_code == 401
        assert response.get_json()["error"] == "invalid_token"


@pytest.mark.parametrize("alg", ["none", "HS512", "ES512", "RS512"])
def test_token_with_an_algorithm_not_configured_is_rejected(api, better_auth, alg):
    token, _ = better_auth.token("ada@example.com", "Ada")

    response = api(better_auth).get("/api/protected", headers=bearer(with_header(token, alg=alg)))

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_asymmetric_token_is_never_checked_with_the_secret(api, better_auth):
    """An EdDSA-labelled token HMAC-signed with the shared secret has no JWKS key to match."""
    client = api(better_auth)
    token, _ = better_auth.token("ada@example.com", "Ada")
    assert client.get("/api/protected", headers=bearer(token)).status_code == 200
    exchange = mint_exchange("ba-user-1")
    _, payload, signature = exchange.split(".")
    kid = json.loads(unb64(token.split(".")[0]))["kid"]
    relabelled = f"{b64(json.dumps({'alg': 'EdDSA', 'kid': kid}).encode())}.{payload}.{signature}"

    response = client.get("/api/protected", headers=bearer(relabelled))

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_key_rotation_is_followed_without_a_restart(api, better_auth):
    client = api(better_auth, JWKS_REFETCH_INTERVAL=0.5)
    before, user = better_auth.token("ada@example.com", "Ada")
    assert client.get("/api/protected", headers=bearer(before)).status_code == 200

    rotated = better_auth.rotate()
    after, _ = better_auth.token("ada@example.com", "Ada")
    time.sleep(0.6)  # re-fetches are rate-limited to one per JWKS_REFETCH_INTERVAL
    response = client.get("/api/protected", headers=bearer(after))

    assert json.loads(unb64(after.split(".")[0]))["kid"] == rotated["kid"]
    assert response.status_code == 200
    assert response.get_json()["user_id"] == user["id"]
    # The old key stays in the JWKS during Better Auth's grace period.
    assert client.get("/api/protected", headers=bearer(before)).status_code == 200

    better_auth.rotate(drop_old=True)
    newest, _ = better_auth.token("ada@example.com", "Ada")
    time.sleep(0.6)
    assert client.get("/api/protected", headers=bearer(newest)).status_code == 200
    # Once the JWKS no longer has the old keys, tokens signed with them stop working.
    assert client.get("/api/protected", headers=bearer(before)).status_code == 401


def test_jwks_outage_is_503_quickly_and_recovers(api, better_auth):
    client = api(better_auth, JWKS_REFETCH_INTERVAL=0.5)
    token, user = better_auth.token("ada@example.com", "Ada")
    exchange = bearer(mint_exchange("ba-user-1"))

    better_auth.jwks_down()
    with Stopwatch() as outage:
        down = client.get("/api/protected", headers=bearer(token))
    during = client.get("/api/protected", headers=exchange)
    better_auth.jwks_up()
    time.sleep(0.6)
    recovered = client.get("/api/protected", headers=bearer(token))

    assert down.status_code == 503
    assert down.get_json()["error"] == "service_unavailable"
    assert "Retry-After" in down.headers
    assert outage.seconds < 2
    assert during.status_code == 200
    assert recovered.status_code == 200
    assert recovered.get_json()["user_id"] == user["id"]


def test_hanging_jwks_host_is_503_within_the_fetch_timeout(api, better_auth, silent_server):
    client = api(
        better_auth,
        BETTER_AUTH_JWKS_URL=f"{silent_server}/api/auth/jwks",
        JWKS_FETCH_TIMEOUT=0.5,
    )
    token, _ = better_auth.token("ada@example.com", "Ada")

    with Stopwatch() as hanging:
        response = client.get("/api/protected", headers=bearer(token))
    exchange = client.get("/api/protected", headers=bearer(mint_exchange("ba-user-1")))

    assert response.status_code == 503
    assert response.get_json()["error"] == "service_unavailable"
    assert 0.4 < hanging.seconds < 1.5
    assert exchange.status_code == 200


def test_flood_of_unknown_kids_does_not_hammer_the_jwks(api, better_auth, counting_proxy):
    proxy = counting_proxy(better_auth.url)
    client = api(better_auth, BETTER_AUTH_JWKS_URL=f"{proxy.url}/api/auth/jwks")
    token, user = better_auth.token("ada@example.com", "Ada")
    assert client.get("/api/protected", headers=bearer(token)).status_code == 200

    with Stopwatch() as flood:
        statuses = {
            client.get(
                "/api/protected", headers=bearer(with_header(token, kid=secrets.token_hex(8)))
            ).status_code
            for _ in range(200)
        }

    assert statuses == {401}
    assert proxy.requests == ["/api/auth/jwks"]
    assert flood.seconds < 10
    assert client.get("/api/protected", headers=bearer(token)).get_json()["user_id"] == user["id"]
