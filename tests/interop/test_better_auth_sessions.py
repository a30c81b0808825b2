"""Session-bound frontend tokens against a real Better Auth on PostgreSQL (jwt + admin plugins).

Each scenario runs in both token modes: the token exchange's HS256 token (shared secret) and
the jwt plugin's EdDSA token (JWKS). Both carry the Better Auth session id as ``sid``.
"""

import time
import uuid

import jwt as pyjwt
import pytest
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine

from tests import services
from tests.conftest import bearer, require_service
from tests.pgbouncer import PgBouncer

from .conftest import free_port, mint_exchange

pytestmark = pytest.mark.interop

MODES = ["exchange", "jwt"]
LAG = 1.0  # s: the longest a sign-out, revocation, ban or role change may take to be seen
POLL_FOR = 3.0  # s: how long a poll waits for the change before the test fails
POLL_MAX = 20000  # requests: the poll's bound in count


def token_of(signed_in, mode):
    return signed_in["exchange"] if mode == "exchange" else signed_in["token"]


def seen_after(answer, expected, bound=POLL_FOR):
    """Seconds from now until ``answer()`` returns ``expected``, and the last answer seen.

    The time is taken when the request that first answered ``expected`` was sent.
    """
    started = time.monotonic()
    result = None
    for _ in range(POLL_MAX):
        sent = time.monotonic() - started
        if sent > bound:
            break
        result = answer()
        if result[0] == expected:
            return sent, result
    raise AssertionError(f"still {result} after {bound} s, expected {expected}")


def status(client, token):
    def answer():
        response = client.get("/api/protected", headers=bearer(token))
        return response.status_code, response.get_json(), response.headers

    return answer


@pytest.fixture
def session_api(api, better_auth_pg, better_auth_db_proxy):
    """An app checking sessions in the Better Auth database, through the proxy."""

    def build(**overrides):
        settings = {"BETTER_AUTH_DATABASE_URL": better_auth_db_proxy.url, **overrides}
        return api(better_auth_pg, **settings)

    return build


@pytest.fixture
def sign_in(better_auth_pg):
    def user(email=None):
        return better_auth_pg.sign_in(email or f"{uuid.uuid4().hex[:12]}@example.com")

    return user


@pytest.mark.parametrize("mode", MODES)
def test_token_of_a_live_session_is_accepted(session_api, sign_in, mode):
    signed_in = sign_in()
    token = token_of(signed_in, mode)

    response = session_api().get("/api/protected", headers=bearer(token))

    assert pyjwt.decode(token, options={"verify_signature": False})["sid"] == (
        signed_in["session"]["id"]
    )
    assert response.status_code == 200
    assert response.get_json()["user_id"] == signed_in["user"]["id"]


@pytest.mark.parametrize("mode", MODES)
def test_sign_out_is_seen_within_a_second(session_api, better_auth_pg, sign_in, mode):
    client, signed_in = session_api(), sign_in()
    token = token_of(signed_in, mode)
    assert status(client, token)()[0] == 200

    better_auth_pg.sign_out(signed_in)
    lag, (_, body, headers) = seen_after(status(client, token), 401)

    assert lag < LAG
    assert body["error"] == "token_revoked"
    assert body["message"] == "The session has ended; sign in again."
    assert 'error_description="token_revoked"' in headers["WWW-Authenticate"]


@pytest.mark.parametrize("mode", MODES)
def test_revoked_sessions_are_seen_within_a_second(session_api, better_auth_pg, sign_in, mode):
    client = session_api()
    first = sign_in()
    second = sign_in(first["user"]["email"])
    other = sign_in()
    tokens_ = [token_of(first, mode), token_of(second, mode)]
    assert [status(client, token)()[0] for token in tokens_] == [200, 200]

    better_auth_pg.admin("revoke-sessions", first["user"]["id"])
    lags = [seen_after(status(client, token), 401)[0] for token in tokens_]

    assert max(lags) < LAG
    assert status(client, tokens_[0])()[1]["error"] == "token_revoked"
    assert status(client, token_of(other, mode))()[0] == 200


@pytest.mark.parametrize("mode", MODES)
def test_ban_is_seen_within_a_second_and_unban_lets_the_user_back(
    session_api, better_auth_pg, sign_in, mode
):
    client, signed_in = session_api(), sign_in()
    token, user_id = token_of(signed_in, mode), signed_in["user"]["id"]
    assert status(client, token)()[0] == 200

    better_auth_pg.admin("ban", user_id)
    banned_lag, (_, banned, _) = seen_after(status(client, token), 403)
    better_auth_pg.admin("unban", user_id)
    unbanned_lag, (_, unbanned, _) = seen_after(status(client, token), 401)
    again = sign_in(signed_in["user"]["email"])

    assert banned_lag < LAG
    assert banned == {
        "error": "account_disabled",
        "message": "The account is disabled.",
        "request_id": banned["request_id"],
    }
    # The ban ended every session the user had: the old token stays refused, as signed out.
    assert unbanned_lag < LAG
    assert unbanned["error"] == "token_revoked"
    assert status(client, token_of(again, mode))()[0] == 200


@pytest.mark.parametrize("mode", MODES)
def test_ban_that_has_expired_does_not_refuse(session_api, better_auth_pg, sign_in, mode):
    client, signed_in = session_api(), sign_in()
    better_auth_pg.admin("ban", signed_in["user"]["id"], banExpiresIn=1)
    assert status(client, token_of(signed_in, mode))()[0] == 403
    time.sleep(1.1)

    # Better Auth lifts an expired ban at the next sign-in; the API reads banExpires itself.
    response = status(client, token_of(sign_in(signed_in["user"]["email"]), mode))()

    assert response[0] == 200


@pytest.mark.parametrize("mode", MODES)
def test_role_change_is_seen_within_a_second(session_api, better_auth_pg, sign_in, mode):
    client, signed_in = session_api(), sign_in()
    token = token_of(signed_in, mode)

    def admin_list():
        response = client.get("/api/admin/users", headers=bearer(token))
        return response.status_code, response.get_json(), response.headers

    before = admin_list()
    better_auth_pg.admin("set-role", signed_in["user"]["id"], role="admin")
    promoted_lag, _ = seen_after(admin_list, 200)
    better_auth_pg.admin("set-role", signed_in["user"]["id"], role="user")
    demoted_lag, (_, demoted, _) = seen_after(admin_list, 403)

    # The token's own role claim still says "user" throughout: the session's user row decides.
    assert pyjwt.decode(token, options={"verify_signature": False}).get("role", "user") == "user"
    assert before[0] == 403 and before[1]["error"] == "forbidden"
    assert promoted_lag < LAG
    assert demoted_lag < LAG
    assert demoted["error"] == "forbidden"


@pytest.mark.parametrize("mode", MODES)
def test_session_past_its_expiry_is_refused(
    session_api, better_auth_database, sign_in, mode
):
    client, signed_in = session_api(), sign_in()
    token = token_of(signed_in, mode)
    assert status(client, token)()[0] == 200
    # Time passing, in one step: the row Better Auth wrote now expires in the past.
    engine = create_engine(make_url(better_auth_database).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.execute(
            text('UPDATE "session" SET "expiresAt" = now() - interval \'1 second\' WHERE id = :id'),
            {"id": signed_in["session"]["id"]},
        )
    engine.dispose()

    lag, (_, body, _) = seen_after(status(client, token), 401)

    assert lag < LAG
    assert body["error"] == "token_revoked"


def test_session_of_another_user_is_refused(session_api, sign_in):
    ada, bob = sign_in(), sign_in()
    borrowed = mint_exchange(ada["user"]["id"], "--sid", bob["session"]["id"])

    response = session_api().get("/api/protected", headers=bearer(borrowed))

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert "sid" in response.get_json()["message"]


def test_required_session_refuses_frontend_tokens_without_sid(session_api, sign_in, signup, signin):
    strict, lenient = session_api(BETTER_AUTH_REQUIRE_SESSION=True), session_api()
    signed_in = sign_in()
    without_sid = bearer(mint_exchange(signed_in["user"]["id"]))
    signup()
    own = bearer(signin()["token"])

    refused = strict.get("/api/protected", headers=without_sid)

    assert refused.status_code == 401
    assert refused.get_json()["error"] == "invalid_token"
    assert "(sid)" in refused.get_json()["message"]
    assert strict.get("/api/protected", headers=bearer(signed_in["exchange"])).status_code == 200
    assert strict.get("/api/protected", headers=bearer(signed_in["token"])).status_code == 200
    assert strict.get("/api/auth/me", headers=own).status_code == 200
    assert lenient.get("/api/protected", headers=without_sid).status_code == 200


@pytest.mark.parametrize("mode", MODES)
def test_database_outage_is_503_then_recovers(
    session_api, better_auth_db_proxy, sign_in, signup, signin, mode
):
    client, signed_in = session_api(), sign_in()
    token = token_of(signed_in, mode)
    assert status(client, token)()[0] == 200

    better_auth_db_proxy.down()
    _, (_, body, headers) = seen_after(status(client, token), 503)
    started = time.monotonic()
    refused_again = status(client, token)()
    refused_in = time.monotonic() - started
    signup()
    own = client.get("/api/auth/me", headers=bearer(signin()["token"]))
    without_sid = client.get(
        "/api/protected", headers=bearer(mint_exchange(signed_in["user"]["id"]))
    )
    better_auth_db_proxy.up()
    recovered_in, (_, recovered, _) = seen_after(status(client, token), 200)

    assert body["error"] == "service_unavailable"
    assert headers["Retry-After"] == "1"
    assert refused_again[0] == 503
    assert refused_in < 1
    assert own.status_code == 200
    assert without_sid.status_code == 200
    assert recovered_in < 1
    assert recovered["user_id"] == signed_in["user"]["id"]


@pytest.mark.parametrize("mode", MODES)
def test_a_session_costs_at_most_one_query_per_second(session_api, sign_in, mode):
    client, signed_in = session_api(), sign_in()
    token = token_of(signed_in, mode)
    queries = []

    def count(conn, cursor, statement, *args):
        if '"session"' in statement:
            queries.append(time.monotonic())

    event.listen(Engine, "before_cursor_execute", count)
    try:
        started, answers = time.monotonic(), []
        while time.monotonic() - started < 2.5 and len(answers) < 5000:
            answers.append(status(client, token)()[0])
        elapsed = time.monotonic() - started
    finally:
        event.remove(Engine, "before_cursor_execute", count)

    assert set(answers) == {200}
    assert len(answers) > 20
    # The first request asks; the answer is then reused for a second, then asked again.
    assert 2 <= len(queries) <= int(elapsed) + 1
    # A second from the start of one check (before its connection is taken from the pool) to
    # the next: the statements themselves may be a few milliseconds closer.
    assert all(later - earlier > 0.95 for earlier, later in zip(queries, queries[1:], strict=False))


@pytest.fixture
def better_auth_pooled(better_auth_database):
    """The Better Auth database behind Debian's pgbouncer in transaction pooling: the pooled
    connection string hosted PostgreSQL gives frontends (no session state, no startup options,
    no server-side prepared statements across transactions)."""
    require_service(services.pgbouncer_reason(services.pgbouncer_binary() is not None))
    pgbouncer = PgBouncer(better_auth_database, free_port(), pool_size=2).start()
    try:
        yield make_url(pgbouncer.url).set(drivername="postgresql").render_as_string(False)
    finally:
        pgbouncer.stop()


@pytest.mark.parametrize("mode", MODES)
def test_a_pooled_connection_string_works_as_is(
    session_api, better_auth_pooled, better_auth_pg, sign_in, mode
):
    client = session_api(BETTER_AUTH_DATABASE_URL=better_auth_pooled)
    # More checks than psycopg's prepare threshold (5) on the pool's few connections.
    signed_in = [sign_in() for _ in range(8)]
    answers = [status(client, token_of(user, mode))()[0] for user in signed_in]

    better_auth_pg.sign_out(signed_in[0])
    lag, (_, body, _) = seen_after(status(client, token_of(signed_in[0], mode)), 401)

    assert answers == [200] * 8
    assert lag < LAG
    assert body["error"] == "token_revoked"
