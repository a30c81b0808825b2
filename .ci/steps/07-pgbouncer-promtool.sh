# Debian's pgbouncer, for tests/deploy/test_instances.py (two gunicorn instances through a
# transaction-pooling PgBouncer on one PostgreSQL and one Redis), and promtool (Debian's
# prometheus package) for tests/deploy/test_observability_config.py (`promtool check config`
# and `check rules` over docker/observability/). Both run with the whole suite in steps 20 and
# 30; under CI=true a missing one fails them. Installs only what is missing.
set -euo pipefail
if [[ ! -x /usr/sbin/pgbouncer ]] || ! command -v promtool >/dev/null; then
  # Neither packaged service is wanted (pgbouncer on 6432, prometheus on 9090 of every
  # address): invoke-rc.d is told not to start them while the packages install.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    pgbouncer prometheus > /dev/null
fi
/usr/sbin/pgbouncer --version | head -1
promtool --version 2>&1 | head -1
