# Debian's pgbouncer, for tests/deploy/test_instances.py (two gunicorn instances through a
# transaction-pooling PgBouncer on one PostgreSQL and one Redis), and promtool (Debian's
# prometheus package) for tests/deploy/test_observability_config.py (`promtool check config`
# and `check rules` over docker/observability/). Both run with the whole suite in steps 20 and
# 30; under CI=true a missing one fails them. Installs only what is missing.
set -euo pipefail
. "$(dirname "$0")/../lib/apt-install.sh"
if [[ ! -x /usr/sbin/pgbouncer ]] || ! command -v promtool >/dev/null; then
  apt_install --no-install-recommends pgbouncer prometheus
fi
/usr/sbin/pgbouncer --version | head -1
promtool --version 2>&1 | head -1
