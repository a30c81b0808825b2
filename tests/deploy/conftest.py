"""Fixtures of the deployment tests: a PostgreSQL database of their own for each module."""

import pytest

from tests.conftest import require_service
from tests.services import postgres_problem, postgres_url, scratch_database


@pytest.fixture(scope="module")
def database():
    """A PostgreSQL database of its own, dropped afterwards."""
    url = postgres_url()
    require_service(postgres_problem(url))
    with scratch_database(url, "ironmind_deploy") as database_url:
        yield database_url
