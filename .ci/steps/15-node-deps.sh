# The interop tests' Node packages (jose, better-auth), exactly as pinned in package-lock.json.
set -euo pipefail
cd tests/interop
node --version
npm ci --no-audit --no-fund
