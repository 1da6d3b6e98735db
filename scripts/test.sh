#!/usr/bin/env bash
# The whole test suite: makes .venv if needed, installs dockopt with its test extras, runs pytest.
# Engine tests (tests/e2e) run when a Docker engine is reachable; with DOCKOPT_REQUIRE_ENGINE=1
# a missing engine fails them instead of skipping (CI sets it after starting its own dockerd).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
if [ -f "${DOCKOPT_ENGINE_DIR:-/tmp/dockopt-engine}/env" ] && [ -z "${DOCKER_HOST:-}" ]; then
  set -a; . "${DOCKOPT_ENGINE_DIR:-/tmp/dockopt-engine}/env"; set +a
fi
exec .venv/bin/python -m pytest "$@"
