# System packages the tests need: Debian's chromium for the /api/docs screenshot test and the
# Next.js end-to-end checklist (examples/nextjs/e2e.sh, step 70).
# Installs only what is missing, so a machine that already has it pays nothing.
set -euo pipefail
. "$(dirname "$0")/../lib/apt-install.sh"
if [[ ! -x /usr/bin/chromium ]]; then
  apt_install chromium
fi
/usr/bin/chromium --version
