#!/bin/sh
# Write the one user PgBouncer serves (its password from the environment, never from the image),
# then replace this shell with pgbouncer so it gets the container's SIGTERM itself.
set -eu
: "${DB_USER:?}" "${DB_PASSWORD:?}"
mkdir -p /tmp/pgbouncer
umask 077
# The auth file's quoting: a double quote inside a value is written twice.
quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }
printf '%s %s\n' "$(quote "$DB_USER")" "$(quote "$DB_PASSWORD")" > /tmp/pgbouncer/userlist.txt
exec pgbouncer /etc/pgbouncer/pgbouncer.ini
