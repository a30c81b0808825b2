"""Forged, malformed and misused tokens: every one is a 401 in the contract's shape, never a 500.

The JWKS cases (key confusion, ECDSA zero signature, jku/x5u/jwk) run against an app that has
a real JWKS served from 127.0.0.1, so they stay meaningful once Better Auth tokens are accepted.
"""

import base64
import hashlib
import hmac
import json
import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization

from tests.conftest import SECRET, bearer
from tests.security.jwks import ATTACKER_JWKS, ATTACKER_KEY, EC_KEY, ED_KEY, JWKS

REJECTION_CODES = {"invalid_token", "token_expired", "token_revoked", "missing_token"}


def b64(data):
    if not isinstance(data, bytes):
        data = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compose(header, claims, signature=b""):
    return f"{b64(header)}.{b64(claims)}.{b64(signature) if signature else ''}"


def hs256(header, claims, key):
    """An HS256 token signed by hand, for keys PyJWT rightly refuses to HMAC with."""
    signing_input = f"{b64(header)}.{b64(claims)}".encode()
    signature = hmac.new(key, signing_input, hashlib.sha256).digest()
    return f"{signing_input.decode()}.{b64(signature)}"


def claims(kind="access", **changes):
    now = int(time.time())
    base = {"sub": "user-1", "iat": now, "exp": now + 900}
    if kind == "refresh":
        base.update(type="refresh", jti="00000000-0000-0000-0000-000000000001", nbf=now, fam="f")
    base.update(changes)
    return {k: v for k, v in base.items() if v is not Ellipsis}


def signed(kind="access", headers=None, **changes):
    return pyjwt.encode(claims(kind, **changes), SECRET, algorithm="HS256", headers=headers)


def better_auth_claims(base):
    return claims(id="user-1", email="ada@example.com", iss=base, aud=base)


def ec_public_pem():
    return EC_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def ed_public_pem():
    return ED_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def attacker_signed(base, **header):
    return pyjwt.encode(
        better_auth_claims(base), ATTACKER_KEY, algorithm="ES256", headers=header
    )


# Each builder takes (kind, base_url) and returns the token to present.
FORGERIES = {
    **{
        f"alg-{alg}": lambda kind, base, alg=alg: compose({"alg": alg, "typ": "JWT"}, claims(kind))
        for alg in ("none", "None", "NONE", "nOnE")
    },
    "alg-none-with-signature": lambda kind, base: compose(
        {"alg": "none"}, claims(kind), b"\x01" * 32
    ),
    "empty-signature": lambda kind, base: signed(kind).rsplit(".", 1)[0] + ".",
    "signature-of-another-secret": lambda kind, base: pyjwt.encode(
        claims(kind), "another-secret-that-is-long-enough-0123456789", algorithm="HS256"
    ),
    "signature-of-another-token": lambda kind, base: ".".join(
        signed(kind).split(".")[:2] + [signed(kind, sub="user-2").split(".")[2]]
    ),
    "hs256-with-jwks-ec-public-key-pem": lambda kind, base: hs256(
        {"alg": "HS256", "kid": "ec-1"}, better_auth_claims(base), ec_public_pem()
    ),
    "hs256-with-jwks-ed25519-public-key-pem": lambda kind, base: hs256(
        {"alg": "HS256", "kid": "ed-1"}, better_auth_claims(base), ed_public_pem()
    ),
    "hs256-with-jwks-document": lambda kind, base: hs256(
        {"alg": "HS256", "kid": "ec-1"}, better_auth_claims(base), json.dumps(JWKS).encode()
    ),
    "es256-all-zero-signature": lambda kind, base: compose(
        {"alg": "ES256", "kid": "ec-1"}, better_auth_claims(base), b"\x00" * 64
    ),
    "es256-all-zero-der-signature": lambda kind, base: compose(
        {"alg": "ES256", "kid": "ec-1"}, better_auth_claims(base), bytes.fromhex("3006020100020100")
    ),
    "eddsa-all-zero-signature": lambda kind, base: compose(
        {"alg": "EdDSA", "kid": "ed-1"}, better_auth_claims(base), b"\x00" * 64
    ),
    "kid-path-traversal-empty-key": lambda kind, base: hs256(
        {"alg": "HS256", "kid": "../../../../../../dev/null"}, claims(kind), b""
    ),
    "kid-sql-injection-empty-key": lambda kind, base: hs256(
        {"alg": "HS256", "kid": "x' UNION SELECT '' --"}, claims(kind), b""
    ),
    "kid-path-traversal-es256": lambda kind, base: compose(
        {"alg": "ES256", "kid": "../../../../etc/passwd"}, better_auth_claims(base), b"\x00" * 64
    ),
    "kid-not-a-string": lambda kind, base: hs256(
        {"alg": "HS256", "kid": ["ec-1"]}, claims(kind), SECRET.encode()
    ),
    "jku-pointing-elsewhere": lambda kind, base: attacker_signed(
        base, kid="attacker", jku=f"{base}/attacker/jwks"
    ),
    "x5u-pointing-elsewhere": lambda kind, base: attacker_signed(
        base, kid="attacker", x5u=f"{base}/attacker/jwks"
    ),
    "embedded-jwk": lambda kind, base: attacker_signed(
        base, kid="attacker", jwk=ATTACKER_JWKS["keys"][0]
    ),
    "embedded-jwk-with-jwks-kid": lambda kind, base: attacker_signed(
        base, kid="ec-1", jwk=ATTACKER_JWKS["keys"][0]
    ),
    "crit-unknown-extension": lambda kind, base: signed(
        kind, headers={"crit": ["http://example.com/must-understand"],
                       "http://example.com/must-understand": True}
    ),
    "crit-registered-claim": lambda kind, base: signed(kind, headers={"crit": ["exp"]}),
    "expired-by-31-seconds": lambda kind, base: signed(kind, exp=int(time.time()) - 31),
    "no-exp": lambda kind, base: signed(kind, exp=...),
    "nbf-in-the-future": lambda kind, base: signed(kind, nbf=int(time.time()) + 120),
    "sub-missing": lambda kind, base: signed(kind, sub=...),
    "sub-empty": lambda kind, base: signed(kind, sub=""),
    "sub-blank": lambda kind, base: signed(kind, sub="   "),
    "sub-null": lambda kind, base: signed(kind, sub=None),
    "sub-integer": lambda kind, base: signed(kind, sub=42),
    "sub-list": lambda kind, base: signed(kind, sub=["user-1"]),
    "sub-object": lambda kind, base: signed(kind, sub={"id": "user-1"}),
    "sub-huge": lambda kind, base: signed(kind, sub="u" * 5000),
    "token-over-8-kib": lambda kind, base: signed(kind, padding="p" * 9000),
    "non-base64-segments": lambda kind, base: "!!!!.@@@@.####",
    "non-base64-payload": lambda kind, base: signed(kind).split(".")[0] + ".%%%%." + "abc",
    "non-json-header": lambda kind, base: b64(b"not json") + "." + signed(kind).split(".", 1)[1],
    "non-object-payload": lambda kind, base: hs256({"alg": "HS256"}, ["sub"], SECRET.encode()),
    "two-segments": lambda kind, base: ".".join(signed(kind).split(".")[:2]),
    "four-segments": lambda kind, base: signed(kind) + ".e30",
    "five-segments-jwe-shape": lambda kind, base: "eyJhbGciOiJkaXIifQ..AAAA.AAAA.AAAA",
    "empty-token": lambda kind, base: "",
    "only-dots": lambda kind, base: "..",
    "unicode": lambda kind, base: "\u00e9\u00e9.\u00e9\u00e9.\u00e9\u00e9",
}


def assert_rejected(response):
    assert response.status_code == 401, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert body["error"] in REJECTION_CODES
    assert body["request_id"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def base_url(app):
    return app.config["BETTER_AUTH_URL"]


@pytest.mark.parametrize("case", FORGERIES)
def test_forged_access_token_is_401(jwks_client, jwks_app, case):
    token = FORGERIES[case]("access", base_url(jwks_app))
    for path in ("/api/protected", "/api/auth/me", "/api/tasks"):
        assert_rejected(jwks_client.get(path, headers=bearer(token)))


@pytest.mark.parametrize("case", FORGERIES)
def test_forged_refresh_token_is_401(jwks_client, jwks_app, case):
    token = FORGERIES[case]("refresh", base_url(jwks_app))
    response = jwks_client.post("/api/auth/refresh", json={"refresh_token": token})
    assert_rejected(response)
    # Rejected as a token, before its (made-up) session was ever looked up.
    assert response.get_json()["error"] != "token_revoked"


def test_no_header_or_claim_makes_the_api_fetch_a_url(jwks_client, jwks_app, jwks_server):
    base = base_url(jwks_app)
    for case in ("jku-pointing-elsewhere", "x5u-pointing-elsewhere", "embedded-jwk"):
        jwks_client.get("/api/protected", headers=bearer(FORGERIES[case]("access", base)))
    assert "/attacker/jwks" not in jwks_server.requested


def test_expiry_just_inside_the_leeway_is_still_accepted(jwks_client):
    # The control for "expired-by-31-seconds": the leeway is real but at most 30 s.
    response = jwks_client.get(
        "/api/protected", headers=bearer(signed(exp=int(time.time()) - 5))
    )
    assert response.status_code == 200


def test_with_a_jwks_each_token_is_verified_once_after_one_header_read(
    jwks_client, jwks_app, pyjwt_calls
):
    # The key depends on the header's alg and kid: PyJWT's header read, then one verification.
    base = base_url(jwks_app)
    eddsa = pyjwt.encode(better_auth_claims(base), ED_KEY, algorithm="EdDSA",
                         headers={"kid": "ed-1"})
    for token in (eddsa, signed()):
        before = dict(pyjwt_calls)
        assert jwks_client.get("/api/protected", headers=bearer(token)).status_code == 200
        assert pyjwt_calls == {"verify": before["verify"] + 1, "header": before["header"] + 1}


def test_the_unforged_token_is_accepted(jwks_client):
    # The control for every HS256 case above: only the forgery makes them fail.
    assert jwks_client.get("/api/protected", headers=bearer(signed())).status_code == 200


def test_refresh_token_is_not_an_access_token(client, user, signin):
    pair = signin()
    response = client.get("/api/protected", headers=bearer(pair["refresh_token"]))
    assert_rejected(response)
    assert response.get_json()["error"] == "invalid_token"


def test_access_token_is_not_a_refresh_token(client, user, signin):
    pair = signin()
    response = client.post("/api/auth/refresh", json={"refresh_token": pair["token"]})
    assert_rejected(response)
    assert response.get_json()["error"] == "invalid_token"


def test_foreign_token_is_not_a_refresh_token(client, user):
    response = client.post("/api/auth/refresh", json={"refresh_token": signed(sub=user["id"])})
    assert_rejected(response)


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer", "Bearer a b", "Token abc"],
)
def test_malformed_authorization_header_is_401(client, authorization):
    assert_rejected(client.get("/api/protected", headers={"Authorization": authorization}))
