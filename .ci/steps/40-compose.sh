# docker-compose.yml must be a valid Compose file (no Docker engine needed), and must refuse
# to start without BETTER_AUTH_SECRET. Debian's docker-compose 1.29 reads the Compose spec.
set -euo pipefail
. "$(dirname "$0")/../lib/apt-install.sh"
if ! command -v docker-compose >/dev/null; then
  apt_install --no-install-recommends docker-compose
fi
# A scratch project directory holding .env (from .env.example), as a user's checkout would.
project=$(mktemp -d)
trap 'rm -rf "$project"' EXIT
cp .env.example "$project/.env"
# Build contexts resolve against the project directory: the frontend's is examples/nextjs,
# PgBouncer's docker/pgbouncer.
ln -s "$PWD/examples" "$project/examples"
ln -s "$PWD/docker" "$project/docker"
compose() { docker-compose --project-directory "$project" -f docker-compose.yml "$@"; }

BETTER_AUTH_SECRET=ci-dummy-secret-ci-dummy-secret-00 compose config -q
echo "docker-compose config -q: valid"
BETTER_AUTH_SECRET=ci-dummy-secret-ci-dummy-secret-00 compose --profile frontend config -q
echo "docker-compose --profile frontend config -q: valid"
BETTER_AUTH_SECRET=ci-dummy-secret-ci-dummy-secret-00 compose --profile observability config -q
echo "docker-compose --profile observability config -q: valid"
# The API runs as API_REPLICAS instances (default 2) behind nginx.
replicas=$(BETTER_AUTH_SECRET=ci-dummy-secret-ci-dummy-secret-00 API_REPLICAS=3 compose config \
  | python -c 'import sys, yaml; print(yaml.safe_load(sys.stdin)["services"]["api"]["deploy"]["replicas"])')
if [[ $replicas != 3 ]]; then
  echo "API_REPLICAS=3 gave the api service $replicas replicas" >&2
  exit 1
fi
echo "docker-compose config: API_REPLICAS=3 runs 3 api replicas"
if (unset BETTER_AUTH_SECRET; compose config -q 2>/dev/null); then
  echo "docker-compose.yml accepted a missing BETTER_AUTH_SECRET" >&2
  exit 1
fi
echo "docker-compose config -q: refuses a missing BETTER_AUTH_SECRET"
