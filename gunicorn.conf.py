"""gunicorn settings, from the environment: gunicorn -c gunicorn.conf.py wsgi:app"""

import glob
import logging
import multiprocessing
import os
import shutil
import sys
import tempfile

from gunicorn import glogging


def _int(name, default):
    value = os.environ.get(name) or default
    try:
        return int(value)
    except ValueError:
        sys.exit(f"error: {name} must be a whole number; got {value!r}.")


def _forwarded_allow_ips():
    """The app's TRUSTED_PROXY_ADDRESSES, so gunicorn and the app trust the same peers."""
    from config import Config, ConfigError, proxy_networks

    try:
        return ",".join(map(str, proxy_networks(Config.TRUSTED_PROXY_ADDRESSES)))
    except ConfigError:
        return ""  # trust no one; on_starting refuses the value, naming it


def on_starting(server):
    """Refuse a bad configuration once, in the master, before any worker is forked."""
    from config import ConfigError, check_environment

    try:
        check_environment()
    except ConfigError as error:
        sys.exit(f"error: {error}")
    _metrics_directory()


def _metrics_directory():
    """prometheus_client's multiprocess directory, set before any worker imports it: the
    operator's PROMETHEUS_MULTIPROC_DIR, emptied (values of a previous run must not add up
    with this one's), or else a new one of this server's, removed when it exits."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        for stale in glob.glob(os.path.join(path, "*.db")):
            os.remove(stale)
        return
    parent = os.environ.get("GUNICORN_WORKER_TMP_DIR") or None
    path = tempfile.mkdtemp(prefix="ironmind-metrics-", dir=parent)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    _created_metrics_directories.append(path)


_created_metrics_directories: list[str] = []


def child_exit(server, worker):
    """A worker that exited drops out of the per-worker (liveall) gauges; counters stay."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    for path in _created_metrics_directories:
        shutil.rmtree(path, ignore_errors=True)


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread"
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM, in-flight requests get this long to finish before workers are killed.
# Whatever stops the process must wait longer (docker-compose.yml: stop_grace_period).
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Containers point this at /dev/shm: the worker heartbeat file must not sit on a slow disk.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or None
# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl), which
# two servers on one host would fight over; it is opt-in, at a path of the operator's choosing.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
# gunicorn's largest: the API's own query limits (a 512-character cursor, percent-encoded)
# must fit, because a request line gunicorn refuses gets its HTML page, not the API's JSON.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 8190)
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()
# The app writes one JSON access line per request itself; gunicorn's would duplicate it.
accesslog = None


class Logger(glogging.Logger):
    """gunicorn's logger without its access log. Setting logconfig_dict (below) turns that log
    on, and gunicorn then builds every request's atoms (a formatted date among them) for a
    logger that drops the line: some 7% of a small request's CPU."""

    def access(self, resp, req, environ, request_time):
        return None


logger_class = Logger
errorlog = "-"
# gunicorn merges this over its defaults key by key, so "root" must be replaced too: its
# default names a handler this dict drops. The root logger gets no handler here because the
# app adds its own JSON handler to it in every worker.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(process)d",
            "rename_fields": {"levelname": "level", "name": "logger", "process": "pid"},
            "timestamp": True,
        }
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    },
    # Replaces gunicorn's default root (whose "console" handler this dict no longer defines,
    # which made gunicorn refuse to start); the app attaches its own JSON handler to root.
    "root": {"handlers": [], "level": loglevel.upper()},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
        # Setting logconfig_dict switches gunicorn's access log on; keep it silent.
        "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}
# gunicorn's own default, 127.0.0.1, would believe X-Forwarded-Proto: https from any local
# client (an https:// Location and HSTS over plain HTTP). Only the proxy's addresses are
# trusted, none by default, and only for the one header nginx sets. Last in this file: importing
# config loads .env, which no setting above has ever read.
forwarded_allow_ips = _forwarded_allow_ips()
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
# Library warnings (e.g. apispec's at start-up) become JSON log lines instead of stderr text.
logging.captureWarnings(True)
