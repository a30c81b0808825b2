# Property-based fuzzing of every documented operation, against the live API as production
# serves it: gunicorn on a freshly migrated PostgreSQL database, with a real bearer token.
set -euo pipefail

# Its own port range (18660-18669) and a database of its own per run, dropped on exit, so two
# runs on one machine (or a run beside the test suite) never meet.
PG_HOST="${SCHEMATHESIS_PG_HOST:-127.0.0.1}"
DB_NAME="${SCHEMATHESIS_DB:-ironmind_ci_schemathesis_$$_$(date +%s)_$RANDOM}"
# 60 examples per operation: about 1.5 minutes on the 2-core machine (100 took 3).
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-60}"
# Every run fuzzes twice: with a fixed seed (a failure there is a regression, reproducible
# as is) and with a fresh one (new inputs each run, so a pass is not luck with one seed).
# Each seed is printed; reproduce a failure with SCHEMATHESIS_SEED=<seed>.
FIXED_SEED=20261121
FRESH_SEED="${SCHEMATHESIS_SEED:-$(python -c 'import secrets; print(secrets.randbelow(2**31))')}"
# The first port of 18660-18669 nothing listens on (probed as gunicorn binds: SO_REUSEADDR).
free_port() { python -c 'from tests.services import free_port; print(free_port(reuse_address=True))'; }
PORT="${SCHEMATHESIS_PORT:-$(free_port)}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"

export APP_ENV=production
export BETTER_AUTH_SECRET="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
export DATABASE_URL="postgresql+psycopg://postgres@$PG_HOST:5432/$DB_NAME"
export RATELIMIT_AUTH="100000 per minute"
export GUNICORN_BIND="127.0.0.1:$PORT"
export GUNICORN_WORKERS=2
export GUNICORN_THREADS=4
export LOG_LEVEL=WARNING

cleanup() {
  status=$?
  if [[ -n "${GUNICORN_PID:-}" ]]; then
    kill -TERM "$GUNICORN_PID" 2>/dev/null || true
    wait "$GUNICORN_PID" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -f "$WORK/gunicorn.log" ]]; then
    echo "-- last gunicorn log lines:"
    tail -n 40 "$WORK/gunicorn.log"
  fi
  rm -rf "$WORK"
  # Only a database this run created: never one that was there before.
  if [[ -n "${CREATED_DB:-}" ]]; then
    dropdb -h "$PG_HOST" -U postgres --if-exists --force "$DB_NAME" || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

createdb -h "$PG_HOST" -U postgres "$DB_NAME"
CREATED_DB=1
echo "schemathesis: database $DB_NAME, gunicorn on 127.0.0.1:$PORT"
flask --app wsgi db upgrade > "$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log"; exit 1; }

gunicorn -c gunicorn.conf.py wsgi:app > "$WORK/gunicorn.log" 2>&1 &
GUNICORN_PID=$!
for _ in $(seq 50); do
  curl -sf "$BASE/health" > /dev/null && break
  kill -0 "$GUNICORN_PID" || { echo "gunicorn exited"; exit 1; }
  sleep 0.2
done

# `-c all`: the default checks, response-schema and status-code conformance included.
fuzz() {
  local token seed="$1" log="$WORK/st-$2-seed-$1.log"
  shift 2
  echo "schemathesis: seed $seed"
  # An admin: with a plain user's token every /api/admin operation is a 403, which
  # Schemathesis reports as "Authentication failed" (not tested).
  token="$(python .ci/lib/signin_token.py "$BASE" admin)"
  st --config-file .ci/schemathesis.toml run "$BASE/api/openapi.json" ${SCHEMATHESIS_EXTRA:-} \
    --header "Authorization: Bearer $token" \
    --checks all \
    --max-examples "$MAX_EXAMPLES" \
    --workers 2 \
    --seed "$seed" \
    --generation-database none \
    --request-timeout 10 \
    --no-color \
    "$@" | tee "$log"
  # A token that stopped working would turn every protected operation into a 401-only run.
  if grep -q "Authentication failed" "$log"; then
    echo "schemathesis could not authenticate some operations: the run did not test them"
    exit 1
  fi
  echo "schemathesis generated test cases (requests sent, $(basename "$log" .log)):" \
    "$(grep -Eo '[0-9]+ generated' "$log" | tail -1)"
}

# Signout revokes the token it is called with, so it gets a run (and a token) of its own.
for seed in "$FIXED_SEED" "$FRESH_SEED"; do
  fuzz "$seed" all-but-signout --exclude-path /api/auth/signout
  fuzz "$seed" signout --include-path /api/auth/signout
done
