"""Roles (the token's `role` claim, an account's `role`), the admin routes and their audit
lines, and disabled accounts."""

import time

import jwt as pyjwt
import pytest
from sqlalchemy import select

from ironmind_api.auth.models import TokenFamily, User
from tests.conftest import SECRET, bearer, mint

PASSWORD = "correct horse battery"
ADMIN_USERS = "/api/admin/users"


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def make_account(runner):
    """An account made by `flask users create`, as an operator makes an admin."""

    def create(email, role="user", name=None):
        args = ["users", "create", email, "--password", PASSWORD, "--role", role]
        result = runner.invoke(args=args + (["--name", name] if name else []))
        assert result.exit_code == 0, result.output
        return result

    return create


@pytest.fixture
def admin_headers(make_account, signin):
    make_account("root@example.com", role="admin")
    return bearer(signin("root@example.com", PASSWORD)["token"])


def claims_of(token):
    return pyjwt.decode(token, SECRET, algorithms=["HS256"])


def error_of(response):
    return response.status_code, (response.get_json() or {}).get("error")


def account_id(db, email):
    return db.session.scalar(select(User.id).where(User.email == email))


def audit_lines(lines):
    return [line for line in lines if line.get("message") == "admin_action"]


# -- the role claim ------------------------------------------------------------------------


def test_an_account_signs_in_with_its_role_in_the_access_token(make_account, signin):
    make_account("root@example.com", role="admin")
    make_account("ada@example.com")

    assert claims_of(signin("root@example.com")["token"])["role"] == "admin"
    assert claims_of(signin("ada@example.com")["token"])["role"] == "user"


def test_a_signed_up_account_is_a_user_and_may_not_call_admin_routes(client, auth_headers):
    response = client.get(ADMIN_USERS, headers=auth_headers)

    assert response.status_code == 403
    body = response.get_json()
    assert body["error"] == "forbidden"
    assert body["message"] == "This needs the admin role."
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "fields" not in body


def test_admin_routes_without_a_token_are_401(client):
    response = client.get(ADMIN_USERS)

    assert error_of(response) == (401, "missing_token")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="ironmind"'


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("user,admin", 200),  # Better Auth's admin plugin: several roles in one string
        ("user, admin", 200),
        ("user", 403),
        ("administrator", 403),
        ("admin,", 200),
        ("", 403),
        (None, 403),  # no role claim at all
    ],
)
def test_a_frontend_tokens_role_claim_is_a_set_of_roles(client, role, status):
    response = client.get(ADMIN_USERS, headers=bearer(mint(sub="ba-admin", role=role)))

    assert response.status_code == status, response.get_json()


@pytest.mark.parametrize("role", [["admin"], 1, True, {"admin": True}, "admin\x00", "a" * 256])
def test_a_role_claim_that_is_not_a_usable_string_refuses_the_token(client, role):
    response = client.get("/api/protected", headers=bearer(mint(sub="ba-1", role=role)))

    assert error_of(response) == (401, "invalid_token")
    assert response.get_json()["message"] == "The access token's claims are not acceptable."


def test_a_null_role_claim_refuses_the_token(client):
    # JSON null is not a string: a frontend with no role for a user leaves the claim out.
    now = int(time.time())
    token = pyjwt.encode({"sub": "ba-1", "iat": now, "exp": now + 900, "role": None}, SECRET)

    response = client.get("/api/protected", headers=bearer(token))

    assert error_of(response) == (401, "invalid_token")


def test_a_role_change_applies_to_tokens_issued_after_it(client, runner, make_account, signin):
    make_account("ada@example.com")
    before = signin("ada@example.com")

    result = runner.invoke(args=["users", "set-role", "ADA@example.com", "admin"])

    assert result.exit_code == 0, result.output
    assert "now has the role admin" in result.output
    assert client.get(ADMIN_USERS, headers=bearer(before["token"])).status_code == 403
    refreshed = client.post("/api/auth/refresh", json={"refresh_token": before["refresh_token"]})
    assert client.get(ADMIN_USERS, headers=bearer(refreshed.get_json()["token"])).status_code == 200
    after = signin("ada@example.com")
    assert client.get(ADMIN_USERS, headers=bearer(after["token"])).status_code == 200


# -- GET /api/admin/users -----------------------------------------------------------------


def test_the_list_pages_through_every_account_newest_first(client, admin_headers, signup):
    for name in ("a", "b", "c", "d"):
        signup(email=f"{name}@example.com", name=name)
    client.get("/api/protected", headers=bearer(mint(sub="ba-grace")))
    client.get("/api/auth/me", headers=bearer(mint(sub="ba-grace", email="grace@example.com")))

    seen, url, pages = [], f"{ADMIN_USERS}?limit=2", 0
    while url:
        response = client.get(url, headers=admin_headers)
        assert response.status_code == 200, response.get_json()
        seen += response.get_json()
        pages += 1
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
        if link:
            assert link.startswith(f"<{ADMIN_USERS}?") and link.endswith('>; rel="next"')

    assert pages == 3
    emails = [account["email"] for account in seen]
    assert emails == [
        "grace@example.com", "d@example.com", "c@example.com", "b@example.com", "a@example.com",
        "root@example.com",
    ]
    assert [account["created_at"] for account in seen] == sorted(
        (account["created_at"] for account in seen), reverse=True
    )


def test_each_account_shows_its_role_state_task_count_and_last_activity(
    client, db, admin_headers, signup, signin
):
    signup(email="ada@example.com", name="Ada")
    signup(email="idle@example.com", name="Idle")
    ada = signin("ada@example.com")
    headers = bearer(ada["token"])
    for title in ("one", "two"):
        assert client.post("/api/tasks", json={"title": title}, headers=headers).status_code == 201
    client.post("/api/tasks", json={"title": "grace's"}, headers=bearer(mint(sub="ba-grace")))
    refreshed = client.post("/api/auth/refresh", json={"refresh_token": ada["refresh_token"]})
    assert refreshed.status_code == 200

    listed = client.get(ADMIN_USERS, headers=admin_headers).get_json()
    accounts = {account["email"] or account["id"]: account for account in listed}

    ada_id = account_id(db, "ada@example.com")
    rotated_at = db.session.scalar(
        select(TokenFamily.rotated_at).where(TokenFamily.user_id == ada_id)
    )
    assert accounts["ada@example.com"] == {
        "id": ada_id,
        "email": "ada@example.com",
        "name": "Ada",
        "role": "user",
        "disabled": False,
        "created_at": accounts["ada@example.com"]["created_at"],
        "task_count": 2,
        # The refresh came after both task writes: it is the latest activity.
        "last_activity": rotated_at.isoformat(),
    }
    assert accounts["idle@example.com"]["task_count"] == 0
    assert accounts["idle@example.com"]["last_activity"] is None
    grace = accounts["ba-grace"]
    task = client.get("/api/tasks", headers=bearer(mint(sub="ba-grace"))).get_json()[0]
    assert (grace["role"], grace["task_count"]) == (None, 1)
    assert grace["last_activity"] == task["updatedAt"]
    assert accounts["root@example.com"]["role"] == "admin"


def test_a_task_write_after_the_signin_is_the_last_activity(client, admin_headers, signup, signin):
    signup(email="ada@example.com")
    headers = bearer(signin("ada@example.com")["token"])
    task = client.post("/api/tasks", json={"title": "one"}, headers=headers).get_json()
    task = client.patch(f"/api/tasks/{task['id']}", json={"completed": True}, headers=headers)

    accounts = client.get(ADMIN_USERS, headers=admin_headers).get_json()
    (ada,) = [account for account in accounts if account["email"] == "ada@example.com"]

    assert ada["last_activity"] == task.get_json()["updatedAt"]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=x", "cursor=not-a-cursor", "cursor="]
)
def test_a_bad_query_is_400(client, admin_headers, query):
    response = client.get(f"{ADMIN_USERS}?{query}", headers=admin_headers)

    assert error_of(response) == (400, "bad_request")


def test_a_task_cursor_is_not_an_account_cursor(client, admin_headers, auth_headers):
    for title in ("one", "two"):
        client.post("/api/tasks", json={"title": title}, headers=auth_headers)
    link = client.get("/api/tasks?limit=1", headers=auth_headers).headers["Link"]
    cursor = link[link.index("cursor=") + 7 : link.index(">")]

    response = client.get(f"{ADMIN_USERS}?cursor={cursor}", headers=admin_headers)

    assert error_of(response) == (400, "bad_request")


# -- admin actions -------------------------------------------------------------------------


def test_revoke_sessions_ends_the_accounts_tokens_and_is_audited(
    client, db, admin_headers, signup, signin, log_lines
):
    signup(email="ada@example.com")
    ada = signin("ada@example.com")
    ada_id = account_id(db, "ada@example.com")

    response = client.post(f"{ADMIN_USERS}/{ada_id}/revoke-sessions", headers=admin_headers)

    assert response.status_code == 200
    assert response.get_json() == {"revoked": 1}
    assert error_of(client.get("/api/protected", headers=bearer(ada["token"]))) == (
        401, "token_revoked"
    )
    refresh = client.post("/api/auth/refresh", json={"refresh_token": ada["refresh_token"]})
    assert error_of(refresh) == (401, "token_revoked")
    (line,) = audit_lines(log_lines())
    assert line["logger"] == "ironmind_api.audit"
    assert line["action"] == "revoke_sessions"
    assert line["actor_id"] == account_id(db, "root@example.com")
    assert line["target_id"] == ada_id
    assert line["sessions"] == 1
    assert line["request_id"] == response.headers["X-Request-ID"]


def test_a_better_auth_admin_is_audited_under_its_namespaced_id(
    client, db, signup, signin, log_lines
):
    signup(email="ada@example.com")
    ada_id = account_id(db, "ada@example.com")

    response = client.post(
        f"{ADMIN_USERS}/{ada_id}/revoke-sessions",
        headers=bearer(mint(sub="ba-boss", role="user,admin")),
    )

    assert response.status_code == 200
    (line,) = audit_lines(log_lines())
    assert (line["actor_id"], line["target_id"]) == ("ba:ba-boss", ada_id)
    assert line["user_id"] == "ba-boss"


def test_disable_and_enable_through_the_admin_routes(
    client, db, admin_headers, signup, signin, log_lines
):
    signup(email="ada@example.com")
    ada = signin("ada@example.com")
    ada_id = account_id(db, "ada@example.com")

    disabled = client.post(f"{ADMIN_USERS}/{ada_id}/disable", headers=admin_headers)

    assert disabled.status_code == 200
    assert disabled.get_json()["disabled"] is True
    assert error_of(client.get("/api/protected", headers=bearer(ada["token"]))) == (
        401, "token_revoked"
    )
    credentials = {"email": "ada@example.com", "password": PASSWORD}
    assert error_of(client.post("/api/auth/signin", json=credentials)) == (
        403, "account_disabled"
    )

    enabled = client.post(f"{ADMIN_USERS}/{ada_id}/enable", headers=admin_headers)

    assert enabled.status_code == 200
    assert enabled.get_json()["disabled"] is False
    assert client.post("/api/auth/signin", json=credentials).status_code == 200
    actions = [(line["action"], line["target_id"]) for line in audit_lines(log_lines())]
    assert actions == [("disable", ada_id), ("enable", ada_id)]


@pytest.mark.parametrize("action", ["revoke-sessions", "disable", "enable"])
@pytest.mark.parametrize("user_id", ["0" * 32, "ba-grace", "ba:ba-grace", "x" * 300, "%00"])
def test_an_action_on_an_id_that_is_no_account_of_this_api_is_404(
    client, admin_headers, action, user_id, log_lines
):
    # ba-grace is a Better Auth user the API has seen: their sessions are Better Auth's.
    client.get("/api/auth/me", headers=bearer(mint(sub="ba-grace")))

    response = client.post(f"{ADMIN_USERS}/{user_id}/{action}", headers=admin_headers)

    assert error_of(response) == (404, "not_found")
    assert audit_lines(log_lines()) == []


@pytest.mark.parametrize("action", ["revoke-sessions", "disable", "enable"])
def test_an_admin_may_not_act_on_their_own_account(client, db, admin_headers, action, log_lines):
    root_id = account_id(db, "root@example.com")

    response = client.post(f"{ADMIN_USERS}/{root_id}/{action}", headers=admin_headers)

    assert error_of(response) == (403, "forbidden")
    assert response.get_json()["message"] == (
        "An admin action cannot target the caller's own account."
    )
    assert client.get(ADMIN_USERS, headers=admin_headers).status_code == 200
    assert audit_lines(log_lines()) == []


@pytest.mark.parametrize("action", ["revoke-sessions", "disable", "enable"])
def test_a_user_may_not_act_on_another_account(client, db, signup, signin, action, log_lines):
    signup(email="ada@example.com")
    ada = signin("ada@example.com")
    signup(email="bob@example.com")
    bob = bearer(signin("bob@example.com")["token"])

    response = client.post(
        f"{ADMIN_USERS}/{account_id(db, 'ada@example.com')}/{action}", headers=bob
    )

    assert error_of(response) == (403, "forbidden")
    assert client.get("/api/protected", headers=bearer(ada["token"])).status_code == 200
    assert audit_lines(log_lines()) == []


def test_the_admin_routes_are_documented_with_their_errors(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]

    listing = paths[ADMIN_USERS]["get"]
    action = paths[ADMIN_USERS + "/{user_id}/revoke-sessions"]["post"]
    assert {"200", "400", "401", "403"} <= set(listing["responses"])
    assert "Link" in listing["responses"]["200"]["headers"]
    assert {"200", "401", "403", "404"} <= set(action["responses"])
    assert action["security"] == [{"bearerAuth": []}]
    assert {"403"} <= set(paths["/api/auth/signin"]["post"]["responses"])


# -- disabled accounts ----------------------------------------------------------------------


def test_a_disabled_account_with_a_wrong_password_looks_like_any_failed_signin(
    client, runner, user
):
    runner.invoke(args=["users", "disable", "ada@example.com"])
    wrong = {"email": "ada@example.com", "password": "not the password"}
    unknown = {"email": "nobody@example.com", "password": "not the password"}

    answers = [client.post("/api/auth/signin", json=body) for body in (wrong, unknown)]

    assert [error_of(answer) for answer in answers] == [(401, "invalid_credentials")] * 2
    assert answers[0].get_json()["message"] == answers[1].get_json()["message"]


def test_disable_refuses_signin_refresh_and_every_outstanding_token(client, runner, user, signin):
    first, second = signin(), signin()

    result = runner.invoke(args=["users", "disable", "ada@example.com"])

    assert result.exit_code == 0, result.output
    assert "disabled user" in result.output and "revoked 2 session(s)" in result.output
    for pair in (first, second):
        assert error_of(client.get("/api/protected", headers=bearer(pair["token"]))) == (
            401, "token_revoked"
        )
        refresh = client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert error_of(refresh) == (403, "account_disabled")
        assert refresh.get_json()["message"] == "The account is disabled."
    signin_answer = client.post(
        "/api/auth/signin", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert error_of(signin_answer) == (403, "account_disabled")


def test_enable_lets_the_account_sign_in_again(client, runner, user, signin):
    runner.invoke(args=["users", "disable", "ada@example.com"])

    result = runner.invoke(args=["users", "enable", "ada@example.com"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("enabled user")
    assert client.get("/api/protected", headers=bearer(signin()["token"])).status_code == 200


# -- the commands ---------------------------------------------------------------------------


def test_users_create_with_a_role(runner, db):
    result = runner.invoke(
        args=["users", "create", "root@example.com", "--password", PASSWORD, "--role", "admin"]
    )

    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("<root@example.com> with role admin")
    assert db.session.scalar(select(User.role).where(User.email == "root@example.com")) == "admin"


@pytest.mark.parametrize("role", ["", "ad min", "admin,", ",admin", "a" * 65, "adm\x00in"])
def test_a_role_that_a_token_could_not_carry_is_refused(runner, db, role):
    created = runner.invoke(
        args=["users", "create", "root@example.com", "--password", PASSWORD, "--role", role]
    )

    assert created.exit_code == 2
    assert "Invalid value for '--role'" in created.output
    assert db.session.scalar(select(User)) is None


def test_set_role_names_an_unknown_user(runner, db):
    result = runner.invoke(args=["users", "set-role", "nobody@example.com", "admin"])

    assert result.exit_code == 1
    assert result.output.strip() == "error: no user with the id or email 'nobody@example.com'"


@pytest.mark.parametrize(
    "command", [["set-role", "ba:ba-grace", "admin"], ["disable", "ba:ba-grace"],
                ["enable", "ba:ba-grace"]]
)
def test_better_auth_users_roles_and_bans_are_better_auths(client, runner, command):
    client.get("/api/auth/me", headers=bearer(mint(sub="ba-grace")))

    result = runner.invoke(args=["users", *command])

    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: user ba:ba-grace is a Better Auth user: change their role or ban them in "
        "Better Auth"
    )


def test_the_commands_work_on_an_id_too(runner, db, user):
    user_id = account_id(db, "ada@example.com")

    assert runner.invoke(args=["users", "set-role", user_id, "user,admin"]).exit_code == 0
    assert runner.invoke(args=["users", "disable", user_id]).exit_code == 0

    stored = db.session.scalar(select(User).where(User.id == user_id))
    db.session.refresh(stored)
    assert stored.role == "user,admin"
    assert stored.disabled_at is not None
