"""Outside services some tests need, and the exact command that provides each when missing.

A test that skips tells its reader what is missing *and* the command (or variable) that would
make it run. The ``*_reason`` functions are pure: they turn what was observed into that
sentence (tests/test_skip_reasons.py checks them). The ``*_problem`` functions observe, and
return None when the service is there. Under CI=true the same reasons fail the run instead
(``tests.conftest.require``).
"""

import os
import shutil
import signal
import socket
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
INTEROP_MODULES = ROOT / "tests" / "interop" / "node_modules"
EXAMPLE_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NPM_CI_INTEROP = "npm ci --prefix tests/interop"
START_REDIS = "redis-server --bind 127.0.0.1 --port 6379 --daemonize yes"


def postgres_url(environ=None):
    """The PostgreSQL URL of TEST_DATABASE_URL or else TEST_POSTGRES_URL, or None."""
    environ = os.environ if environ is None else environ
    for name in ("TEST_DATABASE_URL", "TEST_POSTGRES_URL"):
        url = environ.get(name, "")
        if url.startswith("postgresql"):
            return url
    return None


def postgres_reason(url, error=None):
    """No PostgreSQL URL is configured (url None), or the server refused it with ``error``."""
    if url is None:
        return (
            "no PostgreSQL URL is set: run "
            f"`TEST_POSTGRES_URL={EXAMPLE_POSTGRES_URL} pytest` (these tests create and drop a "
            "database of their own; TEST_DATABASE_URL works too)"
        )
    parts = make_url(url)
    host, user = parts.host or "127.0.0.1", parts.username or "postgres"
    return (
        f"PostgreSQL at {parts.render_as_string(hide_password=True)} refused the connection "
        f"({error}): start PostgreSQL (`service postgresql start`), or create the database "
        f"the URL names (`createdb -h {host} -U {user} {parts.database}`)"
    )


def postgresql_suite_reason(what):
    """A test of PostgreSQL-only behaviour, in a suite run on SQLite (the plain `pytest`)."""
    return (
        f"{what}: run the suite on PostgreSQL, `createdb -h 127.0.0.1 -U postgres ironmind_test` "
        "once, then `TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ironmind_test "
        "pytest`"
    )


def postgres_problem(url):
    """None when PostgreSQL answers at ``url``, else why not."""
    if url is None:
        return postgres_reason(None)
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        engine.connect().close()
    except Exception as exc:  # whatever the failure, the reason names its class
        return postgres_reason(url, type(exc).__name__)
    finally:
        engine.dispose()
    return None


def redis_reason(url, server_installed):
    start = START_REDIS if server_installed else f"apt-get install redis-server && {START_REDIS}"
    return f"Redis does not answer at {url}: start it with `{start}`"


def redis_problem(url):
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.RedisError:
        return redis_reason(url, shutil.which("redis-server") is not None)
    return None


def node_reason(node_installed, packages_installed):
    if not node_installed:
        return (
            "node is not installed: install Node.js 20 (`apt-get install nodejs npm`), "
            f"then run `{NPM_CI_INTEROP}`"
        )
    if not packages_installed:
        return f"the interop tests' Node packages are not installed: run `{NPM_CI_INTEROP}`"
    return None


def node_problem():
    return node_reason(
        shutil.which("node") is not None, (INTEROP_MODULES / "better-auth").is_dir()
    )


def chromium_reason(executable):
    if executable:
        return None
    return (
        "chromium is not installed: run `apt-get install chromium` "
        "(what `bash .ci/steps/05-system-packages.sh` does)"
    )


def chromium_problem(path):
    return chromium_reason(bool(path) and os.access(path, os.X_OK))


def nginx_reason(nginx_installed, envsubst_installed):
    """Debian's nginx and envsubst render and run docker/nginx/default.conf.template."""
    if nginx_installed and envsubst_installed:
        return None
    return (
        "nginx or envsubst is not installed: run `apt-get install nginx gettext-base` "
        "(what `bash .ci/steps/06-nginx.sh` does)"
    )


def sbin_binary(name):
    """A Debian program installed in /usr/sbin (which a non-root PATH may lack), or None."""
    found = shutil.which(name) or f"/usr/sbin/{name}"
    return found if os.access(found, os.X_OK) else None


def nginx_binary():
    """Debian's nginx, or None."""
    return sbin_binary("nginx")


def nginx_problem():
    return nginx_reason(nginx_binary() is not None, shutil.which("envsubst") is not None)


def pgbouncer_reason(pgbouncer_installed):
    """Debian's pgbouncer runs in front of PostgreSQL in the multi-instance test."""
    if pgbouncer_installed:
        return None
    return (
        "pgbouncer is not installed: run `apt-get install pgbouncer` "
        "(what `bash .ci/steps/07-pgbouncer-promtool.sh` does)"
    )


def pgbouncer_binary():
    """Debian's pgbouncer, or None."""
    return sbin_binary("pgbouncer")


def promtool_reason(promtool_installed):
    """promtool (Debian's prometheus package) checks the Prometheus config and alert rules."""
    if promtool_installed:
        return None
    return (
        "promtool is not installed: run `apt-get install prometheus` "
        "(what `bash .ci/steps/07-pgbouncer-promtool.sh` does)"
    )


def initdb_reason(pg_bin):
    if pg_bin is not None:
        return None
    return (
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed: run "
        "`apt-get install postgresql` (these tests start a throw-away cluster of their own)"
    )


# The suite's few ad-hoc listeners (the docs-browser server; a port nothing listens on) take the
# first free port of issue 13's range, which .ci/steps/50-schemathesis.sh probes the same way.
SCRATCH_PORTS = range(18660, 18670)


def free_port(ports=SCRATCH_PORTS, reuse_address=False):
    """The first port of ``ports`` that can be bound on 127.0.0.1 (so nothing listens there).

    ``reuse_address`` probes as servers that set SO_REUSEADDR bind (gunicorn, http.server,
    werkzeug, Node): a port whose old connections are in TIME_WAIT counts as free.
    """
    for port in ports:
        with socket.socket() as probe:
            if reuse_address:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def stop_process(process, seconds=10):
    """SIGTERM a process the test started, then SIGKILL its whole group if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (PermissionError, ProcessLookupError):  # not a group leader of its own
            process.kill()
        process.wait(timeout=seconds)


@contextmanager
def scratch_database(url, prefix):
    """A PostgreSQL database of its own on ``url``'s server, named ``<prefix>_<random>``:
    yields its URL, and drops it afterwards, also when the test failed."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
