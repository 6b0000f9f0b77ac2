#!/usr/bin/env bash
# Set up, then run the checks CI runs: formatting, lint, and the test suite.
set -euo pipefail

cd "$(dirname "$0")/.."
./scripts/setup.sh --with-browser

BIN=.venv/bin
echo "== ruff format --check"
"$BIN/ruff" format --check .
echo "== ruff check"
"$BIN/ruff" check .
echo "== pytest -q $*"
status=0
"$BIN/pytest" -q "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests; that counts as a failure" >&2
fi
exit "$status"
