# The example Next.js frontend against the API in headless Chromium, both token modes:
# npm ci, next build, next start, gunicorn on a fresh PostgreSQL database (about a minute
# after the build), then the three failure journeys (API down, origin refused, wrong secret)
# per mode. Any failed step fails CI.
set -euo pipefail
E2E_PG="${E2E_PG:-postgresql://postgres@127.0.0.1:5432}" bash examples/nextjs/e2e.sh
