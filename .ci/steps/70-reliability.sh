# Reliability scenarios against the real gunicorn and a throw-away PostgreSQL cluster
# (tests/reliability/, docs/RELIABILITY.md). Budget: 3 minutes.
set -euo pipefail
started=$SECONDS
# SIGINT on overrun lets pytest's finalizers stop gunicorn and the cluster.
# Exit code 5 (nothing collected) fails the step too.
timeout -s INT -k 30 180 pytest -q -m reliability tests/reliability
echo "reliability suite took $((SECONDS - started)) s"
