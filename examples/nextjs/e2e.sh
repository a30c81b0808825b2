#!/usr/bin/env bash
# End to end: the example Next.js app (next start) and the IRONMIND API (gunicorn, fresh
# PostgreSQL database) on two origins, driven by headless Chromium through the whole checklist,
# once per token mode (exchange, then jwt-plugin). Exits non-zero on the first failed step;
# stops everything it started and drops its databases on the way out.
#
#   bash examples/nextjs/e2e.sh
#
# Needs: Node >= 20.9 with npm, Python with the API's requirements (an active virtualenv, or
# the repository's .venv), PostgreSQL. Installs the rest: the pinned npm packages (npm ci) and
# Debian's chromium when /usr/bin/chromium is missing. Screenshots: examples/nextjs/e2e-screenshots/.
#
# Environment (all optional): E2E_API_PORT (18720), E2E_APP_PORT (18721), E2E_PG
# (postgresql://postgres@127.0.0.1:5432), E2E_DB_PREFIX (ironmind_i12_), E2E_MODES
# ("exchange jwt-plugin"), CHROMIUM (/usr/bin/chromium).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
API_PORT="${E2E_API_PORT:-18720}"
APP_PORT="${E2E_APP_PORT:-18721}"
PG="${E2E_PG:-postgresql://postgres@127.0.0.1:5432}"
PREFIX="${E2E_DB_PREFIX:-ironmind_i12_}"
MODES="${E2E_MODES:-exchange jwt-plugin}"
SUFFIX="$(date +%s)_$$"
API_DB="${PREFIX}api_${SUFFIX}"
AUTH_DB="${PREFIX}auth_${SUFFIX}"
API_URL="http://127.0.0.1:$API_PORT"
APP_URL="http://127.0.0.1:$APP_PORT"
SHOTS="$HERE/e2e-screenshots"
WORK="$(mktemp -d)"
export NEXT_TELEMETRY_DISABLED=1
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
# One secret for both sides, as in production: the app signs exchange tokens with it.
BETTER_AUTH_SECRET="$(node -e 'console.log(require("crypto").randomBytes(36).toString("base64url"))')"
export BETTER_AUTH_SECRET

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
    for db in "$API_DB" "$AUTH_DB"; do
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
for port in "$API_PORT" "$APP_PORT"; do
  port_free "$port" || { log "port $port is in use (set E2E_API_PORT / E2E_APP_PORT)"; exit 1; }
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
if [[ ! -f .next/BUILD_ID ]] || [[ -n "$(find app lib next.config.ts package-lock.json tsconfig.json -newer .next/BUILD_ID -print -quit)" ]]; then
  log "next build"
  npx --no-install next build > "$WORK/next-build.log" 2>&1 || { cat "$WORK/next-build.log"; exit 1; }
else
  log "next build: up to date"
fi

# ---- databases
DBS_CREATED=1
psql -q "$PG/postgres" -c "CREATE DATABASE \"$API_DB\"" -c "CREATE DATABASE \"$AUTH_DB\""
export AUTH_DATABASE_URL="${PG}/${AUTH_DB}"
npm run --silent db:setup

# ---- the API: production settings, gunicorn as deployed, allowing the app's origin
cd "$ROOT"
(
  export APP_ENV=production
  export DATABASE_URL="${PG/postgresql:/postgresql+psycopg:}/$API_DB"
  export CORS_ORIGINS="$APP_URL"
  export BETTER_AUTH_URL="$APP_URL"  # JWT plugin tokens: JWKS at $APP_URL/api/auth/jwks
  export GUNICORN_BIND="127.0.0.1:$API_PORT" GUNICORN_WORKERS=2 GUNICORN_THREADS=4
  export RATELIMIT_AUTH="1000 per minute" LOG_LEVEL=INFO
  flask --app wsgi db upgrade > "$WORK/api-migrate.log" 2>&1 || { cat "$WORK/api-migrate.log"; exit 1; }
  exec setsid gunicorn -c gunicorn.conf.py wsgi:app > "$WORK/api.log" 2>&1
) &
PIDS+=($!)
wait_for "$API_URL/health" "${PIDS[-1]}" "the API"
log "API on $API_URL (database $API_DB)"

# ---- the app and the browser, once per token mode
cd "$HERE"
rm -rf "$SHOTS"
for mode in $MODES; do
  API_URL="$API_URL" API_TOKEN_MODE="$mode" TASKS_PAGE_SIZE=2 BETTER_AUTH_URL="$APP_URL" \
    setsid npx --no-install next start -H 127.0.0.1 -p "$APP_PORT" > "$WORK/next-$mode.log" 2>&1 &
  next_pid=$!
  PIDS+=("$next_pid")
  wait_for "$APP_URL/" "$next_pid" "next start"
  log "app on $APP_URL, API_TOKEN_MODE=$mode"

  E2E_MODE="$mode" APP_URL="$APP_URL" API_URL="$API_URL" API_LOG="$WORK/api.log" SCREENSHOTS="$SHOTS" \
    setsid npx --no-install tsx e2e/run.ts &
  browser_pid=$!
  PIDS+=("$browser_pid")
  wait "$browser_pid"

  stop_group "$next_pid"
  while ! port_free "$APP_PORT"; do sleep 0.1; done
done
log "screenshots in $SHOTS"
