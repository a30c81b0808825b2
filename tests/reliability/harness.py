"""Real processes for the reliability suite and the soak: a throw-away PostgreSQL cluster,
the production gunicorn serving wsgi:app, and a small timed HTTP client.

Everything started here is stopped by its own ``stop()``; the fixtures and the soak call it
in ``finally`` blocks, so nothing outlives a run.
"""

import glob
import http.client
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import jwt as pyjwt
import psycopg

ROOT = Path(__file__).resolve().parents[2]
PORT_BASE = int(os.environ.get("RELIABILITY_PORT_BASE", "18800"))
SECRET = "reliability-suite-secret-" + "x" * 16  # 41 characters: production accepts it
CLIENT_TIMEOUT = 20  # s: a request this slow is a hang, and fails the test rather than the run


def _pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


PG_BIN = _pg_bin()


class Cluster:
    """A PostgreSQL cluster in a temporary directory, on one of our ports."""

    def __init__(self, port):
        self.port = port
        self.tmp = tempfile.mkdtemp(prefix="ironmind-pg-")
        self.data = os.path.join(self.tmp, "data")
        self.log = os.path.join(self.tmp, "postgres.log")
        self.started = False
        # initdb refuses to run as root: run the server as the postgres OS user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            account = pwd.getpwnam("postgres")
            os.chown(self.tmp, account.pw_uid, account.pw_gid)

    @property
    def url(self):
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/ironmind"

    @property
    def dsn(self):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=ironmind"

    def _run(self, *args, timeout=60):
        command = [*self.as_user, os.path.join(PG_BIN, args[0]), *args[1:]]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def create(self):
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync", "--no-instructions")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  "ironmind")

    def start(self):
        options = (f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=60 -c shared_buffers=32MB")
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "30",
                  "start")
        self.started = True

    def stop(self, mode="fast"):
        if self.started:
            self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")
            self.started = False

    def destroy(self):
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def connect(self, **kwargs):
        return psycopg.connect(self.dsn, autocommit=True, connect_timeout=5, **kwargs)

    def execute(self, sql, *params):
        with self.connect() as conn:
            conn.execute(sql, params)

    def rows(self, sql, *params):
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()


def server_env(database_url, port, **overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "DB_"))}
    env.update(
        APP_ENV="production",
        BETTER_AUTH_SECRET=SECRET,
        DATABASE_URL=database_url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="4",
        RATELIMIT_AUTH="100000 per minute",
        RATELIMIT_STORAGE_URI="memory://",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def migrate(database_url):
    """Build the schema the way a deployment does: flask db upgrade."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT, env=server_env(database_url, 0), check=True, capture_output=True, timeout=120,
    )


class Server:
    """gunicorn -c gunicorn.conf.py wsgi:app, as production runs it."""

    def __init__(self, database_url, port, command=None, env=None, ready_path="/health",
                 **overrides):
        """``env`` replaces the default production-like environment (``overrides`` add to
        it); ``command`` replaces ``gunicorn -c gunicorn.conf.py wsgi:app`` (e.g. the
        container's entrypoint); start() waits until ``ready_path`` answers 200."""
        self.port = port
        if env is None:
            self.env = server_env(database_url, port, **overrides)
        else:
            self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
        self.command = command or [
            sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"
        ]
        self.ready_path = ready_path
        handle, self.log_path = tempfile.mkstemp(prefix="ironmind-gunicorn-", suffix=".log")
        os.close(handle)
        self.err_path = self.log_path[: -len(".log")] + ".err"
        self.process = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def graceful_timeout(self):
        return int(self.env.get("GUNICORN_GRACEFUL_TIMEOUT", 20))

    def start(self, seconds=60):
        with open(self.log_path, "wb") as log, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=err,
                start_new_session=True,
            )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start-up:\n{self.log_text()[-3000:]}")
            try:
                if Client(self.port, timeout=2).get(self.ready_path).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer {self.ready_path} within {seconds} s")

    def worker_pids(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def log_text(self):
        """stdout (every line JSON), then anything written to stderr."""
        return Path(self.log_path).read_text(errors="replace") + Path(self.err_path).read_text(
            errors="replace"
        )

    def lines(self):
        """stdout's lines, parsed: a line that is not JSON raises."""
        return [json.loads(line) for line in Path(self.log_path).read_text().splitlines() if line]

    def log_records(self):
        records = []
        for line in self.log_text().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                records.append({"raw": line})
        return records

    def unhandled_errors(self):
        """Log records of requests that ended in a 500 (with their tracebacks)."""
        return [r for r in self.log_records() if r.get("message") == "unhandled error"]

    def stop(self):
        """SIGTERM, then SIGKILL of the whole process group if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=self.graceful_timeout + 10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # any orphaned worker
        except ProcessLookupError:
            pass

    def remove_log(self):
        Path(self.log_path).unlink(missing_ok=True)
        Path(self.err_path).unlink(missing_ok=True)


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def mint(sub, ttl=900, **claims):
    """A token minted outside the API, as the frontend's exchange route does."""
    now = int(time.time())
    return pyjwt.encode({"sub": sub, "iat": now, "exp": now + ttl, **claims}, SECRET, "HS256")


def subject(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Response:
    def __init__(self, status, headers, body, elapsed, request_id):
        self.status, self.headers, self.body = status, headers, body
        self.elapsed, self.request_id = elapsed, request_id

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.elapsed:.2f}s {self.body[:200]!r}>"


class Client:
    """One keep-alive HTTP connection; every response timed and tagged with a request id."""

    def __init__(self, port, token=None, timeout=CLIENT_TIMEOUT):
        self.port, self.token, self.timeout = port, token, timeout
        self.conn = None
        self.last_request_id = None

    def request(self, method, path, body=None, headers=None):
        request_id = self.last_request_id = uuid.uuid4().hex
        sent = {"X-Request-ID": request_id, **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        started = time.monotonic()
        try:
            self.conn.request(method, path, body=payload, headers=sent)
            raw = self.conn.getresponse()
            data = raw.read()
        except BaseException:
            self.close()
            raise
        response = Response(raw.status, dict(raw.getheaders()), data.decode(),
                            time.monotonic() - started, request_id)
        if raw.getheader("Connection", "").lower() == "close":
            self.close()
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body, **kw):
        return self.request("PATCH", path, body, **kw)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def next_link(response):
    """The path and query of a Link rel="next" header, or None."""
    link = response.headers.get("Link")
    if not link:
        return None
    url = urlsplit(link.split(";")[0].strip("<> "))
    return f"{url.path}?{url.query}"


def is_service_unavailable(response):
    """A 503 in the contract's one error shape."""
    if response.status != 503 or not response.headers.get("Content-Type", "").startswith(
        "application/json"
    ):
        return False
    body = response.json()
    return (
        set(body) == {"error", "message", "request_id"}
        and body["error"] == "service_unavailable"
        and isinstance(body["message"], str)
        and body["request_id"] == response.request_id
    )
