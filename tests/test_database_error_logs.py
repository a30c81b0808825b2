"""A database error is logged with its cause, never with statement parameters or the password."""

from sqlalchemy import text

from ironmind_api.db import db as _db
from tests.conftest import bearer, mint, require_service
from tests.services import free_port, postgres_problem, postgres_url

SECRET_VALUE = "parameter-secret-4711@example.com"
PASSWORD = "hunter2-db-password"


def test_an_unreachable_database_is_logged_with_its_cause_not_its_password(make_app, log_lines):
    closed = free_port()  # bindable, so nothing listens there
    app = make_app(
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://ironmind:{PASSWORD}@127.0.0.1:{closed}/x",
        REVOCATION_LISTEN=False,
    )

    response = app.test_client().get("/api/tasks", headers=bearer(mint()))

    assert response.status_code == 503
    (line,) = [line for line in log_lines() if line["level"] == "ERROR"]
    assert line["message"] == (
        "database unavailable: OperationalError: connection failed: connection to server at "
        f'"127.0.0.1", port {closed} failed: Connection refused'
    )
    assert PASSWORD not in str(log_lines())


def test_a_failed_statement_is_logged_with_its_cause_not_its_parameters(make_app, db, log_lines):
    app = make_app()

    @app.post("/duplicate")
    def duplicate():
        insert = text("INSERT INTO users (id, email, created_at) VALUES (:id, :email, :at)")
        for user_id in ("first", "second"):
            _db.session.execute(insert, {"id": user_id, "email": SECRET_VALUE, "at": "2026-01-01"})
        return {}

    response = app.test_client().post("/duplicate")

    assert response.status_code == 500
    (line,) = [line for line in log_lines() if line["level"] == "ERROR"]
    # SQLite: "UNIQUE constraint failed: users.email"; PostgreSQL: "duplicate key value
    # violates unique constraint …", whose next line would quote the email.
    assert line["message"].startswith("database error: IntegrityError: ")
    assert "unique" in line["message"].lower()
    assert SECRET_VALUE not in str(log_lines())
    assert "Traceback" not in str(log_lines())


def test_a_statement_timeout_is_logged_with_its_cause_not_its_parameters(make_app, log_lines):
    url = postgres_url()  # statement_timeout is PostgreSQL's; the statement needs no table
    require_service(postgres_problem(url))
    app = make_app(
        SQLALCHEMY_DATABASE_URI=url, DB_STATEMENT_TIMEOUT_MS=100, REVOCATION_LISTEN=False
    )

    @app.get("/slow")
    def slow():
        sleep = text("SELECT pg_sleep(:seconds), :tag")
        _db.session.execute(sleep, {"seconds": 1, "tag": SECRET_VALUE})
        return {}

    response = app.test_client().get("/slow")

    assert response.status_code == 503
    (line,) = [line for line in log_lines() if line["level"] == "ERROR"]
    assert line["message"] == (
        "database unavailable: OperationalError: canceling statement due to statement timeout"
    )
    assert SECRET_VALUE not in str(log_lines())
