def test_health_is_ok_without_a_database(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite")

    response = app.test_client().get("/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_ready_reports_a_working_database(client):
    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_ready_is_503_when_the_database_does_not_answer(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite")

    response = app.test_client().get("/health/ready")

    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "error"}


def test_a_request_needing_an_unreachable_database_is_503(make_app, tmp_path):
    from tests.conftest import bearer, mint

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite")

    response = app.test_client().get("/api/tasks", headers=bearer(mint()))

    assert response.status_code == 503
    assert response.get_json()["error"] == "service_unavailable"


def test_ready_asks_the_database_one_query(app, client):
    from sqlalchemy import event

    from ironmind_api.db import db

    statements = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/health/ready").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert statements == ["SELECT version_num FROM alembic_version"]


def test_ready_is_503_schema_behind_on_a_database_without_migrations(empty_database_app):
    response = empty_database_app.test_client().get("/health/ready")

    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "ok", "schema": "behind"}


def test_ready_is_503_schema_behind_at_an_older_revision(app, client):
    heads = app.extensions["schema_heads"]
    app.extensions["schema_heads"] = frozenset({"0005"})
    try:
        response = client.get("/health/ready")
    finally:
        app.extensions["schema_heads"] = heads

    assert response.status_code == 503
    assert response.get_json()["schema"] == "behind"


BEHIND_LINE = (
    "database schema is not at the latest migration (at no migration, head is 0004): "
    "run `flask --app wsgi db upgrade`"
)


def test_start_on_a_database_without_migrations_logs_one_error(
    make_app, empty_database_settings, log_lines
):
    make_app(SCHEMA_CHECK_AT_START=True, **empty_database_settings)

    errors = [line for line in log_lines() if line["level"] == "ERROR"]
    assert [(line["logger"], line["message"]) for line in errors] == [
        ("ironmind_api.migration_check", BEHIND_LINE)
    ]


def test_start_on_a_migrated_database_logs_no_error(make_app, app, log_lines):
    make_app(SCHEMA_CHECK_AT_START=True)

    assert [line for line in log_lines() if line["level"] in ("WARNING", "ERROR")] == []


def test_start_on_an_unreachable_database_still_starts(make_app, tmp_path, log_lines):
    app = make_app(
        SCHEMA_CHECK_AT_START=True,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite",
    )

    assert app.test_client().get("/health").status_code == 200
    (warning,) = [line for line in log_lines() if line["level"] == "WARNING"]
    assert warning["message"].startswith(
        "schema not checked at start: OperationalError: unable to open database file"
    )


def test_openapi_documents_the_schema_field_of_readiness(client):
    ready = client.get("/api/openapi.json").get_json()["components"]["schemas"]["Ready"]

    assert ready["properties"]["schema"]["enum"] == ["behind"]
    assert "schema" not in ready["required"]
