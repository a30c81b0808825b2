"""Debian's pgbouncer in transaction pooling, started by tests in front of a PostgreSQL database."""

import os
import pwd
import shutil
import subprocess
import tempfile
import time

import psycopg
from sqlalchemy import make_url

from tests import services

PGBOUNCER_INI = """
[databases]
{name} = host={host} port={port} dbname={name} user={user}{connect_query}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 200
logfile = {root}/pgbouncer.log
pidfile = {root}/pgbouncer.pid
"""


class PgBouncer:
    """Debian's pgbouncer in the foreground, its ini, log and pid file in a temporary directory."""

    def __init__(self, database_url, port, pool_size=5, connect_query=""):
        self.port = port
        self.root = tempfile.mkdtemp(prefix="ironmind-pgbouncer-")
        url = make_url(database_url)
        self.direct = url
        self.url = url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        ini = os.path.join(self.root, "pgbouncer.ini")
        with open(ini, "w") as file:
            file.write(PGBOUNCER_INI.format(
                name=url.database, host=url.host or "127.0.0.1", port=url.port or 5432,
                user=url.username or "postgres",
                connect_query=f" connect_query='{connect_query}'" if connect_query else "",
                listen_port=port, pool_size=pool_size, root=self.root,
            ))
        # pgbouncer refuses to run as root: as the postgres OS user then.
        as_user = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            as_user = ["runuser", "-u", "postgres", "--"]
        self.command = [*as_user, services.pgbouncer_binary(), ini]
        self.process = None

    def start(self, seconds=20):
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited at start-up:\n{self.log_text()}")
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return self
            except psycopg.OperationalError:
                time.sleep(0.2)
        raise RuntimeError(f"pgbouncer did not answer within {seconds} s:\n{self.log_text()}")

    def dsn(self):
        return make_url(self.url).set(drivername="postgresql").render_as_string(False)

    def log_text(self):
        try:
            with open(os.path.join(self.root, "pgbouncer.log")) as log:
                return log.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        services.stop_process(self.process)
        shutil.rmtree(self.root, ignore_errors=True)
