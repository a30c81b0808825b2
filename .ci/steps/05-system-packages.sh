# System packages the tests need: Debian's chromium for the /api/docs screenshot test and the
# Next.js end-to-end checklist (examples/nextjs/e2e.sh, step 70).
# Installs only what is missing, so a machine that already has it pays nothing.
set -euo pipefail
if [[ ! -x /usr/bin/chromium ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
fi
/usr/bin/chromium --version
