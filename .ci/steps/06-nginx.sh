# Debian's nginx (and envsubst), for tests/deploy/test_proxy.py: it renders
# docker/nginx/default.conf.template as the official nginx image does and runs nginx in front of
# gunicorn (50 stalled-header and 50 stalled-body connections, then 20 GET /health within 1 s
# each). It runs with the whole suite in steps 20 and 30; under CI=true a missing nginx fails it.
# Installs only what is missing, so a machine that already has it pays nothing.
set -euo pipefail
. "$(dirname "$0")/../lib/apt-install.sh"
if [[ ! -x /usr/sbin/nginx ]] || ! command -v envsubst >/dev/null; then
  apt_install --no-install-recommends nginx gettext-base
fi
/usr/sbin/nginx -v
