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
# Two workers by default: real servers and engines, side by side. Set
# ZORDON_TEST_WORKERS=0 to run everything in one process.
WORKERS=${ZORDON_TEST_WORKERS:-2}
echo "== pytest -q -n $WORKERS $*"
status=0
"$BIN/pytest" -q -n "$WORKERS" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests; that counts as a failure" >&2
fi
exit "$status"
