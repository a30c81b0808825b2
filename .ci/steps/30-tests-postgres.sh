# The same suite on the machine's PostgreSQL.
set -euo pipefail
TEST_DATABASE_URL="$TEST_POSTGRES_URL" pytest -q
