# ruff over the tree, and mypy over the package (its settings are in pyproject.toml).
set -euo pipefail
ruff check .
mypy
