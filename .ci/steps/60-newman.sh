# The Postman collection, run by the pinned newman exactly as postman/run.sh does it locally:
# twice against the README's quick-start server (flask run, SQLite, development defaults, the
# quick-start environment file), then twice against gunicorn + PostgreSQL. The second run of each
# proves the collection can be re-run against the same server within a minute (no 409, no 429).
# Any failed assertion fails.
set -euo pipefail
npm ci --prefix postman --no-audit --no-fund --silent
bash postman/run.sh quickstart gunicorn
