"""Seed the benchmark database in bulk: users, then tasks, with INSERT ... SELECT generate_series.

One "heavy" user holds every 100th task (10,000 of 1,000,000); the rest are spread evenly
over the other users. Ids look like the app's own (uuid4 hex for users, uuid4 text for tasks).
"""

import time

import psycopg
from argon2 import PasswordHasher

from config import ProductionConfig

BENCH_PASSWORD = "bench-password-not-a-secret"

USERS_SQL = """
INSERT INTO users (id, email, name, password_hash, created_at)
SELECT md5('bench-user-' || i), 'bench-user-' || lpad(i::text, 4, '0') || '@bench.local',
       'Bench User ' || i, %(hash)s, timestamptz '2026-01-01 00:00:00+00'
FROM generate_series(0, %(users)s - 1) AS i
"""

# Task n is created n seconds after the epoch below, so created_at is unique per user and
# pages are deterministic; every `stride`-th task belongs to user 0, the heavy one.
TASKS_SQL = """
INSERT INTO tasks (id, user_id, title, description, completed, created_at, updated_at)
SELECT gen_random_uuid()::text,
       md5('bench-user-' || CASE WHEN n %% %(stride)s = 0 THEN 0
                                 ELSE 1 + n %% (%(users)s - 1) END),
       'Seeded task ' || n,
       CASE WHEN n %% 3 = 0 THEN 'A seeded description for task ' || n END,
       n %% 4 = 0,
       timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second',
       timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second'
FROM generate_series(0, %(tasks)s - 1) AS n
"""


def heavy_user_id():
    import hashlib

    return hashlib.md5(b"bench-user-0", usedforsecurity=False).hexdigest()


def user_email(i):
    return f"bench-user-{i:04d}@bench.local"


def password_hash():
    """One argon2id hash with the production parameters, shared by every seeded user."""
    hasher = PasswordHasher(
        time_cost=ProductionConfig.ARGON2_TIME_COST,
        memory_cost=ProductionConfig.ARGON2_MEMORY_COST,
        parallelism=ProductionConfig.ARGON2_PARALLELISM,
    )
    return hasher.hash(BENCH_PASSWORD)


def seed(dsn, users, tasks, heavy_tasks):
    """Empty the tables and fill them; return timings in seconds."""
    if tasks % heavy_tasks:
        raise ValueError("tasks must be a multiple of heavy_tasks")
    params = {
        "users": users, "tasks": tasks, "stride": tasks // heavy_tasks, "hash": password_hash(),
    }
    timings = {}
    with psycopg.connect(dsn, autocommit=False) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        started = time.perf_counter()
        # token_families (sessions) references users; revoked_tokens is emptied with them.
        conn.execute("TRUNCATE tasks, token_families, revoked_tokens, users")
        conn.execute(USERS_SQL, params)
        # Building the two indexes once after the load is several times faster than
        # maintaining them row by row; they are recreated exactly as the migration made them.
        conn.execute("ALTER TABLE tasks DROP CONSTRAINT tasks_pkey")
        conn.execute("DROP INDEX ix_tasks_user_created_id")
        conn.execute(TASKS_SQL, params)
        conn.execute("ALTER TABLE tasks ADD CONSTRAINT tasks_pkey PRIMARY KEY (id)")
        conn.execute(
            "CREATE INDEX ix_tasks_user_created_id ON tasks (user_id, created_at, id)"
        )
        conn.commit()
        timings["insert_s"] = round(time.perf_counter() - started, 2)
    with psycopg.connect(dsn, autocommit=True) as conn:
        started = time.perf_counter()
        # Fresh statistics and a set visibility map, as autovacuum would leave them.
        conn.execute("VACUUM (ANALYZE) users")
        conn.execute("VACUUM (ANALYZE) tasks")
        timings["vacuum_analyze_s"] = round(time.perf_counter() - started, 2)
        count = conn.execute("SELECT count(*) FROM tasks").fetchone()[0]
        heavy = conn.execute(
            "SELECT count(*) FROM tasks WHERE user_id = %s", (heavy_user_id(),)
        ).fetchone()[0]
    timings.update(users=users, tasks=count, heavy_user_tasks=heavy)
    return timings
