"""Real Node `jose` and `better-auth` driven against the API: servers, tokens, proxies."""

import json
import os
import selectors
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests import services
from tests.conftest import SECRET, require_service
from tests.services import node_problem, postgres_problem, postgres_url, scratch_database

INTEROP_DIR = Path(__file__).parent
NODE = shutil.which("node")
# Ports the interop servers may listen on (127.0.0.1 only), "first-last".
PORTS = os.environ.get("INTEROP_PORTS", "18300-18399")
START_TIMEOUT = 30

@pytest.fixture(autouse=True)
def _node_required():
    require_service(node_problem())


def free_port():
    first, last = (int(part) for part in PORTS.split("-"))
    return services.free_port(range(first, last + 1))


def post_json(url, body=None):
    request = urllib.request.Request(
        url,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.load(response)


class BetterAuth:
    """A running `better-auth-server.mjs`: a real Better Auth with the jwt plugin."""

    def __init__(self, *args, env=None):
        self.args = args
        self.process = subprocess.Popen(
            [NODE, "better-auth-server.mjs", "--port", str(free_port()), *args],
            cwd=INTEROP_DIR,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.url = self._wait_until_ready()["url"]

    def _wait_until_ready(self):
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if selector.select(timeout=START_TIMEOUT):
                line = self.process.stdout.readline()
                if line:
                    return json.loads(line)
        self.stop()
        raise RuntimeError(f"better-auth-server.mjs {' '.join(self.args)} did not start")

    def token(self, email, name="Interop User", password="interop-password"):
        """Sign a user up (or in) and return (jwt-plugin token, user)."""
        body = post_json(
            f"{self.url}/test/token", {"email": email, "password": password, "name": name}
        )
        return body["token"], body["user"]

    def sign_in(self, email, password="interop-password"):
        """--database only: sign up (or in); both tokens with sid, the cookie, session and user."""
        return post_json(f"{self.url}/test/sign-in", {"email": email, "password": password})

    def sign_out(self, signed_in):
        post_json(f"{self.url}/test/sign-out", {"cookie": signed_in["cookie"]})

    def admin(self, action, user_id, **body):
        """--database only: the admin plugin's revoke-sessions, ban, unban or set-role."""
        post_json(f"{self.url}/test/admin/{action}", {"userId": user_id, **body})

    def rotate(self, drop_old=False):
        return post_json(f"{self.url}/test/rotate", {"dropOld": drop_old})

    def jwks_down(self):
        post_json(f"{self.url}/test/jwks-down")

    def jwks_up(self):
        post_json(f"{self.url}/test/jwks-up")

    def stop(self):
        services.stop_process(self.process)
        self.process.stdout.close()


@pytest.fixture(scope="session")
def better_auth_servers():
    """Start each server variant once per session; stop them all at the end."""
    servers = {}

    def get(*args):
        if args not in servers:
            servers[args] = BetterAuth(*args)
        return servers[args]

    yield get
    for server in servers.values():
        server.stop()


@pytest.fixture
def better_auth(better_auth_servers):
    """The plugin's defaults: EdDSA (Ed25519) keys, iss = aud = the server's URL."""
    server = better_auth_servers()
    yield server
    server.jwks_up()


@pytest.fixture
def api(make_app, db):
    """A test client for an app that accepts the given Better Auth server's tokens."""

    def build(server, **overrides):
        app = make_app(BETTER_AUTH_URL=server.url, **overrides)
        return app.test_client()

    return build


def mint_exchange(sub, *flags, secret=SECRET):
    """The token the frontend's token-exchange route mints with jose's SignJWT."""
    result = subprocess.run(
        [NODE, "mint-exchange.mjs", sub, *flags],
        cwd=INTEROP_DIR,
        env={**os.environ, "BETTER_AUTH_SECRET": secret},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.strip()


class CountingProxy:
    """Forwards GET requests to a server and counts them, to see how often the API fetches."""

    def __init__(self, upstream):
        self.requests = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                proxy.requests.append(self.path)
                try:
                    with urllib.request.urlopen(upstream + self.path, timeout=10) as response:
                        status, body = response.status, response.read()
                except urllib.error.HTTPError as error:
                    status, body = error.code, error.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counting_proxy():
    proxies = []

    def start(upstream):
        proxies.append(CountingProxy(upstream))
        return proxies[-1]

    yield start
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def silent_server():
    """A port that accepts connections and never answers: a JWKS host that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


class Stopwatch:
    def __enter__(self):
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.started


@pytest.fixture(scope="session")
def better_auth_database():
    """The URL (postgresql://, as the frontend writes it) of a database of Better Auth's own."""
    url = postgres_url()
    require_service(postgres_problem(url))
    with scratch_database(url, "ironmind_better_auth") as scratch:
        yield make_url(scratch).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def better_auth_pg(better_auth_database):
    """Better Auth on PostgreSQL with the jwt and admin plugins; tokens carry sid and role."""
    server = BetterAuth(
        "--database", better_auth_database, env={"BETTER_AUTH_SECRET": SECRET}
    )
    yield server
    server.stop()


class TcpProxy:
    """Forwards TCP connections to a server; ``down()`` cuts them all and refuses new ones."""

    def __init__(self, host, port):
        self.upstream = (host, port)
        self.connections = 0
        self.is_down = False
        self._open = []
        self._lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", free_port()))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.is_down:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self.connections += 1
                self._open += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def down(self):
        self.is_down = True
        with self._lock:
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._open = []

    def up(self):
        self.is_down = False

    def stop(self):
        self.down()
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self.listener.close()


@pytest.fixture
def better_auth_db_proxy(better_auth_database):
    """A TCP proxy in front of the Better Auth database's server: its URL, through the proxy."""
    url = make_url(better_auth_database)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.url = url.set(port=proxy.port).render_as_string(hide_password=False)
    yield proxy
    proxy.stop()
