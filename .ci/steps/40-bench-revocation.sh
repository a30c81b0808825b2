# Keep the revocation microbenchmark runnable; its figure is reported, not asserted
# (performance numbers live in reports, not in pass/fail checks).
set -euo pipefail
python bench/revocation_check.py --rows 2000 --runs 500
