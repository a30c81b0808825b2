"""Frontend tokens bound to a Better Auth session: accepted only while that session lives.

With ``BETTER_AUTH_DATABASE_URL`` set, a frontend token (the HS256 exchange or a JWT-plugin
token) that carries ``sid``, the Better Auth session id, is checked against the frontend's own
database, read-only, with one indexed query by primary keys::

    session row gone or past its "expiresAt"  -> 401 token_revoked (sign-out, revoke, expiry)
    the session belongs to another user         -> 401 invalid_token
    the user "banned" (and "banExpires" unset
    or still ahead)                             -> 403 account_disabled
    the database does not answer                -> 503 service_unavailable, Retry-After

The user is read by the token's ``sub`` even when the session is gone, because the admin
plugin's ban deletes the user's sessions: a banned user is told so, not asked to sign in.
Which of the admin plugin's columns (``banned``, ``banExpires``, ``role``) exist is read once
per process; when ``role`` exists, it replaces the token's role, so a ``setRole`` is seen as
fast as a sign-out.

Cost: an accepted answer is kept per process for ``CACHE_SECONDS``, counted from the start of
its query (a session the query saw alive may have ended since it started, never before), so a
session costs at most one query per worker per second, and a sign-out, revocation or ban is
seen by every worker within one second of its commit. Refusals are never kept: a refused
token is asked about again, and the first answer after a recovery counts. Concurrent requests
for one session wait for the one query in flight (a lock per stripe of sessions) instead of
sending their own.

The engine is this module's own, apart from the API's database: a small pool, pre-ping,
connect and statement timeouts, read-only transactions, made per process (after gunicorn
forks). Nothing is set per connection (no startup options, no prepared statements), so the
frontend's pooled connection string (PgBouncer in transaction pooling) works as is. Tokens
without ``sid`` pass unchecked unless ``BETTER_AUTH_REQUIRE_SESSION`` is on; the API's own
tokens never reach this module.
"""

import logging
import os
import threading
import time
from dataclasses import replace

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..db import describe_database_error
from ..errors import AccountDisabled, InvalidToken, ServiceUnavailable, TokenRevoked

log = logging.getLogger(__name__)

CACHE_SECONDS = 1.0
RETRY_AFTER = "1"  # s: the pool reconnects on the next request
MAX_SID_LENGTH = 255
LOCK_STRIPES = 64
SWEEP_ABOVE = 10000  # cached sessions before expired entries are dropped
ADMIN_COLUMNS = ("banned", "banExpires", "role")

COLUMNS_SQL = text(
    "SELECT column_name FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND table_name = 'user'"
    " AND column_name IN ('banned', 'banExpires', 'role')"
)


def session_sql(columns):
    """The one query: the session by id and the user by the token's subject, both optional."""
    if "banned" not in columns:
        banned = "false"
    elif "banExpires" in columns:
        banned = 'coalesce(u.banned, false) AND (u."banExpires" IS NULL OR u."banExpires" > now())'
    else:
        banned = "coalesce(u.banned, false)"
    role = "u.role" if "role" in columns else "NULL"
    # Only the fixed fragments above are formatted in; the token's values are parameters.
    return text(
        f'SELECT s."userId" AS owner, s."expiresAt" > now() AS live,'  # noqa: S608
        f" u.id IS NOT NULL AS user_exists, {banned} AS banned, {role} AS role"
        ' FROM (SELECT 1) AS one LEFT JOIN "session" AS s ON s.id = :sid'
        ' LEFT JOIN "user" AS u ON u.id = :sub'
    )


class SessionCheck:
    """One app's session check: its engine, the admin columns found, the positive cache."""

    def __init__(self, config):
        self.url = config["BETTER_AUTH_SESSIONS_URL"]
        self.require_session = config["BETTER_AUTH_REQUIRE_SESSION"]
        self.engine_options = {
            "pool_size": 2,
            "max_overflow": max(0, config["DB_POOL_SIZE"] - 2),
            "pool_timeout": config["DB_POOL_TIMEOUT"],
            "pool_recycle": config["DB_POOL_RECYCLE"],
            "pool_pre_ping": True,
            "hide_parameters": True,
            # The frontend's own connection string may be a transaction pooler's (PgBouncer,
            # hosted PostgreSQL's "pooled" URL): no startup options, no prepared statements,
            # and the settings below live in the check's own transaction.
            "connect_args": {
                "connect_timeout": config["DB_CONNECT_TIMEOUT"],
                "tcp_user_timeout": config["DB_CONNECT_TIMEOUT"] * 1000,
                "prepare_threshold": None,
            },
        }
        self.statement_timeout = text(
            "SELECT set_config('statement_timeout', :ms, true)"
        ).bindparams(ms=str(config["DB_STATEMENT_TIMEOUT_MS"]))
        self._engine = None
        self._pid = None
        self._has_role = False
        self._query = None
        self._cache = {}
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]
        self._setup_lock = threading.Lock()

    def check(self, identity):
        """The identity, its role from Better Auth's user row; or the refusal of its session."""
        sid = identity.claims.get("sid")
        if sid is None:
            if self.require_session:
                raise InvalidToken(
                    message="The access token carries no session id (sid); the API requires one."
                )
            return identity
        if not (isinstance(sid, str) and 0 < len(sid) <= MAX_SID_LENGTH):
            raise InvalidToken(message="The access token's claims are not acceptable.")
        found, role = self._answer(sid, identity.subject)
        return replace(identity, role=role) if found else identity

    def _answer(self, sid, subject):
        """(whether the role column exists, the user's role), from the cache or one query."""
        key = (sid, subject)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        with self._stripes[hash(key) % LOCK_STRIPES]:
            cached = self._cache.get(key)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            started = time.monotonic()
            answer = self._verdict(self._fetch(sid, subject), subject)
            self._remember(key, started + CACHE_SECONDS, answer)
            return answer

    def _verdict(self, row, subject):
        if row.banned:
            raise AccountDisabled()
        if row.owner is None or not row.live or not row.user_exists:
            raise TokenRevoked(message="The session has ended; sign in again.")
        if row.owner != subject:
            raise InvalidToken(message="The access token's session (sid) is another user's.")
        return self._has_role, row.role

    def _remember(self, key, until, answer):
        if len(self._cache) >= SWEEP_ABOVE:
            now = time.monotonic()
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[key] = (until, answer)

    def _fetch(self, sid, subject):
        try:
            # BEGIN READ ONLY, the timeout for this transaction only, the query; the
            # connection's return to the pool rolls back.
            with self._connected().connect().execution_options(postgresql_readonly=True) as conn:
                conn.execute(self.statement_timeout)
                if self._query is None:
                    self._find_columns(conn)
                return conn.execute(self._query, {"sid": sid, "sub": subject}).one()
        except (SQLAlchemyError, DBAPIError) as exc:
            log.error("better auth database unavailable: %s", describe_database_error(exc))
            raise ServiceUnavailable(
                message="The sign-in database is unavailable; try again shortly.",
                headers={"Retry-After": RETRY_AFTER},
            ) from None

    def _find_columns(self, conn):
        columns = {row[0] for row in conn.execute(COLUMNS_SQL)}
        self._has_role = "role" in columns
        self._query = session_sql(columns)
        log.info(
            "better auth session check: admin columns %s",
            ", ".join(name for name in ADMIN_COLUMNS if name in columns) or "none",
        )

    def _connected(self):
        """This process's engine: a forked worker never shares its parent's connections."""
        if self._pid != os.getpid():
            with self._setup_lock:
                if self._pid != os.getpid():
                    self._engine = create_engine(self.url, **self.engine_options)
                    self._cache = {}
                    self._pid = os.getpid()
        return self._engine


def init_app(app):
    """The app's session check (None without BETTER_AUTH_DATABASE_URL)."""
    url = app.config["BETTER_AUTH_SESSIONS_URL"]
    check = app.extensions["better_auth_sessions"] = SessionCheck(app.config) if url else None
    return check
