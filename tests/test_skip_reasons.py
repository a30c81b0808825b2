"""Each skip reason names the exact command that would make the skipped tests run."""

import re
from pathlib import Path

import pytest
from _pytest.outcomes import Failed, Skipped

import tests.conftest
from tests import services
from tests.conftest import require_service

TESTS = Path(__file__).resolve().parent
COMMAND = re.compile(r"`[^`]+`")


def test_no_postgresql_url_says_which_variable_to_set_and_to_what():
    # Set but SQLite (the README's plain `pytest`), or not set at all: both mean "no URL".
    assert services.postgres_url({"TEST_DATABASE_URL": "sqlite:///x.db"}) is None
    assert services.postgres_url({}) is None
    reason = services.postgres_reason(services.postgres_url({}))
    assert (
        "`TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres pytest`" in reason
    )
    assert "PostgreSQL is needed" not in reason


def test_either_variable_provides_the_url_test_database_url_first():
    pg = "postgresql+psycopg://postgres@127.0.0.1:5432/"
    environ = {"TEST_DATABASE_URL": pg + "a", "TEST_POSTGRES_URL": pg + "b"}
    assert services.postgres_url(environ) == pg + "a"
    assert services.postgres_url({"TEST_POSTGRES_URL": pg + "b"}) == pg + "b"


def test_a_postgresql_that_refuses_says_how_to_start_it_or_create_the_database():
    url = "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/ironmind_i13a_missing"
    reason = services.postgres_problem(url)
    assert reason is not None and "OperationalError" in reason
    assert "`service postgresql start`" in reason
    assert "`createdb -h 127.0.0.1 -U postgres ironmind_i13a_missing`" in reason
    assert "s3cret-pw" not in reason


def test_redis_reason_says_how_to_start_it_and_to_install_it_when_missing():
    start = "redis-server --bind 127.0.0.1 --port 6379 --daemonize yes"
    installed = services.redis_reason("redis://127.0.0.1:6379/4", server_installed=True)
    assert f"`{start}`" in installed and "redis://127.0.0.1:6379/4" in installed
    assert f"`apt-get install redis-server && {start}`" in services.redis_reason("r", False)
    assert services.redis_problem("redis://127.0.0.1:1/0") is not None


def test_node_reason_tells_npm_ci_apart_from_a_missing_node():
    assert services.node_reason(True, True) is None
    packages = services.node_reason(node_installed=True, packages_installed=False)
    assert "`npm ci --prefix tests/interop`" in packages
    assert "Node.js" not in packages  # node is there; only the packages are missing
    no_node = services.node_reason(node_installed=False, packages_installed=False)
    assert "`apt-get install nodejs npm`" in no_node and "npm ci --prefix tests/interop" in no_node


def test_chromium_and_initdb_reasons_name_the_package_to_install():
    assert services.chromium_problem("/nonexistent/chromium") == services.chromium_reason(False)
    assert "`apt-get install chromium`" in services.chromium_reason(False)
    assert services.chromium_reason(True) is None
    assert "`apt-get install postgresql`" in services.initdb_reason(None)
    assert services.initdb_reason("/usr/lib/postgresql/16/bin") is None


def test_nginx_reason_names_both_packages_and_the_ci_step():
    assert services.nginx_reason(True, True) is None
    for installed in [(False, True), (True, False), (False, False)]:
        reason = services.nginx_reason(*installed)
        assert "`apt-get install nginx gettext-base`" in reason
        assert "`bash .ci/steps/06-nginx.sh`" in reason


def test_pgbouncer_and_promtool_reasons_name_the_package_and_the_ci_step():
    assert services.pgbouncer_reason(True) is None
    assert services.promtool_reason(True) is None
    for reason, package in [
        (services.pgbouncer_reason(False), "pgbouncer"),
        (services.promtool_reason(False), "prometheus"),
    ]:
        assert f"`apt-get install {package}`" in reason
        assert "`bash .ci/steps/07-pgbouncer-promtool.sh`" in reason


def test_a_postgresql_only_test_says_how_to_run_the_suite_on_postgresql():
    reason = services.postgresql_suite_reason("statement_timeout is PostgreSQL's")
    assert "`createdb -h 127.0.0.1 -U postgres ironmind_test`" in reason
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/ironmind_test"
    assert f"`TEST_DATABASE_URL={url} pytest`" in reason
    with pytest.raises(Skipped, match="createdb"):
        tests.conftest.only_on_postgresql("sqlite:///x.db", "PostgreSQL only")
    tests.conftest.only_on_postgresql(url, "PostgreSQL only")  # runs there


def test_every_reason_carries_a_command():
    reasons = [
        services.postgresql_suite_reason("x"),
        services.postgres_reason(None),
        services.postgres_reason("postgresql+psycopg://u@h:5432/d", "OperationalError"),
        services.redis_reason("redis://h:6379/0", True),
        services.redis_reason("redis://h:6379/0", False),
        services.node_reason(False, False),
        services.node_reason(True, False),
        services.chromium_reason(False),
        services.initdb_reason(None),
        services.nginx_reason(False, False),
        services.pgbouncer_reason(False),
        services.promtool_reason(False),
    ]
    for reason in reasons:
        assert COMMAND.search(reason), reason


def test_require_service_skips_with_the_reason_and_fails_under_ci(monkeypatch):
    require_service(None)  # the service is there: nothing happens
    monkeypatch.setattr(tests.conftest, "IN_CI", False)
    with pytest.raises(Skipped, match="npm ci --prefix tests/interop"):
        require_service(services.node_reason(True, False))
    monkeypatch.setattr(tests.conftest, "IN_CI", True)
    with pytest.raises(Failed, match="CI=true but .*npm ci --prefix tests/interop"):
        require_service(services.node_reason(True, False))


def test_every_skip_in_the_suite_goes_through_tests_services():
    # A bare pytest.skip("... is needed") elsewhere would bring back reasons without a command.
    direct = re.compile(r"pytest\.skip\(|mark\.skip|importorskip|\brequire\(")
    offenders = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in TESTS.rglob("*.py")
        if path.name not in ("conftest.py", "test_skip_reasons.py") or path.parent != TESTS
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if direct.search(line)
    ]
    assert offenders == []
