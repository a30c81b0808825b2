"""Fixtures of the deployment tests: a PostgreSQL database of their own for each module."""

import uuid

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.conftest import require_service
from tests.services import postgres_problem, postgres_url


@pytest.fixture(scope="module")
def database():
    """A PostgreSQL database of its own, dropped afterwards."""
    url = postgres_url()
    require_service(postgres_problem(url))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"ironmind_deploy_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
