set -euo pipefail
ruff check .
