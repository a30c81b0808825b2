# The revocation check runs on every authenticated request: keep it cheap (bench/revocation_check.py).
set -euo pipefail
python bench/revocation_check.py --rows 2000 --runs 500 --max-median-us 5000
