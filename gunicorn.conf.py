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
    # gunicorn's default root config names a "console" handler this dict replaces; without
    # this line gunicorn refuses to start. The app attaches its own root handler.
    "root": {"handlers": []},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}
