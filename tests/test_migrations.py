"""The schema comes only from migrations, and they match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ironmind_api.db import db as _db


def test_migrations_produce_exactly_the_models_schema(app):
    # The session's database was built by `flask db upgrade` (see conftest.reset_schema).
    with app.app_context(), _db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, _db.metadata)

    assert differences == []


def test_the_tasks_listing_index_exists(app):
    with app.app_context():
        indexes = _db.inspect(_db.engine).get_indexes("tasks")

    assert any(ix["column_names"] == ["user_id", "created_at", "id"] for ix in indexes)
