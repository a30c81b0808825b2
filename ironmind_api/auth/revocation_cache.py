"""A per-process copy of ``revoked_tokens``, kept current by PostgreSQL LISTEN/NOTIFY.

Checking every request against the table costs a pooled connection, a ``pool_pre_ping`` and a
query: most of a request that otherwise touches no database. Instead each worker process keeps
the unexpired revoked keys in memory and answers from them while the copy is *synced*:

* A revocation is written to ``revoked_tokens`` as before, with ``pg_notify(CHANNEL,
  "<expiry epoch> <key>")`` in the same transaction, so the notification is sent exactly when
  (and only if) the row commits. The revoking process also adds the key to its own copy at once.
* One daemon thread per process (started on the first check in that process, so after
  gunicorn forks; the copy is keyed by ``os.getpid()``) holds a dedicated psycopg connection.
  On every (re)connect it runs ``LISTEN``, then loads every unexpired key, and only then marks
  the copy synced. It then waits for notifications and, every ``HEARTBEAT`` seconds without
  one, runs ``SELECT 1`` on that connection to prove the link is alive.
* While the copy is not synced (starting, reconnecting, database down) or its last sign of life
  is older than ``STALE_AFTER``, ``answer()`` returns None and the caller runs the per-request
  query exactly as before. On SQLite (no NOTIFY) there is no copy at all.

Races, and why none of them lets a revoked token through:

1. *A revocation committed between LOAD and LISTEN.* LISTEN runs first, in autocommit, so it is
   in effect before the load's snapshot is taken: a revocation committed before the snapshot
   is in the load, one committed after LISTEN is notified, and as LISTEN precedes the snapshot
   every commit is in at least one of them (both is harmless: the copy only ever adds).
2. *A notification that arrives while the load runs.* psycopg keeps notifications received
   during another query and yields them from the next ``notifies()`` call; none is dropped.
3. *The listener's connection is lost* (``pg_terminate_backend``, a restart, a crash). The
   wait for notifications fails at once, the copy is marked unsynced before anything else, and
   requests fall back to the query until a new connection has listened and reloaded; whatever
   was revoked meanwhile is in that reload (race 1).
4. *The link dies silently* (no reset ever arrives). No notification can be trusted then, so
   the copy is trusted only for ``STALE_AFTER`` seconds after the last successful heartbeat or
   notification; after that requests fall back to the query until a reconnect re-syncs. This
   is the worst-case window for that failure.
5. *Notification delay.* Another process learns of a revocation when the notification
   arrives, normally a millisecond or so after the commit; the process that revoked knows
   before it commits. A request that a second process is already handling when the commit
   lands may still pass, as it may with the query it replaces.
6. *An entry without a committed row* (the revoking transaction rolled back, rows deleted by
   hand or a restore). A key found in the copy is confirmed with the query, so the copy can
   cost a query for a revoked token but never turns away a token the table does not list.
7. *fork.* A child never trusts the parent's copy or thread: a new pid starts a fresh copy
   and its own listener.

Memory is bounded by the table itself: entries are dropped ``PURGE_MARGIN`` after their
token's expiry (the same rule as the table's purge), once a minute, by the listener thread.
"""

import logging
import os
import threading
import time

from sqlalchemy import make_url

from ..db import describe_database_error

log = logging.getLogger(__name__)

CHANNEL = "ironmind_revocations"
HEARTBEAT = 2.0  # s without a notification before the link is proven with SELECT 1
STALE_AFTER = 5.0  # s after the last sign of life when the copy is no longer trusted
RETRY_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)  # s between reconnect attempts, the last repeated
PURGE_EVERY = 60.0  # s between purges of expired entries

LOAD_SQL = (
    "SELECT key, extract(epoch FROM expires_at)::float8 FROM revoked_tokens"
    " WHERE expires_at >= now() - make_interval(secs => %s)"
)

_caches: dict[str, "RevocationCache"] = {}
_caches_lock = threading.Lock()


def payload(key, expires_at):
    """The notification for one revoked key: its expiry first, since a key may hold spaces."""
    return f"{expires_at.timestamp():.0f} {key}"


def cache_for(database_uri, connect_args, margin_seconds):
    """The one copy per database of this process (shared by every app on that database)."""
    with _caches_lock:
        cache = _caches.get(database_uri)
        if cache is None:
            cache = _caches[database_uri] = RevocationCache(
                database_uri, connect_args, margin_seconds
            )
        return cache


def stop(database_uri):
    """Stop this process's listener on a database, e.g. before a test drops that database."""
    with _caches_lock:
        cache = _caches.pop(database_uri, None)
    if cache is not None:
        cache.stopped = True


class RevocationCache:
    def __init__(self, database_uri, connect_args, margin_seconds):
        url = make_url(database_uri).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._connect_args = dict(connect_args)
        self._margin = margin_seconds
        self._lock = threading.Lock()
        self._pid = None
        self.stopped = False
        self._entries = {}  # key -> expiry, epoch seconds
        self._alive_at = None  # monotonic time of the last sign of life while synced
        self._started_at = None  # monotonic time this process's listener started
        self.listener_pid = None  # the listening connection's backend pid, for operators/tests

    # -- request threads -----------------------------------------------------------------

    def answer(self, keys):
        """True/False from the copy, or None when it cannot be trusted (ask the database)."""
        if self._pid != os.getpid():
            if not self.stopped:
                self._start()
            return None
        alive_at = self._alive_at
        if alive_at is None or time.monotonic() - alive_at > STALE_AFTER:
            return None
        entries = self._entries
        return any(key in entries for key in keys)

    @property
    def synced(self):
        return self.answer(()) is not None

    def lag(self):
        """Seconds since the copy's last sign of life (since its listener started, if never)."""
        since = self._alive_at or self._started_at
        return time.monotonic() - since if since is not None else 0.0

    def add(self, key, expires_at):
        with self._lock:
            self._entries[key] = expires_at

    def _start(self):
        with _caches_lock:
            if self._pid == os.getpid():
                return
            # After a fork the parent's copy and thread are not ours: start over.
            self._pid = os.getpid()
            self._entries, self._alive_at, self.listener_pid = {}, None, None
            self._started_at = time.monotonic()
            threading.Thread(
                target=self._run, args=(self._pid,), name="revocation-listener", daemon=True
            ).start()

    # -- the listener thread -------------------------------------------------------------

    def _run(self, pid):
        # Only this thread talks to the database directly and sets the gauges: a process that
        # never checks a token (a `flask` command) imports neither psycopg nor the metrics.
        import psycopg

        from ..metrics import record_revocation_copy, revocation_reconnects

        failures = 0
        while self._pid == pid and not self.stopped:
            try:
                with psycopg.connect(self._conninfo, autocommit=True, **self._connect_args) as conn:
                    self._sync(conn)
                    failures = 0
                    self._listen(conn)
            except Exception as error:  # any failure means: not synced, reconnect
                was_synced = self._alive_at is not None
                self._alive_at = None
                self.listener_pid = None
                level = logging.WARNING if was_synced else logging.DEBUG
                log.log(level, "revocation cache unsynced: %s", describe_database_error(error))
                revocation_reconnects.inc()
                record_revocation_copy(self)
            time.sleep(RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)])
            failures += 1

    def _sync(self, conn):
        from ..metrics import record_revocation_copy  # see _run

        conn.execute(f"LISTEN {CHANNEL}")
        rows = conn.execute(LOAD_SQL, (self._margin,)).fetchall()
        with self._lock:
            self._entries.update(rows)
        self.listener_pid = conn.info.backend_pid
        self._alive_at = time.monotonic()
        record_revocation_copy(self)
        log.info("revocation cache synced: %d revoked keys", len(rows))

    def _listen(self, conn):
        from ..metrics import record_revocation_copy  # see _run

        purged_at = time.monotonic()
        while not self.stopped:
            for notify in conn.notifies(timeout=HEARTBEAT):
                self._apply(notify.payload)
                self._alive_at = time.monotonic()
            conn.execute("SELECT 1")
            self._alive_at = time.monotonic()
            record_revocation_copy(self)
            if self._alive_at - purged_at >= PURGE_EVERY:
                self._purge()
                purged_at = self._alive_at

    def _apply(self, message):
        expires, _, key = message.partition(" ")
        try:
            self.add(key, float(expires))
        except ValueError:
            log.warning("revocation cache: malformed notification ignored")

    def _purge(self):
        cutoff = time.time() - self._margin
        with self._lock:
            expired = [key for key, expires in self._entries.items() if expires < cutoff]
            for key in expired:
                del self._entries[key]
