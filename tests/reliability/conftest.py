"""Fixtures of the reliability suite: a throw-away PostgreSQL cluster and the real gunicorn.

They run in a plain ``pytest`` (about 40 s; they skip, saying why, where PostgreSQL's
initdb is missing, and fail then under CI=true); ``pytest -m reliability`` runs them alone and
``-m "not reliability"`` leaves them out (the PostgreSQL run in CI does: they bring their own
cluster, so a second run would test nothing new).
"""

import pytest

from tests.conftest import require_service
from tests.services import initdb_reason

from .harness import PG_BIN, PORT_BASE, Cluster, Server, migrate

CLUSTER_PORT = PORT_BASE + 10
SERVER_PORT = PORT_BASE + 20


@pytest.fixture(scope="session")
def cluster():
    require_service(initdb_reason(PG_BIN))
    cluster = Cluster(CLUSTER_PORT)
    try:
        cluster.create()
        migrate(cluster.url)
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def server(cluster):
    """gunicorn on the throw-away cluster: 2 workers x 4 threads, production settings."""
    server = Server(cluster.url, SERVER_PORT)
    try:
        yield server.start()
    finally:
        server.stop()
        server.remove_log()


@pytest.fixture
def empty_db(cluster):
    cluster.execute("TRUNCATE tasks, users CASCADE")
    return cluster


@pytest.fixture
def own_server(cluster):
    """A gunicorn of the test's own, for a test that stops it; started with env overrides."""
    servers = []

    def start(**env):
        server = Server(cluster.url, SERVER_PORT + 1 + len(servers), **env)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
        server.remove_log()
