"""Issue 18's hostile inputs, sent as an attacker sends them: every one gets the contract's
JSON answer (a 4xx, never a 500), and none reaches another user's data.

Where an HTTP client would tidy the request (a chosen ``Host``, ``//`` in a path, an unknown
method, a chunked body) it goes over a raw socket to the production server, gunicorn.
"""

import base64
import hashlib
import hmac
import json
import re
import socket
import threading
import time
import uuid

import jwt as pyjwt
import pytest
from sqlalchemy import func, select

from config import ConfigError
from ironmind_api.auth.models import User
from ironmind_api.fields import WHITESPACE
from ironmind_api.tasks.models import Task
from tests.conftest import SECRET, bearer, mint
from tests.reliability.harness import Server, migrate
from tests.security.jwks import EC_KEY, free_port

JSON = {"Content-Type": "application/json"}
DAY = 24 * 3600




def assert_contract_error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) >= {"error", "message", "request_id"}
    if code:
        assert body["error"] == code
    return body


# --- the production server, spoken to over raw sockets -------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn with production settings on a fresh, migrated SQLite database."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('hostile')}/hostile.db"
    migrate(database_url)
    running = Server(database_url, free_port())
    try:
        yield running.start()
    finally:
        running.stop()
        running.remove_log()


class Raw:
    """One HTTP exchange on a fresh socket: the bytes as written, the answer as received."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def send_raw(port, request, body_chunks=(), timeout=10):
    """Write ``request`` (and then ``body_chunks``, from a thread) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)

        def write_body():
            try:
                for chunk in body_chunks:
                    sock.sendall(chunk)
            except OSError:
                pass  # the server answered and closed before taking all of it

        writer = threading.Thread(target=write_body, daemon=True)
        writer.start()
        received = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
            head, _, rest = received.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
            if rest is not None and length and len(rest) >= int(length.group(1)):
                break
        writer.join(timeout)
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Raw(int(lines[0].split()[1]), headers, body)


def http_request(method, path, host="127.0.0.1", headers=(), body=b""):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close", *headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_request(method, path, document, token=None, host="127.0.0.1"):
    headers = ["Content-Type: application/json"]
    if token:
        headers.append(f"Authorization: Bearer {token}")
    return http_request(method, path, host, headers, json.dumps(document).encode())


@pytest.fixture(scope="module")
def server_token(server):
    """A local account's access token on the server, with two tasks (so lists have pages)."""
    email = f"mallory-{uuid.uuid4().hex[:8]}@example.com"
    account = {"email": email, "password": "correct horse battery"}
    assert send_raw(server.port, json_request("POST", "/api/auth/signup", account)).status == 201
    token = send_raw(server.port, json_request("POST", "/api/auth/signin", account)).json()["token"]
    for title in ("first", "second"):
        created = send_raw(server.port, json_request("POST", "/api/tasks", {"title": title}, token))
        assert created.status == 201
    return token


# --- finding 5: Location and Link never come from the client's Host ------------------------


def test_location_of_a_new_task_ignores_the_host_header(server, server_token):
    created = send_raw(server.port, json_request(
        "POST", "/api/tasks", {"title": "x"}, server_token, host="evil.example.com"
    ))

    assert created.status == 201
    assert created.headers["location"] == f"/api/tasks/{created.json()['id']}"


def test_next_page_link_ignores_the_host_header(server, server_token):
    page = send_raw(server.port, http_request(
        "GET", "/api/tasks?limit=1", "evil.example.com",
        [f"Authorization: Bearer {server_token}", "X-Forwarded-Host: evil.example.com"],
    ))

    assert page.status == 200
    link = page.headers["link"]
    assert re.fullmatch(r'</api/tasks\?limit=1&cursor=[^>]+>; rel="next"', link), link
    assert "evil" not in link


def test_urls_are_absolute_on_public_url_when_it_is_set(make_app, db, auth_headers):
    client = make_app(PUBLIC_URL="https://api.example.com").test_client()
    for title in ("one", "two"):
        created = client.post("/api/tasks", json={"title": title}, headers=auth_headers)
    page = client.get("/api/tasks?limit=1", headers={**auth_headers, "Host": "evil.example.com"})

    assert created.headers["Location"] == (
        f"https://api.example.com/api/tasks/{created.get_json()['id']}"
    )
    assert page.headers["Link"].startswith("<https://api.example.com/api/tasks?limit=1&cursor=")


# --- finding 7: not JSON everywhere ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/auth//signin"), ("GET", "/api//tasks"), ("GET", "/health//ready"),
     ("POST", "/api/auth/signup//")],
)
def test_paths_with_doubled_slashes_are_a_json_404_not_a_redirect(server, method, path):
    answer = send_raw(server.port, http_request(
        method, path, "evil.example.com", ["Content-Type: application/json"], b"{}"
    ))

    assert answer.status == 404
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"] == "not_found"
    assert "location" not in answer.headers


@pytest.mark.parametrize("path", ["/health/", "//health", "///health"])
def test_a_trailing_or_leading_extra_slash_is_the_route_itself_not_a_redirect(server, path):
    answer = send_raw(server.port, http_request("GET", path, "evil.example.com"))

    assert answer.status == 200
    assert answer.json() == {"status": "ok"}
    assert "location" not in answer.headers


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("BREW", "/health", {"GET", "HEAD", "OPTIONS"}),
     ("DELETE", "/api/auth/signin", {"POST", "OPTIONS"}),
     ("PROPFIND", "/api/tasks", {"GET", "HEAD", "POST", "OPTIONS"})],
)
def test_a_method_the_route_does_not_allow_is_a_json_405(server, method, path, allowed):
    answer = send_raw(server.port, http_request(method, path))

    assert answer.status == 405
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"] == "method_not_allowed"
    assert set(answer.headers["allow"].split(", ")) == allowed


def chunked(body, size=65536):
    for start in range(0, len(body), size):
        piece = body[start:start + size]
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def test_an_oversized_chunked_body_is_a_json_413(server, server_token):
    body = json.dumps({"title": "x" * (2 * 1024 * 1024)}).encode()
    head = http_request("POST", "/api/tasks", headers=[
        f"Authorization: Bearer {server_token}", "Content-Type: application/json",
        "Transfer-Encoding: chunked",
    ])

    answer = send_raw(server.port, head, chunked(body))

    assert answer.status == 413
    assert answer.json()["error"] == "payload_too_large"


def test_a_chunked_body_within_the_limit_is_read_whole(server, server_token):
    body = json.dumps({"title": "chunked", "description": "d" * 1500}).encode()
    head = http_request("POST", "/api/tasks", headers=[
        f"Authorization: Bearer {server_token}", "Content-Type: application/json",
        "Transfer-Encoding: chunked",
    ])

    answer = send_raw(server.port, head, chunked(body, size=100))

    assert answer.status == 201
    assert answer.json()["description"] == "d" * 1500


def test_the_bearer_scheme_in_lower_case_is_accepted(server, server_token):
    answer = send_raw(server.port, http_request(
        "GET", "/api/protected", headers=[f"Authorization: bearer {server_token}"]
    ))

    assert answer.status == 200


def test_none_of_the_raw_requests_above_reached_a_500(server, server_token):
    # After the raw-socket tests above (file order): the server logged no unhandled error.
    assert server.unhandled_errors() == []


# --- finding 2: token times are integers within bounds, lifetimes have a ceiling -----------


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def exchange_token(**claims):
    """An HS256 token as the frontend signs them, with any claim replaced or added."""
    now = int(time.time())
    payload = {"sub": "ba-user", "iat": now, "exp": now + 900, **claims}
    return pyjwt.encode({k: v for k, v in payload.items() if v is not None}, SECRET, "HS256")


UNUSABLE_TIMES = {
    "exp in the year 10000": {"exp": 253402300800},
    "exp of 10^20": {"exp": 10**20},
    "exp of 2^63": {"exp": 2**63},
    "exp as a string": {"exp": "9999999999"},
    "exp as a float": {"exp": time.time() + 900},
    "iat as true": {"iat": True},
    "iat as a string": {"iat": str(int(time.time()))},
    "negative iat": {"iat": -1},
    "nbf as a string": {"nbf": "0"},
    "negative nbf": {"nbf": -(2**70)},
    "lives 25 hours": {"exp": int(time.time()) + 25 * 3600},
    "lives 25 hours, no iat": {"iat": None, "exp": int(time.time()) + 25 * 3600},
    "issued long ago, expires in a year": {"iat": 1, "exp": int(time.time()) + 365 * DAY},
}


@pytest.mark.parametrize("changes", UNUSABLE_TIMES.values(), ids=UNUSABLE_TIMES.keys())
def test_token_with_unusable_times_is_refused_and_signout_never_500s(client, changes):
    token = exchange_token(**changes)

    for method, path in (("GET", "/api/protected"), ("POST", "/api/auth/signout"),
                         ("GET", "/api/tasks")):
        response = client.open(path, method=method, headers=bearer(token))
        assert_contract_error(response, 401, "invalid_token")


def test_token_with_a_5000_digit_exp_is_refused(client):
    # Written by hand: no JSON encoder writes an int that long (nor Python reads one back).
    payload = b'{"sub":"ba-user","exp":1' + b"0" * 5000 + b"}"
    signing_input = b64(b'{"alg":"HS256"}') + b"." + b64(payload)
    signature = hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest()
    token = (signing_input + b"." + b64(signature)).decode()

    for method, path in (("GET", "/api/protected"), ("POST", "/api/auth/signout")):
        response = client.open(path, method=method, headers=bearer(token))
        assert_contract_error(response, 401, "invalid_token")


def test_a_token_at_the_lifetime_ceiling_signs_out(client):
    now = int(time.time())
    token = exchange_token(iat=now, exp=now + DAY)

    assert client.get("/api/protected", headers=bearer(token)).status_code == 200
    assert client.post("/api/auth/signout", headers=bearer(token)).status_code == 200
    assert_contract_error(client.get("/api/protected", headers=bearer(token)), 401,
                          "token_revoked")


def test_the_lifetime_ceiling_is_configurable(make_app, db):
    client = make_app(MAX_TOKEN_LIFETIME=900, ACCESS_TOKEN_TTL=900).test_client()
    now = int(time.time())

    assert client.get("/api/protected", headers=bearer(exchange_token(exp=now + 900))
                      ).status_code == 200
    assert_contract_error(
        client.get("/api/protected", headers=bearer(exchange_token(exp=now + 960))),
        401, "invalid_token",
    )


def test_an_access_token_ttl_above_the_ceiling_is_refused_at_start_up(make_app):
    with pytest.raises(ConfigError, match="ACCESS_TOKEN_TTL must not exceed MAX_TOKEN_LIFETIME"):
        make_app(ACCESS_TOKEN_TTL=2 * DAY)


def test_the_apis_own_week_long_refresh_token_is_not_refused(client, user, signin):
    pair = signin()
    claims = pyjwt.decode(pair["refresh_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 7 * DAY

    refreshed = client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    signed_out = client.post("/api/auth/signout", json={"refresh_token": refreshed.get_json()[
        "refresh_token"]}, headers=bearer(refreshed.get_json()["token"]))

    assert refreshed.status_code == 200
    assert signed_out.status_code == 200


def test_a_refresh_token_longer_than_refresh_token_ttl_is_refused(client, user):
    now = int(time.time())
    forged_lifetime = pyjwt.encode(
        {"sub": user["id"], "iat": now, "exp": now + 8 * DAY, "type": "refresh",
         "jti": str(uuid.uuid4()), "fam": "f" * 32, "iss": "ironmind-api"},
        SECRET, "HS256",
    )

    response = client.post("/api/auth/refresh", json={"refresh_token": forged_lifetime})

    assert_contract_error(response, 401, "invalid_token")


# --- finding 3: no control character in a subject, nor in what is looked up ----------------


@pytest.mark.parametrize(
    "claims",
    [{"sub": "user\x00one"}, {"sub": "\x00"}, {"sub": "user\x01"}, {"sub": "user\x7f"},
     {"sub": "user\u0085"}, {"sub": "user\ud800"}, {"sub": "line\nbreak"},
     {"jti": "jti\x00"}, {"fam": "fam\x00"}, {"fam": "\udfff"}],
    ids=["nul-inside", "only-nul", "soh", "del", "c1-nel", "lone-surrogate", "newline",
         "nul-in-jti", "nul-in-fam", "surrogate-in-fam"],
)
def test_a_token_with_a_control_character_is_refused_everywhere(client, claims):
    token = exchange_token(**claims)

    for path in ("/api/protected", "/api/auth/me", "/api/tasks"):
        assert_contract_error(client.get(path, headers=bearer(token)), 401, "invalid_token")
    assert_contract_error(client.post("/api/tasks", json={"title": "x"}, headers=bearer(token)),
                          401, "invalid_token")


def test_profile_claims_a_database_cannot_store_are_left_out(client):
    token = exchange_token(sub="ba-new", email="ada\x00@example.com", name="Ada\ud800")

    response = client.get("/api/auth/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.get_json()["user"] | {"createdAt": None} == {
        "id": "ba-new", "email": None, "name": None, "createdAt": None,
    }


# --- finding 4: bodies hold only what the code and the database can ------------------------

HUGE_INTEGER = b"1" + b"0" * 5000
BODIES = {
    "signup": ("POST", "/api/auth/signup", {"email": "ada@example.com",
                                             "password": "correct horse battery", "name": "A"}),
    "signin": ("POST", "/api/auth/signin", {"email": "ada@example.com",
                                             "password": "correct horse battery"}),
    "refresh": ("POST", "/api/auth/refresh", {"refresh_token": "x"}),
    "signout": ("POST", "/api/auth/signout", {"refresh_token": "x"}),
    "create": ("POST", "/api/tasks", {"title": "t", "description": "d", "completed": False}),
    "replace": ("PUT", "/api/tasks/{id}", {"title": "t", "description": "d"}),
    "patch": ("PATCH", "/api/tasks/{id}", {"title": "t", "description": "d"}),
}
CASES = [(name, field) for name, (_, _, body) in BODIES.items() for field in body]


def poisoned(document, field, value):
    """The body as JSON text, with ``field``'s value replaced by the raw JSON ``value``."""
    marker = "@@poison@@"
    return json.dumps({**document, field: marker}).encode().replace(
        json.dumps(marker).encode(), value
    )


def row_counts(db):
    return (db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(Task.id))))


@pytest.mark.parametrize(
    "value",
    [HUGE_INTEGER, b"-" + HUGE_INTEGER, b'"\\ud800"', b'"a\\udfffb"', b'"\\u0000"',
     b'["\\ud83d"]', b"NaN", b"-Infinity"],
    ids=["5000-digits", "minus-5000-digits", "lone-high-surrogate", "lone-low-surrogate",
         "nul", "surrogate-in-a-list", "nan", "minus-infinity"],
)
@pytest.mark.parametrize(("endpoint", "field"), CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_unusable_values_in_any_field_are_4xx_and_change_nothing(
    client, db, user, auth_headers, endpoint, field, value
):
    task = client.post("/api/tasks", json={"title": "kept"}, headers=auth_headers).get_json()
    method, path, document = BODIES[endpoint]
    before = row_counts(db)

    response = client.open(path.format(id=task["id"]), method=method,
                           data=poisoned(document, field, value),
                           headers={**auth_headers, **JSON})

    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert_contract_error(response, response.status_code)
    assert row_counts(db) == before
    assert client.get(f"/api/tasks/{task['id']}", headers=auth_headers).get_json() == task


def test_a_lone_surrogate_as_a_key_is_refused(client, auth_headers):
    response = client.post("/api/tasks", data=b'{"title": "t", "\\udc00": 1}',
                           headers={**auth_headers, **JSON})

    assert_contract_error(response, 400, "bad_request")


def test_a_valid_surrogate_pair_is_text_like_any_other(client, auth_headers):
    response = client.post("/api/tasks", data=b'{"title": "\\ud83d\\ude00 done"}',
                           headers={**auth_headers, **JSON})

    assert response.status_code == 201
    assert response.get_json()["title"] == "\U0001f600 done"


# --- finding 8: one account per address, whatever its look-alike form ----------------------


@pytest.mark.parametrize(
    "look_alike",
    ["ａｄａ@example.com", "ＡＤＡ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "ADA@Example.com",
     " ada@example.com\u3000"],
    ids=["fullwidth", "fullwidth-upper-and-at", "upper-case", "padded"],
)
def test_a_look_alike_address_is_the_same_account(client, signup, look_alike):
    ada = signup(email="ada@example.com")

    second = client.post("/api/auth/signup", json={
        "email": look_alike, "password": "another password", "name": "Mallory"})
    signed_in = client.post("/api/auth/signin", json={
        "email": look_alike, "password": "correct horse battery"})

    assert_contract_error(second, 409, "email_taken")
    assert signed_in.status_code == 200
    assert signed_in.get_json()["user"]["id"] == ada["id"]


def test_an_address_in_fullwidth_is_stored_plain(client):
    response = client.post("/api/auth/signup", json={
        "email": "ｇｒａｃｅ@example.com", "password": "correct horse battery"})

    assert response.status_code == 201
    assert response.get_json()["user"]["email"] == "grace@example.com"


@pytest.mark.parametrize(
    "address",
    ["\u0430da@example.com", "ada@ex\u0430mple.com", "ad\u00e5@example.com", "ada@bücher.de"],
    ids=["cyrillic-a-local", "cyrillic-a-domain", "latin-a-ring", "idn-domain-unencoded"],
)
def test_an_address_that_is_not_ascii_is_refused_at_signup(client, db, signup, address):
    signup(email="ada@example.com")

    response = client.post("/api/auth/signup", json={
        "email": address, "password": "correct horse battery"})

    assert_contract_error(response, 422, "validation_error")
    assert "email" in response.get_json()["fields"]
    assert row_counts(db) == (1, 0)


# --- finding 9: the published pattern and the trim agree, character by character ----------


# ECMA-262's \s (WhiteSpace and LineTerminator), which JSON Schema patterns mean: not Python's.
ECMA_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def title_pattern_as_json_schema_reads_it(client):
    """The published title pattern, made a Python regex with ECMA-262's meaning of \\s."""
    document = client.get("/api/openapi.json").get_json()
    pattern = document["components"]["schemas"]["Task"]["properties"]["title"]["pattern"]
    pattern = pattern.replace("[^\\s", f"[^{ECMA_SPACE}")
    return pattern.replace("\\s", f"[{ECMA_SPACE}]")


# Every character Python or ECMA-262 calls whitespace, and the ones the issue names.
SPACES = sorted(set(WHITESPACE) | set("\ufeff\u180e\u200b\x1c\x1d\x1e\x1f"))


def test_no_published_pattern_uses_backslash_s(client):
    document = client.get("/api/openapi.json").get_data(as_text=True)

    assert "\\\\s" not in document


@pytest.mark.parametrize("title", [
    "\f\t\r \n\u001e\u000b", *SPACES, *(f"{c}x{c}" for c in SPACES), "x" * 200,
    "\u3000" + "x" * 200 + "\u3000", "x" * 201,
], ids=lambda title: repr(title)[:20])
def test_a_title_matches_the_published_pattern_exactly_when_the_api_takes_it(
    client, auth_headers, title
):
    matches = re.fullmatch(title_pattern_as_json_schema_reads_it(client), title) is not None

    response = client.post("/api/tasks", json={"title": title}, headers=auth_headers)

    assert response.status_code == (201 if matches else 422), (title, matches)


# --- finding 10: identity is (issuer, subject) ----------------------------------------------


def better_auth_token(app, sub):
    base = app.config["JWT_ISSUER"]
    now = int(time.time())
    claims = {"sub": sub, "id": sub, "email": f"{sub}@example.com", "iat": now,
              "exp": now + 900, "iss": base, "aud": base}
    return pyjwt.encode(claims, EC_KEY, algorithm="ES256", headers={"kid": "ec-1"})


@pytest.fixture
def local_account(jwks_client):
    """A local account (signup, signin) with one task: what an attacker's subject aims at."""
    account = {"email": "victim@example.com", "password": "correct horse battery"}
    jwks_client.post("/api/auth/signup", json=account)
    pair = jwks_client.post("/api/auth/signin", json=account).get_json()
    headers = bearer(pair["token"])
    task = jwks_client.post("/api/tasks", json={"title": "secret"}, headers=headers).get_json()
    return pair["user"], headers, task


@pytest.mark.parametrize("kind", ["jwks", "hs256-exchange"])
def test_a_better_auth_subject_equal_to_a_local_id_reaches_none_of_its_data(
    jwks_client, jwks_app, local_account, kind
):
    victim, victim_headers, task = local_account
    token = (better_auth_token(jwks_app, victim["id"]) if kind == "jwks"
             else mint(sub=victim["id"]))
    attacker = bearer(token)

    listing = jwks_client.get("/api/tasks", headers=attacker)
    one = jwks_client.get(f"/api/tasks/{task['id']}", headers=attacker)
    patched = jwks_client.patch(f"/api/tasks/{task['id']}", json={"title": "owned"},
                                headers=attacker)
    deleted = jwks_client.delete(f"/api/tasks/{task['id']}", headers=attacker)
    me = jwks_client.get("/api/auth/me", headers=attacker).get_json()["user"]

    assert listing.status_code == 200 and listing.get_json() == []
    assert_contract_error(one, 404, "not_found")
    assert_contract_error(patched, 404, "not_found")
    assert_contract_error(deleted, 404, "not_found")
    assert me["email"] != victim["email"]
    assert jwks_client.get("/api/tasks", headers=victim_headers).get_json() == [task]


def test_jwks_and_exchange_tokens_of_one_better_auth_user_share_their_tasks(
    jwks_client, jwks_app
):
    by_jwks = bearer(better_auth_token(jwks_app, "ba-grace"))
    by_exchange = bearer(mint(sub="ba-grace"))

    created = jwks_client.post("/api/tasks", json={"title": "hers"}, headers=by_jwks).get_json()

    assert created["userId"] == "ba-grace"
    assert jwks_client.get("/api/tasks", headers=by_exchange).get_json() == [created]
    assert jwks_client.get("/api/protected", headers=by_exchange).get_json()["user_id"] == (
        "ba-grace"
    )


def test_an_api_session_token_without_the_api_issuer_is_refused(client, user):
    now = int(time.time())
    legacy = pyjwt.encode({"sub": user["id"], "iat": now, "exp": now + 900, "type": "access",
                           "fam": "f" * 32, "jti": str(uuid.uuid4())}, SECRET, "HS256")

    assert_contract_error(client.get("/api/tasks", headers=bearer(legacy)), 401, "invalid_token")

