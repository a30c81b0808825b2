"""nginx in front of gunicorn, as docker-compose.yml runs them, seen from the client's side.

docker/nginx/default.conf.template is rendered with envsubst, given the variables by name as the
official nginx image does, and included in a copy of that image's nginx.conf; Debian's nginx
runs it in the foreground on 127.0.0.1, with its prefix, pid, logs and temporary files in a
temporary directory, in front of the production gunicorn (2 workers x 4 threads) on a fresh,
migrated PostgreSQL database. Requests are written on raw sockets, as an attacker writes them.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests import services
from tests.conftest import require_service
from tests.reliability.harness import Server, migrate, mint

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "docker" / "nginx" / "default.conf.template"
PORTS = range(19400, 19420)
MAX_BODY = 1048576  # MAX_CONTENT_LENGTH's default, as compose passes it to nginx
HSTS = "strict-transport-security"
# The official image's /etc/nginx/nginx.conf, its paths moved into the temporary directory.
NGINX_CONF = """
worker_processes auto;
error_log {root}/error.log notice;
pid {root}/nginx.pid;
events {{
    worker_connections 1024;
}}
http {{
    default_type application/octet-stream;
    access_log {root}/access.log;
    client_body_temp_path {root}/client_temp;
    proxy_temp_path {root}/proxy_temp;
    fastcgi_temp_path {root}/fastcgi_temp;
    uwsgi_temp_path {root}/uwsgi_temp;
    scgi_temp_path {root}/scgi_temp;
    sendfile on;
    keepalive_timeout 65;
    include {root}/conf.d/*.conf;
}}
"""
# What issue 18's probe sent: part of a header, then nothing; a body 10 bytes into 1000.
STALLED_HEADER = b"GET /health HTTP/1.1\r\nHost: x\r\nX-a: "
STALLED_BODY = (
    b"POST /api/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n" + b'{"email": '
)
HEALTH = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
# A client address other than 127.0.0.1, which the proxied gunicorn trusts (Linux routes all
# of 127.0.0.0/8 to the loopback interface).
OTHER_CLIENT = "127.0.0.2"


def free_port(ports=PORTS):
    return services.free_port(ports, reuse_address=True)


def render(upstream, listen):
    """The template through envsubst with exactly the variables compose gives the container."""
    variables = {
        "API_UPSTREAM": upstream, "NGINX_PORT": listen, "MAX_CONTENT_LENGTH": str(MAX_BODY),
        # Never asked here: the upstream is an address, not a name.
        "NGINX_RESOLVER": "127.0.0.1",
    }
    names = " ".join(f"${{{name}}}" for name in variables)
    rendered = subprocess.run(
        ["envsubst", names], input=TEMPLATE.read_text(), capture_output=True, text=True,
        env={"PATH": os.environ["PATH"], **variables}, check=True, timeout=10,
    ).stdout
    assert "${" not in rendered, "a template variable compose does not set"
    return rendered


class Nginx:
    """Debian's nginx in the foreground, serving the rendered template on 127.0.0.1:port."""

    def __init__(self, port, upstream):
        self.port, self.upstream = port, upstream
        self.root = Path(tempfile.mkdtemp(prefix="ironmind-nginx-"))
        self.process = None

    def start(self, seconds=10):
        # Started as root, nginx's workers run as nobody and write request bodies under here.
        self.root.chmod(0o755)
        (self.root / "conf.d").mkdir()
        default_conf = render(self.upstream, f"127.0.0.1:{self.port}")
        (self.root / "conf.d" / "default.conf").write_text(default_conf)
        (self.root / "nginx.conf").write_text(NGINX_CONF.format(root=self.root))
        command = [
            services.nginx_binary(), "-p", f"{self.root}/", "-e", str(self.root / "error.log"),
            "-c", str(self.root / "nginx.conf"), "-g", "daemon off;",
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited at start-up:\n{self.error_log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not listen on {self.port} within {seconds} s")

    def error_log(self):
        path = self.root / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self):
        services.stop_process(self.process)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def nginx_installed():
    require_service(services.nginx_problem())


@pytest.fixture(scope="module")
def migrated(nginx_installed, database):
    migrate(database)
    return database


def running(server):
    try:
        yield server.start()
    finally:
        server.stop()
        server.remove_log()


@pytest.fixture(scope="module")
def api(migrated):
    """gunicorn as compose runs it behind nginx: trusting one hop, from nginx's address only."""
    yield from running(
        Server(migrated, free_port(), TRUSTED_PROXIES="1", TRUSTED_PROXY_ADDRESSES="127.0.0.1")
    )


@pytest.fixture(scope="module")
def bare_api(migrated):
    """gunicorn with the default settings (no proxy trusted), one worker of 4 threads: every
    connection meets the same threads. (With more workers, each worker that accepts four
    stalled connections is blocked alike; the others answer, so some requests do and some
    don't.)"""
    yield from running(Server(migrated, free_port(), GUNICORN_WORKERS="1"))


@pytest.fixture(scope="module")
def proxy(api):
    nginx = Nginx(free_port(), f"127.0.0.1:{api.port}")
    try:
        yield nginx.start()
    finally:
        nginx.stop()


def connect(port, source="127.0.0.1", timeout=5):
    return socket.create_connection(("127.0.0.1", port), timeout, source_address=(source, 0))


def read_response(sock):
    """(status, headers with lower-case names, body) of one HTTP/1.1 response."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a complete response: {data[:200]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", -1))
    while length < 0 or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


def exchange(port, raw, source="127.0.0.1", timeout=5):
    """Write ``raw`` on a new connection and read the answer."""
    with connect(port, source, timeout) as sock:
        sock.sendall(raw)
        return read_response(sock)


def stall(port, raw, count):
    """``count`` connections that each sent ``raw`` and nothing more."""
    sockets = []
    for _ in range(count):
        sock = connect(port)
        sock.sendall(raw)
        sockets.append(sock)
    return sockets


def still_open(sock):
    """The peer has neither closed the connection nor answered on it (looked at, not waited for)."""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)  # an answer, or b"" when the peer closed
    except BlockingIOError:
        return True  # nothing to read, and not closed
    except OSError:
        return False
    else:
        return False
    finally:
        sock.settimeout(timeout)


def timed_health_checks(port, count=20, timeout=5):
    """``count`` sequential GET /health on new connections: the seconds each took, or None
    for one that did not answer within ``timeout``."""
    timings = []
    for _ in range(count):
        started = time.monotonic()
        try:
            status, _, body = exchange(port, HEALTH, timeout=timeout)
        except OSError:  # socket.timeout included
            timings.append(None)
            continue
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        timings.append(time.monotonic() - started)
    return timings


def close_all(sockets):
    for sock in sockets:
        sock.close()


def assert_proxy_error(response, status, code, request_id=None):
    """nginx's own answer, in the API's error shape with the request's id."""
    got_status, headers, body = response
    assert got_status == status, body
    assert headers["content-type"] == "application/json"
    payload = json.loads(body)
    assert set(payload) == {"error", "message", "request_id"}
    assert payload["error"] == code and payload["message"]
    assert payload["request_id"] == headers["x-request-id"]
    if request_id is not None:
        assert payload["request_id"] == request_id
    else:
        assert len(payload["request_id"]) == 32


# --- slow clients ---------------------------------------------------------------------------


def test_stalled_clients_do_not_delay_health_checks_through_nginx(proxy):
    stalled = stall(proxy.port, STALLED_HEADER, 50) + stall(proxy.port, STALLED_BODY, 50)
    try:
        time.sleep(0.5)  # nginx has read what each of them sent
        timings = timed_health_checks(proxy.port)
        assert None not in timings and max(timings) < 1.0, timings
        # The stalls lasted the whole measurement: nginx neither answered nor dropped them.
        assert all(still_open(sock) for sock in stalled)
    finally:
        close_all(stalled)


def test_the_same_stalls_sent_to_gunicorn_directly_block_health_checks(bare_api):
    """Why the proxy exists: each stalled connection holds one of gunicorn's threads."""
    stalled = stall(bare_api.port, STALLED_HEADER, 50) + stall(bare_api.port, STALLED_BODY, 50)
    try:
        time.sleep(0.5)
        timings = timed_health_checks(bare_api.port, count=3, timeout=1)
        assert timings == [None, None, None]
    finally:
        close_all(stalled)
    # Closed, the stalls free the threads again.
    assert None not in timed_health_checks(bare_api.port, count=3)


def test_nginx_drops_clients_that_stop_sending_after_ten_seconds(proxy):
    header, body = stall(proxy.port, STALLED_HEADER, 1) + stall(proxy.port, STALLED_BODY, 1)
    try:
        started = time.monotonic()
        for sock in (header, body):
            sock.settimeout(15)
            try:
                answer = sock.recv(65536)
            except ConnectionResetError:  # reset_timedout_connection: closed without an answer
                answer = b""
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert 9 < time.monotonic() - started < 13
    finally:
        close_all([header, body])


# --- nginx's own errors are the API's JSON --------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (
            b"POST /api/auth/signup HTTP/1.1\r\nHost: x\r\nX-Request-ID: proxy-413\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1048577\r\n\r\n",
            413, "payload_too_large",
        ),
        (
            b"POST /api/auth/signup HTTP/1.1\r\nHost: x\r\nX-Request-ID: proxy-413-chunked\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"200000\r\n" + b"x" * 4096,
            413, "payload_too_large",
        ),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: proxy-431\r\nX-Big: "
            + b"a" * 9000 + b"\r\n\r\n",
            431, "headers_too_large",
        ),
        (
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: proxy-400\r\nHost: y\r\n\r\n",
            400, "bad_request",
        ),
        (b"GET /health HTTP/1.1\r\nHost: bad/host\r\n\r\n", 400, "bad_request"),
        (b"GARBAGE\r\n\r\n", 400, "bad_request"),
        # The internal URIs of these answers are not reachable from outside.
        (b"GET /_proxy_errors/502 HTTP/1.1\r\nHost: x\r\n\r\n", 404, "not_found"),
    ],
    ids=[
        "content-length", "chunked", "request-line", "header-line", "two-hosts", "bad-host",
        "no-request-line", "internal-uri",
    ],
)
def test_what_nginx_refuses_itself_is_answered_in_the_apis_error_shape(proxy, raw, status, code):
    response = exchange(proxy.port, raw)
    sent_id = next((line.split(b": ")[1] for line in raw.split(b"\r\n")
                    if line.startswith(b"X-Request-ID: ")), None)
    request_id = sent_id.decode() if sent_id else None
    assert_proxy_error(response, status, code, request_id)


def test_an_api_that_does_not_answer_is_a_json_502(nginx_installed):
    nothing_there = free_port()
    nginx = Nginx(free_port(range(nothing_there + 1, PORTS.stop)), f"127.0.0.1:{nothing_there}")
    try:
        nginx.start()
        request = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: proxy-502\r\n\r\n"
        assert_proxy_error(exchange(nginx.port, request), 502, "bad_gateway", "proxy-502")
    finally:
        nginx.stop()


def test_the_apis_own_errors_pass_through_unchanged(proxy):
    status, headers, body = exchange(
        proxy.port, b"GET /api/tasks HTTP/1.1\r\nHost: x\r\nX-Request-ID: via-proxy-401\r\n\r\n"
    )
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    assert json.loads(body)["error"] == "missing_token"
    assert headers["x-request-id"] == "via-proxy-401"


# --- forwarded headers (issue 18, finding 6) ------------------------------------------------


def forged(method, path, token=None, source="127.0.0.1", headers=b""):
    """A request claiming HTTPS and another client address, as a client can write it."""
    body = b'{"title": "forwarded"}' if method == "POST" else b""
    auth = f"Authorization: Bearer {token}\r\n".encode() if token else b""
    request_id = uuid.uuid4().hex
    raw = (
        f"{method} {path} HTTP/1.1\r\nHost: api.example\r\nX-Request-ID: {request_id}\r\n".encode()
        + auth + headers
        + b"X-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n"
        + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    return request_id, raw


PROTO_HTTPS = b"X-Forwarded-Proto: https\r\n"
# gunicorn's default secure_scheme_headers believed these too.
OTHER_SCHEME_HEADERS = [b"X-Forwarded-Ssl: on\r\n", b"X-Forwarded-Protocol: ssl\r\n"]


def access_line(server, request_id):
    return next(
        line for line in server.lines()
        if line.get("message") == "request" and line.get("request_id") == request_id
    )


@pytest.mark.parametrize("header", [PROTO_HTTPS, *OTHER_SCHEME_HEADERS])
def test_by_default_no_client_can_claim_https(bare_api, header):
    """The probe's finding: gunicorn believed 127.0.0.1, so any local client could."""
    token = mint(f"forwarded-{uuid.uuid4().hex[:8]}")
    _, raw = forged("GET", "/health", headers=header)
    status, headers, _ = exchange(bare_api.port, raw)
    assert status == 200 and HSTS not in headers
    _, raw = forged("POST", "/api/tasks", token, headers=header)
    status, headers, _ = exchange(bare_api.port, raw)
    assert status == 201 and HSTS not in headers
    assert headers["location"].startswith("/api/tasks/")  # relative: no scheme to take from them


def test_by_default_a_clients_x_forwarded_for_is_not_its_address(bare_api):
    request_id, raw = forged("GET", "/health", source=OTHER_CLIENT, headers=PROTO_HTTPS)
    assert exchange(bare_api.port, raw, source=OTHER_CLIENT)[0] == 200
    assert access_line(bare_api, request_id)["remote_addr"] == OTHER_CLIENT


def test_a_client_beside_the_trusted_proxy_cannot_claim_https(api):
    token = mint(f"forwarded-{uuid.uuid4().hex[:8]}")
    for header in (PROTO_HTTPS, *OTHER_SCHEME_HEADERS):
        request_id, raw = forged("POST", "/api/tasks", token, OTHER_CLIENT, header)
        status, headers, _ = exchange(api.port, raw, source=OTHER_CLIENT)
        assert status == 201 and HSTS not in headers
        assert headers["location"].startswith("/api/tasks/")  # relative (issue 18, finding 5)
        assert access_line(api, request_id)["remote_addr"] == OTHER_CLIENT


def test_the_trusted_proxys_address_is_believed(api):
    """The positive control: what a TLS-terminating proxy at that address says is applied."""
    token = mint(f"forwarded-{uuid.uuid4().hex[:8]}")
    request_id, raw = forged("POST", "/api/tasks", token, headers=PROTO_HTTPS)
    status, headers, _ = exchange(api.port, raw)
    assert status == 201 and headers[HSTS].startswith("max-age=")
    assert headers["location"].startswith("/api/tasks/")  # relative whatever the scheme
    # One hop: the last X-Forwarded-For address, the one the proxy appended.
    assert access_line(api, request_id)["remote_addr"] == "203.0.113.9"


def test_through_nginx_the_api_sees_the_client_not_what_it_claims(proxy, api):
    request_id, raw = forged("GET", "/health", source=OTHER_CLIENT, headers=PROTO_HTTPS)
    status, headers, _ = exchange(proxy.port, raw, source=OTHER_CLIENT)
    # nginx replaced the scheme with its own (plain HTTP here) and appended the client's
    # address to the forged X-Forwarded-For: the API logs the real client.
    assert status == 200 and HSTS not in headers
    assert headers["x-request-id"] == request_id
    assert access_line(api, request_id)["remote_addr"] == OTHER_CLIENT
