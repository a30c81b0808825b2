"""Per-request cost of the revocation check (is_revoked, which auth/tokens.py runs per token).

Fills revoked_tokens with N rows, then times ``is_revoked`` for a token of this API (jti and
fam: two keys, one indexed query) and a foreign token (a digest of its claims, one key), and
a whole GET /api/protected with and without the check.

    python bench/revocation_check.py                      # SQLite in a temporary file
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<scratch db> \
        python bench/revocation_check.py                  # drops and migrates that database!
    python bench/revocation_check.py --max-median-us 2000 # exit 1 when slower
"""

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jwt as pyjwt  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402

from config import TestingConfig  # noqa: E402
from ironmind_api import create_app  # noqa: E402
from ironmind_api.auth import revocation  # noqa: E402
from ironmind_api.auth.models import RevokedToken  # noqa: E402
from ironmind_api.auth.revocation import is_revoked  # noqa: E402
from ironmind_api.db import db, utcnow  # noqa: E402


def timed(fn, runs):
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=2_000)
    parser.add_argument("--max-median-us", type=float, default=None)
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="ironmind-revocation-check-")
    atexit.register(shutil.rmtree, scratch, True)  # the SQLite file goes with the run
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{scratch}/bench.db"
    # The per-request query; on PostgreSQL the LISTEN/NOTIFY copy is measured at the end.
    app = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=url, LOG_LEVEL="WARNING", REVOCATION_LISTEN=False
    )
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        later = utcnow() + timedelta(days=7)
        db.session.add_all(
            RevokedToken(key=str(uuid.uuid4()), expires_at=later) for _ in range(args.rows)
        )
        db.session.commit()
        own = {"sub": "u", "jti": str(uuid.uuid4()), "fam": uuid.uuid4().hex, "type": "access"}
        foreign = {"sub": "u", "iat": 1, "exp": 2, "jti": None, "type": "access"}
        own_median, own_p99 = timed(lambda: is_revoked(own), args.runs)
        foreign_median, foreign_p99 = timed(lambda: is_revoked(foreign), args.runs)
        db.session.remove()

    token = pyjwt.encode(
        {"sub": "u", "iat": int(time.time()), "exp": int(time.time()) + 900},
        TestingConfig.BETTER_AUTH_SECRET,
        algorithm="HS256",
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    request_runs = max(args.runs // 4, 50)
    with_check = timed(lambda: client.get("/api/protected", headers=headers), request_runs)[0]
    revocation.is_revoked = lambda claims: False  # this process only: the check's cost
    without_check = timed(lambda: client.get("/api/protected", headers=headers), request_runs)[0]
    revocation.is_revoked = is_revoked

    dialect = url.split(":", 1)[0]
    print(f"database: {dialect}, revoked rows: {args.rows}, runs: {args.runs}")
    print(f"is_revoked, own token (jti + fam): median {own_median:.0f} us, p99 {own_p99:.0f} us")
    print(f"is_revoked, foreign token (digest): median {foreign_median:.0f} us, "
          f"p99 {foreign_p99:.0f} us")
    print(f"GET /api/protected: median {with_check:.0f} us with the check, "
          f"{without_check:.0f} us without")
    if dialect.startswith("postgresql"):
        listening = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, LOG_LEVEL="WARNING")
        copy = listening.extensions["revocation_cache"]
        copy.answer(())  # starts the listener
        deadline = time.monotonic() + 10
        while not copy.synced and time.monotonic() < deadline:
            time.sleep(0.05)
        with listening.app_context():
            own_copy = timed(lambda: is_revoked(own), args.runs)[0]
        client = listening.test_client()
        with_copy = timed(lambda: client.get("/api/protected", headers=headers), request_runs)[0]
        print(f"with the LISTEN/NOTIFY copy (synced: {copy.synced}): is_revoked median "
              f"{own_copy:.0f} us; GET /api/protected median {with_copy:.0f} us")
    if args.max_median_us is not None and max(own_median, foreign_median) > args.max_median_us:
        print(f"FAIL: median above {args.max_median_us:.0f} us")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
