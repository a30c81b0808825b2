# Debian's nginx (and envsubst), for tests/deploy/test_proxy.py: it renders
# docker/nginx/default.conf.template as the official nginx image does and runs nginx in front of
# gunicorn (50 stalled-header and 50 stalled-body connections, then 20 GET /health within 1 s
# each). It runs with the whole suite in steps 20 and 30; under CI=true a missing nginx fails it.
# Installs only what is missing, so a machine that already has it pays nothing.
set -euo pipefail
if [[ ! -x /usr/sbin/nginx ]] || ! command -v envsubst >/dev/null; then
  # Debian starts a packaged service on install: nginx on port 80 of every address. Nothing here
  # wants that server, so invoke-rc.d is told not to start it while the package installs.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    nginx gettext-base > /dev/null
fi
/usr/sbin/nginx -v
