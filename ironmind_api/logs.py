"""JSON log lines on stdout (python-json-logger), with the request's id and user attached."""

import logging
import re
import sys

from flask import g, has_request_context
from flask.logging import default_handler
from pythonjsonlogger.orjson import OrjsonFormatter

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class RequestContextFilter(logging.Filter):
    """Attach request_id and user_id to every record written while handling a request."""

    def filter(self, record):
        attributes = record.__dict__
        if "request_id" in attributes and "user_id" in attributes:
            return True  # the access line brings both (the request's own, already read)
        if has_request_context():
            record.request_id = g.get("request_id")
            record.user_id = g.get("user_id")
        else:
            record.request_id = getattr(record, "request_id", None)
            record.user_id = getattr(record, "user_id", None)
        return True


class DevServerRequestLines(logging.Filter):
    """Drop werkzeug's per-request lines ("127.0.0.1 - - [date] "GET / …" 200 -").

    The rest (the address, warnings) stay, without the terminal colours werkzeug adds.
    """

    def filter(self, record):
        if record.levelno == logging.INFO and " - - [" in str(record.msg):
            return False
        if isinstance(record.msg, str):
            record.msg = ANSI_ESCAPE.sub("", record.msg)
        return True


def dev_server_handler(level):
    """Plain lines on stderr for `flask run`'s own messages (" * Running on http://…")."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(DevServerRequestLines())
    handler.setLevel(level)
    return handler


def json_handler(level):
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        # orjson writes the line (the same keys and values, compact), several times cheaper.
        OrjsonFormatter(
            "%(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(process)d",
            rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
            timestamp=True,
        )
    )
    handler.addFilter(RequestContextFilter())
    handler.setLevel(level)
    return handler


def configure_logging(app):
    """Send every logger's records to one JSON handler on stdout, set up once per process."""
    # The lines carry no caller, thread or multiprocessing names, so logging need not look
    # them up for every record (the logging HOWTO's "Optimization" settings): a few us a line.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "ironmind", False)), None)
    if handler is None:
        handler = json_handler(app.config["LOG_LEVEL"])
        handler.ironmind = True
        root.addHandler(handler)
    handler.setLevel(app.config["LOG_LEVEL"])
    root.setLevel(app.config["LOG_LEVEL"])
    app.logger.removeHandler(default_handler)
    # alembic logs one INFO line per built-in plugin when it is first imported, which is now
    # after this (by `flask db …` or register_extensions): noise in every command's output.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # The development server's own lines (" * Running on http://…", its warning) are read by a
    # person at a terminal: plain text, a line each. Its per-request lines are dropped, since
    # the access line (http/lifecycle.py) replaces them. Only `flask run` logs to "werkzeug".
    werkzeug_log = logging.getLogger("werkzeug")
    dev_handler = next((h for h in werkzeug_log.handlers if getattr(h, "ironmind", False)), None)
    if dev_handler is None:
        dev_handler = dev_server_handler(app.config["LOG_LEVEL"])
        dev_handler.ironmind = True
        werkzeug_log.addHandler(dev_handler)
        werkzeug_log.propagate = False
    dev_handler.setLevel(app.config["LOG_LEVEL"])
    app.extensions["log_handler"] = handler
