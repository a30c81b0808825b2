"""gunicorn settings, from the environment: gunicorn -c gunicorn.conf.py wsgi:app"""

import multiprocessing
import os


def _int(name, default):
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread"
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM, in-flight requests get this long to finish before workers are killed.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# gunicorn's largest: the API's own query limits (a 512-character cursor, percent-encoded)
# must fit, because a request line gunicorn refuses gets its HTML page, not the API's JSON.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 8190)
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()
# The app writes one JSON access line per request itself; gunicorn's would duplicate it.
accesslog = None
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
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
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}
