# The Postman collection, run by the pinned newman against gunicorn + PostgreSQL (a fresh,
# migrated database), exactly as postman/run.sh does it locally. Any failed assertion fails.
set -euo pipefail
npm ci --prefix postman --no-audit --no-fund --silent
bash postman/run.sh
