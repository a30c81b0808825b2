#!/usr/bin/env bash
# Run the Postman collection with newman against the real server: gunicorn (2 workers, started
# by docker/entrypoint.sh as in the container) on a fresh PostgreSQL database, migrated.
# Fails on any failed assertion; always stops gunicorn and drops the database.
#   bash postman/run.sh
# Env: POSTGRES_URL (an existing database to connect to for CREATE DATABASE; default
#   $TEST_POSTGRES_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/postgres),
#   NEWMAN_PORT (18650), NEWMAN_REDIS_URL (redis://127.0.0.1:6379/6).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${VIRTUAL_ENV:-}" && -f .venv/bin/activate ]]; then . .venv/bin/activate; fi
[[ -x postman/node_modules/.bin/newman ]] || npm ci --prefix postman --no-audit --no-fund --silent

admin_url=${POSTGRES_URL:-${TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}}
port=${NEWMAN_PORT:-18650}
redis_url=${NEWMAN_REDIS_URL:-redis://127.0.0.1:6379/6}
database=ironmind_newman_$$_$(date +%s)
log=$(mktemp /tmp/ironmind-newman-gunicorn.XXXXXX)

sql() {  # sql "STATEMENT": run one statement on the admin database, outside a transaction
  python - "$admin_url" "$1" <<'PY'
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as conn:
    conn.execute(text(sys.argv[2]))
PY
}
database_url=$(python -c 'import sys; from sqlalchemy import make_url; print(make_url(sys.argv[1]).set(database=sys.argv[2]).render_as_string(hide_password=False))' "$admin_url" "$database")

server=""
cleanup() {
  status=$?
  if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server" 2>/dev/null || true
  fi
  if [[ $status -ne 0 ]]; then echo "--- gunicorn log (last 40 lines)"; tail -n 40 "$log"; fi
  rm -f "$log"
  sql "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" || true
  exit $status
}
trap cleanup EXIT INT TERM

sql "CREATE DATABASE \"$database\""
secret=$(python -c 'import secrets; print(secrets.token_hex(32))')
APP_ENV=production BETTER_AUTH_SECRET=$secret DATABASE_URL=$database_url \
  RATELIMIT_STORAGE_URI=$redis_url RATELIMIT_AUTH="1000 per minute" \
  GUNICORN_BIND=127.0.0.1:$port GUNICORN_WORKERS=2 \
  ./docker/entrypoint.sh >"$log" 2>&1 &
server=$!

base=http://127.0.0.1:$port
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
        sys.exit("gunicorn did not become ready within 60 s")
    time.sleep(0.3)
PY

postman/node_modules/.bin/newman run postman/ironmind-api.postman_collection.json \
  --environment postman/local.postman_environment.json \
  --env-var "baseUrl=$base" --env-var "secret=$secret" \
  --reporters cli --color off
