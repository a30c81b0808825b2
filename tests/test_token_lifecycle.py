"""Refresh rotation, reuse detection and signout, as a frontend would live through them."""

import threading
from datetime import UTC, datetime

import jwt as pyjwt
import pytest
from sqlalchemy import select

from ironmind_api.auth.models import RevokedToken, TokenFamily, User
from tests.conftest import bearer, mint


def refresh(client, refresh_token):
    return client.post("/api/auth/refresh", json={"refresh_token": refresh_token})


def protected(client, token):
    return client.get("/api/protected", headers=bearer(token))


def signout(client, token, refresh_token=None):
    body = {} if refresh_token is None else {"refresh_token": refresh_token}
    return client.post("/api/auth/signout", json=body, headers=bearer(token))


def assert_revoked(response):
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["error"] == "token_revoked"
    assert 'error_description="token_revoked"' in response.headers["WWW-Authenticate"]


@pytest.fixture
def session(user, signin):
    return signin()


@pytest.fixture
def no_grace(app):
    previous = app.config["REFRESH_REUSE_GRACE"]
    app.config["REFRESH_REUSE_GRACE"] = 0
    yield
    app.config["REFRESH_REUSE_GRACE"] = previous


def test_issued_tokens_carry_the_contract_claims_and_one_family(session):
    access = pyjwt.decode(session["token"], options={"verify_signature": False})
    refresh_claims = pyjwt.decode(session["refresh_token"], options={"verify_signature": False})
    for claims in (access, refresh_claims):
        assert {"sub", "iat", "nbf", "exp", "jti", "fam"} <= claims.keys()
    assert access["type"] == "access" and refresh_claims["type"] == "refresh"
    assert access["fam"] == refresh_claims["fam"]


def test_refresh_rotates_to_a_new_pair_of_the_same_session(client, session):
    response = refresh(client, session["refresh_token"])
    assert response.status_code == 200
    pair = response.get_json()
    assert pair["token_type"] == "Bearer" and pair["user"]["email"] == "ada@example.com"
    assert pair["refresh_token"] != session["refresh_token"]
    old = pyjwt.decode(session["refresh_token"], options={"verify_signature": False})
    new = pyjwt.decode(pair["refresh_token"], options={"verify_signature": False})
    assert new["fam"] == old["fam"] and new["jti"] != old["jti"]
    assert protected(client, pair["token"]).status_code == 200
    assert refresh(client, pair["refresh_token"]).status_code == 200


def test_spent_refresh_token_is_revoked_and_kills_the_whole_family(client, session, no_grace):
    rotated = refresh(client, session["refresh_token"]).get_json()
    assert_revoked(refresh(client, session["refresh_token"]))
    # Everything of the family is dead: the newest refresh token and every access token.
    assert_revoked(refresh(client, rotated["refresh_token"]))
    assert_revoked(protected(client, rotated["token"]))
    assert_revoked(protected(client, session["token"]))


def test_reuse_detection_leaves_other_sessions_alone(client, session, signin, no_grace):
    laptop = signin()
    refresh(client, session["refresh_token"])
    assert_revoked(refresh(client, session["refresh_token"]))
    assert protected(client, laptop["token"]).status_code == 200
    assert refresh(client, laptop["refresh_token"]).status_code == 200


def test_two_tabs_refreshing_at_once_stay_signed_in_within_the_grace(client, session):
    first = refresh(client, session["refresh_token"]).get_json()
    second = refresh(client, session["refresh_token"])
    assert second.status_code == 200
    second = second.get_json()
    # The late tab gets the session's current refresh token, so the family never forks.
    first_claims = pyjwt.decode(first["refresh_token"], options={"verify_signature": False})
    second_claims = pyjwt.decode(second["refresh_token"], options={"verify_signature": False})
    assert second_claims["jti"] == first_claims["jti"]
    assert protected(client, second["token"]).status_code == 200
    assert refresh(client, second["refresh_token"]).status_code == 200


def test_grace_covers_only_the_token_replaced_last(client, session):
    refresh(client, session["refresh_token"])  # generation 1 -> 2
    latest = refresh(client, session["refresh_token"]).get_json()  # grace: gets generation 2
    refresh(client, latest["refresh_token"])  # generation 2 -> 3
    # Generation 1 is two rotations old: a replay, not a concurrent tab.
    assert_revoked(refresh(client, session["refresh_token"]))


def test_grace_expires(client, session, db, app):
    refresh(client, session["refresh_token"])
    family = db.session.scalar(select(TokenFamily))
    family.rotated_at = family.rotated_at.replace(year=2000)
    db.session.commit()
    assert_revoked(refresh(client, session["refresh_token"]))


def test_refresh_after_signout_is_revoked(client, session):
    assert signout(client, session["token"]).status_code == 200
    assert_revoked(refresh(client, session["refresh_token"]))


def test_signout_revokes_the_access_token_and_its_refresh_family(client, session):
    assert protected(client, session["token"]).status_code == 200
    response = signout(client, session["token"], session["refresh_token"])
    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert_revoked(protected(client, session["token"]))
    assert_revoked(refresh(client, session["refresh_token"]))
    assert_revoked(signout(client, session["token"]))


def test_signout_leaves_other_sessions_signed_in(client, session, signin):
    phone = signin()
    signout(client, session["token"])
    assert protected(client, phone["token"]).status_code == 200
    assert refresh(client, phone["refresh_token"]).status_code == 200


def test_signout_with_a_refresh_token_of_another_user_is_refused(client, session, signup, signin):
    signup(email="bob@example.com")
    bob = signin(email="bob@example.com")
    response = signout(client, session["token"], bob["refresh_token"])
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert refresh(client, bob["refresh_token"]).status_code == 200
    assert protected(client, session["token"]).status_code == 200


def test_foreign_tokens_without_jti_keep_working(client, user):
    token = mint(sub=user["id"])
    assert "jti" not in pyjwt.decode(token, options={"verify_signature": False})
    for _ in range(2):
        response = protected(client, token)
        assert response.status_code == 200
        assert response.get_json()["user_id"] == user["id"]


def test_signout_with_a_foreign_token_revokes_only_that_token(client, user):
    token, other = mint(sub=user["id"]), mint(sub=user["id"], iat=1)
    assert signout(client, token).status_code == 200
    assert_revoked(protected(client, token))
    assert protected(client, other).status_code == 200


def test_revocation_holds_in_another_process_and_after_a_restart(make_app, client, session):
    signout(client, session["token"])
    restarted = make_app().test_client()
    assert_revoked(protected(restarted, session["token"]))
    assert_revoked(refresh(restarted, session["refresh_token"]))


def test_revocation_is_stored_as_rows_that_expire_with_the_tokens(client, session, db):
    signout(client, session["token"])
    keys = set(db.session.scalars(select(RevokedToken.key)))
    access = pyjwt.decode(session["token"], options={"verify_signature": False})
    assert keys == {access["jti"], f"fam:{access['fam']}"}
    assert db.session.get(TokenFamily, access["fam"]).revoked_at is not None


def test_expired_revocations_are_purged_on_signout(client, session, signin, db):
    db.session.add(RevokedToken(key="stale", expires_at=datetime(2000, 1, 1, tzinfo=UTC)))
    db.session.commit()
    signout(client, signin()["token"])
    assert db.session.get(RevokedToken, "stale") is None


def test_deleting_a_user_ends_their_sessions(client, session, db):
    db.session.delete(db.session.get(User, session["user"]["id"]))
    db.session.commit()
    assert_revoked(refresh(client, session["refresh_token"]))


def test_concurrent_refreshes_of_one_token_never_fork_the_session(app, client, session):
    barrier, results = threading.Barrier(4), []

    def exchange():
        barrier.wait()
        results.append(refresh(app.test_client(), session["refresh_token"]))

    threads = [threading.Thread(target=exchange) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [r.status_code for r in results] == [200] * 4
    jtis = {
        pyjwt.decode(r.get_json()["refresh_token"], options={"verify_signature": False})["jti"]
        for r in results
    }
    assert len(jtis) == 1  # one current refresh token: everyone else got it within the grace


def test_a_foreign_tokens_revocation_key_is_the_one_written_before_issue_17():
    # Computed by c63b1bc's token_key from what flask-jwt-extended's decode returned for this
    # frontend token: a revocation written then must still be found now.
    from ironmind_api.auth.revocation import token_key

    claims = {"sub": "better-auth-user-1", "iat": 1764000000, "exp": 1764000900}
    assert token_key(claims) == (
        "sha256:e1c7de5aed8e6ab0878a475b66ba79ff6b562f79ddb0fbd9a349830a2444afa9"
    )
