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
