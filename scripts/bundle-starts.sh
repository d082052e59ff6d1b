#!/usr/bin/env bash
# The bundle loads and runs up to its first input check: `node dist/index.js` with no inputs must
# exit non-zero naming the required 'token' input. A bundle that fails to load (a missing chunk,
# a module format error) names nothing. Run by .ci/run and the Check dist workflow.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(env -i PATH="$PATH" HOME="$HOME" node dist/index.js 2>&1)
code=$?
echo "$out"
if [ "$code" -eq 0 ] || ! grep -q "Input 'token'" <<<"$out"; then
  echo "node dist/index.js without inputs must fail naming the 'token' input (exit $code)."
  exit 1
fi
echo "the bundle starts (exit $code, naming the missing 'token' input)"
