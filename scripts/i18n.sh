#!/usr/bin/env bash
# Re-extract translatable strings and merge them into the zh_Hant catalogue (then translate the new entries).
set -euo pipefail
cd "$(dirname "$0")/.."
# --ignore-dirs: only hidden ones (the default also skips "_" folders, such as templates/_macros)
.venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs ".*" -o app/translations/messages.pot --no-location --sort-output .
.venv/bin/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching
.venv/bin/pybabel compile -d app/translations
