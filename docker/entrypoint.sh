#!/bin/sh
# Container start: bring the schema up to date, then replace this shell with gunicorn so it
# receives the container's SIGTERM itself (graceful shutdown) and its exit code is the container's.
set -eu
flask --app wsgi db upgrade
exec gunicorn -c gunicorn.conf.py wsgi:app "$@"
