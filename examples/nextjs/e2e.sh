#!/usr/bin/env bash
# End to end: the example Next.js app (next start) and the IRONMIND API (gunicorn, fresh
# PostgreSQL database) on two origins, driven by headless Chromium through the whole checklist,
# once per token mode (exchange, then jwt-plugin); then, per mode, three failure journeys, each
# of which must end on a page naming its cause: the API down, the app on an origin the API's
# CORS_ORIGINS lacks (with BETTER_AUTH_URL unset, so Better Auth follows that port), and an app
# whose BETTER_AUTH_SECRET is not the API's. Exits non-zero on the first failed step; stops
# everything it started and drops its databases on the way out.
#
#   bash examples/nextjs/e2e.sh
#
# Needs: Node >= 20.9 with npm, Python with the API's requirements (an active virtualenv, or
# the repository's .venv), PostgreSQL. Installs the rest: the pinned npm packages (npm ci) and
# Debian's chromium when /usr/bin/chromium is missing. Screenshots: examples/nextjs/e2e-screenshots/.
#
# Environment (all optional): E2E_API_PORT (18720), E2E_APP_PORT (18721; the failure journeys'
# apps use the next two ports), E2E_PG (postgresql://postgres@127.0.0.1:5432), E2E_DB_PREFIX
# (ironmind_i12_), E2E_MODES ("exchange jwt-plugin"), E2E_JOURNEYS ("down cors secret"),
# CHROMIUM (/usr/bin/chromium).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
API_PORT="${E2E_API_PORT:-18720}"
APP_PORT="${E2E_APP_PORT:-18721}"
CORS_APP_PORT=$((APP_PORT + 1))    # an origin the API does not allow
SECRET_APP_PORT=$((APP_PORT + 2))  # allowed, but with a secret of its own
PG="${E2E_PG:-postgresql://postgres@127.0.0.1:5432}"
PREFIX="${E2E_DB_PREFIX:-ironmind_i12_}"
MODES="${E2E_MODES:-exchange jwt-plugin}"
JOURNEYS="${E2E_JOURNEYS:-down cors secret}"
SUFFIX="$(date +%s)_$$"
API_DB="${PREFIX}api_${SUFFIX}"
AUTH_DB="${PREFIX}auth_${SUFFIX}"
OTHER_AUTH_DB="${PREFIX}auth2_${SUFFIX}"  # a fresh one, for the app with the other secret
API_URL="http://127.0.0.1:$API_PORT"
APP_URL="http://127.0.0.1:$APP_PORT"
CORS_APP_URL="http://127.0.0.1:$CORS_APP_PORT"
SECRET_APP_URL="http://127.0.0.1:$SECRET_APP_PORT"
SHOTS="$HERE/e2e-screenshots"
WORK="$(mktemp -d)"
# No NEXT_TELEMETRY_DISABLED here: the npm scripts (build, start) set it themselves.
unset NEXT_TELEMETRY_DISABLED
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
# One secret for both sides, as in production: the app signs exchange tokens with it.
new_secret() { node -e 'console.log(require("crypto").randomBytes(36).toString("base64url"))'; }
BETTER_AUTH_SECRET="$(new_secret)"
export BETTER_AUTH_SECRET
OTHER_SECRET="$(new_secret)"

log() { echo "[e2e] $*"; }
PIDS=()
DBS_CREATED=0

# Each server runs in a process group of its own (setsid), so stopping it stops its children.
stop_group() {
  local pid="$1"
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 -- "-$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  set +e
  for pid in "${PIDS[@]}"; do stop_group "$pid"; done
  if [[ $status -ne 0 ]]; then
    for f in "$WORK"/*.log; do
      [[ -f "$f" ]] || continue
      echo "---- last lines of $(basename "$f")"
      tail -n 30 "$f"
    done
  fi
  if [[ $DBS_CREATED -eq 1 ]]; then
    for db in "$API_DB" "$AUTH_DB" "$OTHER_AUTH_DB"; do
      psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
    done
  fi
  rm -rf "$WORK"
  if [[ $status -eq 0 ]]; then log "PASSED ($MODES) in ${SECONDS} s"; else log "FAILED (exit $status)"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # url pid name
  for _ in $(seq 300); do
    curl -sf -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || { log "$3 exited before answering"; return 1; }
    sleep 0.2
  done
  log "$3 did not answer at $1 within 60 s"
  return 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$API_PORT" "$APP_PORT" "$CORS_APP_PORT" "$SECRET_APP_PORT"; do
  port_free "$port" || { log "port $port is in use (set E2E_API_PORT, or E2E_APP_PORT: the app takes it and the next two)"; exit 1; }
done

# ---- what it needs
if [[ ! -x "$CHROMIUM" ]]; then
  log "installing Debian's chromium"
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
if ! command -v gunicorn >/dev/null && [[ -z "${VIRTUAL_ENV:-}" && -f "$ROOT/.venv/bin/activate" ]]; then
  # shellcheck disable=SC1091
  . "$ROOT/.venv/bin/activate"
fi
command -v gunicorn >/dev/null || { log "gunicorn not found: pip install -r requirements.txt in a virtualenv"; exit 1; }

cd "$HERE"
log "npm ci"
npm ci --no-audit --no-fund --loglevel=error
# Build when there is no build, or the sources changed since it was made.
if [[ ! -f .next/BUILD_ID ]] || [[ -n "$(find app lib next.config.ts package.json package-lock.json tsconfig.json -newer .next/BUILD_ID -print -quit)" ]]; then
  log "npm run build"
  npm run --silent build > "$WORK/next-build.log" 2>&1 || { cat "$WORK/next-build.log"; exit 1; }
  if grep -qi "collects completely anonymous telemetry" "$WORK/next-build.log"; then
    log "npm run build announced telemetry: its script must set NEXT_TELEMETRY_DISABLED=1"; exit 1
  fi
else
  log "next build: up to date"
fi

# ---- databases
DBS_CREATED=1
psql -q "$PG/postgres" -c "CREATE DATABASE \"$API_DB\"" -c "CREATE DATABASE \"$AUTH_DB\"" \
  -c "CREATE DATABASE \"$OTHER_AUTH_DB\""
AUTH_DATABASE_URL="${PG}/${OTHER_AUTH_DB}" npm run --silent db:setup
export AUTH_DATABASE_URL="${PG}/${AUTH_DB}"
npm run --silent db:setup

# ---- the API: production settings, gunicorn as deployed, allowing two of the app's origins
cd "$ROOT"
api_env() {
  export APP_ENV=production
  export DATABASE_URL="${PG/postgresql:/postgresql+psycopg:}/$API_DB"
  export CORS_ORIGINS="$APP_URL,$SECRET_APP_URL"
  export BETTER_AUTH_URL="$APP_URL"  # JWT plugin tokens: JWKS at $APP_URL/api/auth/jwks
  # The app's Better Auth database: a token whose session (sid) has ended is refused.
  export BETTER_AUTH_DATABASE_URL="$PG/$AUTH_DB"
  export GUNICORN_BIND="127.0.0.1:$API_PORT" GUNICORN_WORKERS=2 GUNICORN_THREADS=4
  export RATELIMIT_AUTH="1000 per minute" LOG_LEVEL=INFO
}
(api_env; flask --app wsgi db upgrade > "$WORK/api-migrate.log" 2>&1) || { cat "$WORK/api-migrate.log"; exit 1; }
API_PID=""
start_api() {
  (cd "$ROOT" && api_env && exec setsid gunicorn -c gunicorn.conf.py wsgi:app >> "$WORK/api.log" 2>&1) &
  API_PID=$!
  PIDS+=("$API_PID")
  wait_for "$API_URL/health" "$API_PID" "the API"
}
start_api
log "API on $API_URL (database $API_DB)"

# ---- the app and the browser
cd "$HERE"
rm -rf "$SHOTS"
APP_PID=""
start_app() { # port log-name, then the app's environment as NAME=value ...
  local port="$1" name="$2"
  shift 2
  env API_URL="$API_URL" TASKS_PAGE_SIZE=2 "$@" \
    setsid npm run --silent start -- -p "$port" > "$WORK/next-$name.log" 2>&1 &
  APP_PID=$!
  PIDS+=("$APP_PID")
  wait_for "http://127.0.0.1:$port/" "$APP_PID" "the app ($name)"
}
stop_app() { # port
  stop_group "$APP_PID"
  while ! port_free "$1"; do sleep 0.1; done
}
drive() { # mode journey app-url
  E2E_MODE="$1" E2E_JOURNEY="$2" APP_URL="$3" API_URL="$API_URL" API_LOG="$WORK/api.log" \
    SCREENSHOTS="$SHOTS" setsid npx --no-install tsx e2e/run.ts &
  local pid=$!
  PIDS+=("$pid")
  wait "$pid"
}
has_journey() { [[ " $JOURNEYS " == *" $1 "* ]]; }

for mode in $MODES; do
  start_app "$APP_PORT" "$mode" API_TOKEN_MODE="$mode" BETTER_AUTH_URL="$APP_URL"
  log "app on $APP_URL, API_TOKEN_MODE=$mode"
  drive "$mode" checklist "$APP_URL"

  if has_journey down; then
    log "the API stopped: the dashboard must say it cannot be reached"
    stop_group "$API_PID"
    drive "$mode" down "$APP_URL"
    start_api
  fi
  stop_app "$APP_PORT"

  if has_journey cors; then
    # BETTER_AUTH_URL unset: Better Auth follows the port (registering works on it at all),
    # and the API's CORS_ORIGINS does not list this origin.
    start_app "$CORS_APP_PORT" "$mode-cors" API_TOKEN_MODE="$mode" BETTER_AUTH_URL=
    log "app on $CORS_APP_URL (not in the API's CORS_ORIGINS, BETTER_AUTH_URL unset)"
    drive "$mode" cors "$CORS_APP_URL"
    stop_app "$CORS_APP_PORT"
  fi

  if has_journey secret; then
    # exchange: a fresh auth database, so only the API's secret differs. jwt-plugin: the
    # first app's auth database, whose signing keys were encrypted with the first secret.
    auth_db="$OTHER_AUTH_DB"
    [[ "$mode" == "exchange" ]] || auth_db="$AUTH_DB"
    start_app "$SECRET_APP_PORT" "$mode-secret" API_TOKEN_MODE="$mode" BETTER_AUTH_URL="$SECRET_APP_URL" \
      BETTER_AUTH_SECRET="$OTHER_SECRET" AUTH_DATABASE_URL="$PG/$auth_db"
    log "app on $SECRET_APP_URL with a BETTER_AUTH_SECRET of its own (auth database $auth_db)"
    drive "$mode" secret "$SECRET_APP_URL"
    stop_app "$SECRET_APP_PORT"
  fi
done
log "screenshots in $SHOTS"
