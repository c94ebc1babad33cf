#!/usr/bin/env bash
# One command for the tests: set up, then run the whole suite (SQLite and eager Celery unless
# DATABASE_URL / CELERY_BROKER_URL say otherwise). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
