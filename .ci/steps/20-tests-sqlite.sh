# The README's test command: the whole suite on SQLite.
set -euo pipefail
pytest
