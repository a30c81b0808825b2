#!/usr/bin/env bash
# Run the Postman collection with newman, TWICE against the same server each time (the second
# run proves the collection can be re-run: fresh users, no 409, no 429), against two servers:
#   quickstart  the README's quick start: `flask --app wsgi db upgrade && flask --app wsgi run`
#               on SQLite with the development defaults (rate limit included), and
#               postman/quickstart.postman_environment.json as it is (only the port differs);
#   gunicorn    production: gunicorn (2 workers, started by docker/entrypoint.sh as in the
#               container) on a fresh, migrated PostgreSQL database, Redis rate-limit counters.
# Fails on any failed assertion; always stops the server and drops what it created.
#   bash postman/run.sh                  # both
#   bash postman/run.sh quickstart       # or: gunicorn
# Env: POSTGRES_URL (an existing database to connect to for CREATE DATABASE; default
#   $TEST_POSTGRES_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/postgres),
#   NEWMAN_PORT (18650), NEWMAN_REDIS_URL (redis://127.0.0.1:6379/6), NEWMAN_RUNS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${VIRTUAL_ENV:-}" && -f .venv/bin/activate ]]; then . .venv/bin/activate; fi
[[ -x postman/node_modules/.bin/newman ]] || npm ci --prefix postman --no-audit --no-fund --silent

if (($#)); then modes=("$@"); else modes=(quickstart gunicorn); fi
admin_url=${POSTGRES_URL:-${TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}}
port=${NEWMAN_PORT:-18650}
redis_url=${NEWMAN_REDIS_URL:-redis://127.0.0.1:6379/6}
runs=${NEWMAN_RUNS:-2}
base=http://127.0.0.1:$port
work=$(mktemp -d /tmp/ironmind-newman.XXXXXX)
log=$work/server.log

sql() {  # sql "STATEMENT": run one statement on the admin database, outside a transaction
  python - "$admin_url" "$1" <<'PY'
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as conn:
    conn.execute(text(sys.argv[2]))
PY
}

server="" database=""
stop_server() {
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server" 2>/dev/null || true
  fi
  server=""
  if [[ -n "$database" ]]; then
    sql "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" || true
    database=""
  fi
}
cleanup() {
  status=$?
  if [[ $status -ne 0 && -f "$log" ]]; then echo "--- server log (last 40 lines)"; tail -n 40 "$log"; fi
  stop_server
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT INT TERM

port_free() {
  python - "$port" <<'PY'
import socket, sys
with socket.socket() as s:
    sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0)
PY
}

wait_ready() {
  python - "$base/health/ready" <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + 60
while True:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
            if response.status == 200:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("the server did not become ready within 60 s")
    time.sleep(0.3)
PY
}

run_collection() {  # run_collection ENVIRONMENT_FILE [--env-var k=v ...]: $runs times in a row
  local environment=$1
  shift
  for run in $(seq "$runs"); do
    echo "== newman run $run of $runs ($environment, $base)"
    postman/node_modules/.bin/newman run postman/ironmind-api.postman_collection.json \
      --environment "$environment" --env-var "baseUrl=$base" "$@" \
      --reporters cli --color off
  done
}

start_quickstart() {
  # Exactly the README's quick start, on a throw-away SQLite file and our port; the development
  # defaults (secret, RATELIMIT_AUTH, memory:// counters) must be what the environment expects.
  env -u BETTER_AUTH_SECRET -u RATELIMIT_AUTH -u RATELIMIT_STORAGE_URI \
    APP_ENV=development DATABASE_URL="sqlite:///$work/quickstart.db" \
    bash -c "flask --app wsgi db upgrade && exec flask --app wsgi run --host 127.0.0.1 --port $port" \
    >"$log" 2>&1 &
  server=$!
}

start_gunicorn() {
  database=ironmind_newman_$$_$(date +%s)
  sql "CREATE DATABASE \"$database\""
  local database_url secret
  database_url=$(python -c 'import sys; from sqlalchemy import make_url; print(make_url(sys.argv[1]).set(database=sys.argv[2]).render_as_string(hide_password=False))' "$admin_url" "$database")
  secret=$(python -c 'import secrets; print(secrets.token_hex(32))')
  # Production's own limit is RATELIMIT_AUTH=10 per minute; a run makes about ten calls of
  # each auth endpoint, so this server, like a compose set up for Postman, allows more.
  APP_ENV=production BETTER_AUTH_SECRET=$secret DATABASE_URL=$database_url \
    RATELIMIT_STORAGE_URI=$redis_url RATELIMIT_AUTH="1000 per minute" \
    GUNICORN_BIND=127.0.0.1:$port GUNICORN_WORKERS=2 \
    ./docker/entrypoint.sh >"$log" 2>&1 &
  server=$!
  extra=(--env-var "secret=$secret")
}

for mode in "${modes[@]}"; do
  port_free || { echo "port $port is in use (set NEWMAN_PORT)" >&2; exit 1; }
  extra=()
  case $mode in
    quickstart) start_quickstart; environment=postman/quickstart.postman_environment.json ;;
    gunicorn) start_gunicorn; environment=postman/compose.postman_environment.json ;;
    *) echo "unknown mode $mode (quickstart, gunicorn)" >&2; exit 2 ;;
  esac
  wait_ready
  run_collection "$environment" "${extra[@]}"
  stop_server
done
