#!/usr/bin/env bash
# Sets up everything Tenderbox needs on a Debian/Ubuntu machine with Python 3.11:
# system packages (CJK font, Chromium, pdftotext) when missing, a virtual environment,
# Python and npm packages, the prepared PDF fonts, compiled translations, a migrated database.
# Idempotent: safe to run again. Usage: bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# libharfbuzz-subset0 lets WeasyPrint subset fonts in C: bilingual PDFs in ~0.1 s instead of ~1-8 s.
# wrk is the HTTP load generator of bench/public_pages.py.
APT_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-wqy-microhei fonts-dejavu-core
              chromium poppler-utils wrk)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
if [ ! -f .venv/.deps-ok ] || [ requirements.txt -nt .venv/.deps-ok ] || [ requirements-dev.txt -nt .venv/.deps-ok ]; then
  echo "setup: installing Python packages"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r requirements-dev.txt
  touch .venv/.deps-ok
fi

if [ ! -f node_modules/axe-core/axe.min.js ]; then
  echo "setup: installing axe-core (accessibility checks) from npm"
  npm install --no-audit --no-fund --silent >/dev/null
fi

.venv/bin/python scripts/prepare_fonts.py
.venv/bin/pybabel compile -d app/translations >/dev/null
FLASK_APP=wsgi .venv/bin/flask db upgrade >/dev/null 2>&1 || FLASK_APP=wsgi .venv/bin/flask db upgrade
echo "setup: done"
