"""The real gunicorn, started the way the container starts it, serving a user's session.

The server runs docker/entrypoint.sh (migrations, then gunicorn -c gunicorn.conf.py) with the
api service's environment from docker-compose.yml, pointed at a fresh PostgreSQL database and
the machine's Redis, on 127.0.0.1.
"""

import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from tests import services
from tests.conftest import require_service
from tests.reliability.harness import Server
from tests.services import redis_problem

ROOT = Path(__file__).resolve().parents[2]
PORTS = range(18610, 18630)
# What the Dockerfile's ENV adds to the compose environment.
IMAGE_ENV = {"PYTHONUNBUFFERED": "1", "PORT": "8000", "GUNICORN_WORKER_TMP_DIR": "/dev/shm"}
PASSWORD = "correct horse battery"
INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}")




def redis_url():
    return os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/6"


def free_port():
    return services.free_port(PORTS, reuse_address=True)


@pytest.fixture(scope="module")
def server_env(database):
    """The container's environment: compose's env_file and environment, then local hosts."""
    require_service(redis_problem(redis_url()))
    api = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["api"]
    env = dict(line.split("=", 1) for line in dotenv_lines(ROOT / ".env.example"))
    env.update(IMAGE_ENV)
    env.update({k: interpolate(str(v), env) for k, v in api["environment"].items()})
    env.update(
        BETTER_AUTH_SECRET=uuid.uuid4().hex + uuid.uuid4().hex,
        DATABASE_URL=database,
        DATABASE_LISTEN_URL=database,
        RATELIMIT_STORAGE_URI=redis_url(),
        GUNICORN_WORKERS="2",
        GUNICORN_GRACEFUL_TIMEOUT="10",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        HOME=os.environ.get("HOME", "/tmp"),
    )
    assert env["APP_ENV"] == "production"
    assert not [name for name, value in env.items() if "${" in value], "not interpolated"
    return env


def interpolate(value, env):
    """compose's ${NAME}, ${NAME:-default} and ${NAME:?error} filled from ``env`` (.env), as
    compose fills them; a missing required value is left empty for the fixture to set."""
    def fill(match):
        name, operator, default = match.groups()
        return env.get(name) or (default if operator == ":-" else "")

    return INTERPOLATION.sub(fill, value)


def dotenv_lines(path):
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            yield line


def container(server_env):
    """gunicorn started the way the container starts it: the entrypoint migrates, then execs
    gunicorn (so the process is gunicorn's), and it is ready when /health/ready says so."""
    entrypoint = [str(ROOT / "docker" / "entrypoint.sh")]
    return Server(server_env["DATABASE_URL"], free_port(), command=entrypoint, env=server_env,
                  ready_path="/health/ready")


@pytest.fixture(scope="module")
def server(server_env):
    server = container(server_env)
    try:
        yield server.start()
    finally:
        server.stop()
        server.remove_log()


def call(server, method, path, body=None, token=None, request_id=None):
    """One HTTP request on a new connection: (status, headers, parsed JSON or None)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if request_id:
        headers["X-Request-ID"] = request_id
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.base + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    return status, headers, json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def session(server):
    """A user's session driven over HTTP: signup, signin, tasks, signout."""
    email = f"gunicorn-{uuid.uuid4().hex[:8]}@example.com"
    steps = {}

    def step(name, method, path, body=None, token=None):
        request_id = f"flow-{name}-{uuid.uuid4().hex[:8]}"
        status, headers, payload = call(server, method, path, body, token, request_id)
        assert headers["X-Request-ID"] == request_id
        steps[name] = {"status": status, "body": payload, "request_id": request_id}
        return payload

    user = step("signup", "POST", "/api/auth/signup", {"email": email, "password": PASSWORD})
    pair = step("signin", "POST", "/api/auth/signin", {"email": email, "password": PASSWORD})
    token = pair["token"]
    step("create", "POST", "/api/tasks", {"title": "Deploy with gunicorn"}, token)
    step("list", "GET", "/api/tasks", token=token)
    step("protected", "GET", "/api/protected", token=token)
    step("signout", "POST", "/api/auth/signout", {"refresh_token": pair["refresh_token"]}, token)
    return {"user_id": user["user"]["id"], "token": token, "steps": steps}


def test_signup_signin_tasks_signout_over_http(session):
    steps = session["steps"]
    assert {name: step["status"] for name, step in steps.items()} == {
        "signup": 201,
        "signin": 200,
        "create": 201,
        "list": 200,
        "protected": 200,
        "signout": 200,
    }
    assert steps["signin"]["body"]["user"]["id"] == session["user_id"]
    assert [task["title"] for task in steps["list"]["body"]] == ["Deploy with gunicorn"]
    assert steps["protected"]["body"]["user_id"] == session["user_id"]


def test_every_stdout_line_is_json_and_requests_log_their_ids(server, session):
    lines = server.lines()  # json.loads of every line: one that is not JSON fails here
    access = {line["request_id"]: line for line in lines if line.get("message") == "request"}
    for name, step in session["steps"].items():
        line = access[step["request_id"]]
        assert line["status"] == step["status"]
        expected_user = None if name in ("signup", "signin") else session["user_id"]
        assert line["user_id"] == expected_user, name
        assert {"timestamp", "level", "method", "path", "duration_ms", "remote_addr", "pid"} <= set(
            line
        )
        # compose leaves OTEL_EXPORTER_OTLP_ENDPOINT empty unless .env sets it: tracing off.
        assert line["trace_id"] is None and line["span_id"] is None
    gunicorn = [line for line in lines if line.get("logger") == "gunicorn.error"]
    assert sum("Booting worker" in line["message"] for line in gunicorn) == 2


def test_both_workers_log_json_lines_with_the_request_context(server, session):
    """Concurrent requests until both workers have served one (bounded: 400 requests)."""
    email = f"workers-{uuid.uuid4().hex[:8]}@example.com"
    call(server, "POST", "/api/auth/signup", {"email": email, "password": PASSWORD})
    pair = call(server, "POST", "/api/auth/signin", {"email": email, "password": PASSWORD})[2]
    user_id = pair["user"]["id"]
    prefix = f"workers-{uuid.uuid4().hex[:8]}-"
    sent = []

    def worker_pids():
        return {
            line["pid"]
            for line in server.lines()
            if line.get("message") == "request"
            and line["request_id"].startswith(prefix)
            and line["user_id"] == user_id
        }

    def burst(thread_no):
        for i in range(20):
            request_id = f"{prefix}{thread_no}-{i}"
            sent.append(call(server, "GET", "/api/protected", None, pair["token"], request_id))

    for _ in range(5):
        threads = [threading.Thread(target=burst, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if len(worker_pids()) == 2:
            break
    assert all(status == 200 for status, _, _ in sent)
    assert len(worker_pids()) == 2


def read_response(conn):
    """Read one HTTP/1.1 response framed by Content-Length from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        rest += conn.recv(65536)
    return head + b"\r\n\r\n" + rest


def test_sigterm_lets_an_in_flight_request_finish(server_env):
    """A request still sending its body when SIGTERM arrives is answered, then gunicorn exits 0."""
    server = container(server_env).start()
    try:
        body = json.dumps(
            {"email": f"term-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
        ).encode()
        head = (
            f"POST /api/auth/signup HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as conn:
            # A first request on this keep-alive connection makes sure a worker holds it.
            conn.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_response(conn).startswith(b"HTTP/1.1 200 ")
            conn.sendall(head + body[:10])
            time.sleep(0.5)  # a worker thread is now waiting for the rest of the body
            server.process.send_signal(signal.SIGTERM)
            time.sleep(1)
            assert server.process.poll() is None, "gunicorn quit with a request in flight"
            conn.sendall(body[10:])
            response = b""
            while chunk := conn.recv(65536):
                response += chunk
        assert response.startswith(b"HTTP/1.1 201 "), response[:200]
        assert server.process.wait(timeout=15) == 0
        messages = [line["message"] for line in server.lines()]
        assert "Handling signal: term" in messages
        assert "Shutting down: Master" in messages
    finally:
        server.stop()
        server.remove_log()
