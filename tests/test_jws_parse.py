"""The memo of PyJWT's private token parse (ironmind_api/jws_parse.py): fails loudly when PyJWT
changes under it, and shows that it only ever saves the parse of identical bytes."""

import base64
import inspect
import re
from pathlib import Path

import jwt as pyjwt
import pytest
from jwt.api_jws import PyJWS
from jwt.exceptions import DecodeError, InvalidSignatureError

from ironmind_api import jws_parse
from tests.conftest import SECRET, bearer, mint

ROOT = Path(__file__).resolve().parent.parent


def test_pyjwt_is_the_pinned_version_the_memo_was_written_for():
    pinned = re.search(r"^PyJWT\[crypto\]==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert pinned and pinned.group(1) == jws_parse.PYJWT_VERSION, (
        "PyJWT's pin changed: re-check PyJWS._load (a private API) and jws_parse.py, "
        "then update PYJWT_VERSION"
    )
    assert pyjwt.__version__ == jws_parse.PYJWT_VERSION


def test_the_private_parse_still_has_the_signature_and_result_the_memo_relies_on():
    original = jws_parse._original_load
    assert list(inspect.signature(original).parameters) == ["self", "jwt"]
    token = mint(sub="shape", kid="k1")
    payload, signing_input, header, signature = original(PyJWS(), token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert signing_input == token.rsplit(".", 1)[0].encode()
    assert pyjwt.utils.base64url_encode(signature) == token.rsplit(".", 1)[1].encode()
    assert b'"sub":"shape"' in payload.replace(b" ", b"")
    # Every decode and get_unverified_header goes through _load: the memo sees all four parses.
    calls = []
    jws_parse.uninstall()
    try:
        PyJWS._load = lambda self, jwt: calls.append(jwt) or original(self, jwt)
        pyjwt.decode(token, options={"verify_signature": False})
        pyjwt.get_unverified_header(token)
        pyjwt.decode(token, SECRET, algorithms=["HS256"])
        assert calls == [token, token, token]
    finally:
        jws_parse.install()


def varied_tokens():
    good = mint(sub="varied")
    head, body, sig = good.split(".")
    return [
        good,
        good.encode(),
        mint(sub="with-kid", headers={"kid": "abc", "x5c": ["AAAA"]}),
        f"{head}.{body}.{sig}==",  # padding: refused since GHSA-hxm8-2xgr-2p9m
        f"{head}.{body}!!.{sig}",
        f"{head}.{body}",
        "not-a-token",
        f"{base64.urlsafe_b64encode(b'[1,2]').decode().rstrip('=')}.{body}.{sig}",
        f"{head}.{body}.{sig}\u00e9",
    ]


@pytest.mark.parametrize("token", varied_tokens())
def test_memoised_parse_equals_pyjwts_own_including_errors(token):
    jws_parse.install()
    for _ in range(2):  # a miss, then a hit
        try:
            expected = jws_parse._original_load(PyJWS(), token)
        except DecodeError as exc:
            with pytest.raises(DecodeError, match=re.escape(str(exc))):
                PyJWS._load(PyJWS(), token)
            continue
        assert PyJWS._load(PyJWS(), token) == expected


def test_a_caller_changing_the_header_does_not_change_the_next_parse():
    token = mint(sub="mutable", headers={"kid": "k", "crit_list": ["a"]})
    first = pyjwt.get_unverified_header(token)
    first["alg"] = "none"
    first["crit_list"].append("b")
    assert pyjwt.get_unverified_header(token) == {
        "alg": "HS256", "typ": "JWT", "kid": "k", "crit_list": ["a"]
    }


def test_a_forged_signature_is_parsed_afresh_and_still_refused():
    jws_parse.install()
    token = mint(sub="victim")
    assert pyjwt.decode(token, SECRET, algorithms=["HS256"])["sub"] == "victim"
    head, body, _ = token.split(".")
    forged = f"{head}.{body}.{mint(sub='victim', secret='x' * 48).split('.')[2]}"
    with pytest.raises(InvalidSignatureError):
        pyjwt.decode(forged, SECRET, algorithms=["HS256"])
    # The same bytes verified against another key: verification is never memoised.
    with pytest.raises(InvalidSignatureError):
        pyjwt.decode(token, "y" * 48, algorithms=["HS256"])


def test_a_protected_request_parses_its_token_once(client, monkeypatch):
    assert jws_parse.installed()
    jws_parse._parse.cache_clear()
    parses = []
    original = jws_parse._original_load
    monkeypatch.setattr(
        jws_parse, "_original_load", lambda self, jwt: parses.append(jwt) or original(self, jwt)
    )
    token = mint(sub="once")
    response = client.get("/api/protected", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["user_id"] == "once"
    assert parses == [token.encode()]
