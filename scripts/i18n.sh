#!/usr/bin/env bash
# The message catalogues (Babel): extract the English message ids from the code and the templates,
# merge them into the Chinese catalogue, compile it.
#
#   scripts/i18n.sh                 extract -> update -> compile (then translate what is new, run again)
#   scripts/i18n.sh extract FILE    only extract, into FILE (tests/web/test_i18n.py uses this)
#
# PYBABEL overrides the pybabel to use (default: the project's .venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYBABEL="${PYBABEL:-$ROOT/.venv/bin/pybabel}"
LOCALE_DIR="src/yilian/web/locale"
POT="$LOCALE_DIR/messages.pot"
LOCALES=(zh_Hans)

cd "$ROOT"
mkdir -p "$LOCALE_DIR"

extract() {
  "$PYBABEL" extract -F babel.cfg -o "$1" \
    --no-default-keywords -k _ -k N_ -k t -k gettext -k ngettext:1,2 \
    --add-location=file --sort-output --no-wrap \
    --project=yilian --copyright-holder="Yilian" --msgid-bugs-address="-" \
    -c "TRANSLATORS:" \
    .
}

case "${1:-all}" in
  extract)
    extract "${2:?usage: scripts/i18n.sh extract FILE}"
    ;;
  all)
    extract "$POT"
    for locale in "${LOCALES[@]}"; do
      if [[ -f "$LOCALE_DIR/$locale/LC_MESSAGES/messages.po" ]]; then
        "$PYBABEL" update -i "$POT" -d "$LOCALE_DIR" -l "$locale" --no-wrap --ignore-obsolete --no-fuzzy-matching
      else
        "$PYBABEL" init -i "$POT" -d "$LOCALE_DIR" -l "$locale" --no-wrap
      fi
    done
    "$PYBABEL" compile -d "$LOCALE_DIR" --statistics
    ;;
  *)
    echo "usage: scripts/i18n.sh [extract FILE]" >&2
    exit 2
    ;;
esac
