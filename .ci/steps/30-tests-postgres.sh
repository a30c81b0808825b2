# The same suite on the machine's PostgreSQL. The reliability scenarios are left out here:
# they make their own throw-away cluster, and step 20 has already run them.
set -euo pipefail
TEST_DATABASE_URL="$TEST_POSTGRES_URL" pytest -q -m "not reliability"
