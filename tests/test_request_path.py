"""The request path's shortcuts keep every check: HMAC secrets are still refused when they are
asymmetric keys, tokens still verified every time, and Flask still refuses async code it
cannot run (its ensure_sync answer is only kept for plain functions)."""

import jwt as pyjwt
import pytest
from jwt.exceptions import InvalidKeyError, InvalidSignatureError

from ironmind_api import hmac_keys
from tests.conftest import SECRET, bearer, mint

PEM_KEY = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n"


def test_the_app_verifies_hmac_tokens_with_the_checked_once_algorithm(client):
    for name in hmac_keys.HASHES:
        assert isinstance(pyjwt.get_algorithm_by_name(name), hmac_keys.CheckedOnceHMAC)

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


def test_a_key_that_is_neither_text_nor_bytes_is_still_a_type_error(client):
    token = pyjwt.encode({"sub": "x"}, SECRET, algorithm="HS256")
    with pytest.raises(TypeError):
        pyjwt.decode(token, 12345, algorithms=["HS256"])


def test_plain_hooks_are_returned_as_is_and_async_ones_still_go_through_flask(app):
    def plain():
        return None

    async def coroutine():
        return None

    assert app.ensure_sync(plain) is plain
    assert app.ensure_sync(plain) is plain  # the kept answer
    # Flask's own async path: without asgiref installed it refuses, as plain Flask does.
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(coroutine)
    assert coroutine not in app._sync_functions
