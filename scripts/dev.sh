#!/usr/bin/env bash
# One command for a first run: set up, load the demo data, serve on http://127.0.0.1:5000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TENDERBOX_DEV=1  # plain http on 127.0.0.1: wsgi.py would otherwise set Secure cookies the browser never returns
FLASK_APP=wsgi .venv/bin/flask seed-demo
echo "Tenderbox is running on http://127.0.0.1:${PORT:-5000}  (demo accounts: see README.md)"
exec .venv/bin/flask --app wsgi run --host 127.0.0.1 --port "${PORT:-5000}"
