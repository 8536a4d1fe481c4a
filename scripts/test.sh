#!/usr/bin/env bash
# npm test: type check, lint, build, then every test (unit, integration against
# a real key service and PostgreSQL, the real OS keychain, Playwright in Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== type check"; npm run --silent typecheck
echo "== lint"; npm run --silent lint
echo "== build"; npm run --silent build >/dev/null
echo "== tests"
mkdir -p test-results
status=0
bash scripts/with-keyring.sh npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json "$@" || status=$?
node scripts/summary.mjs test-results/vitest.json || status=1
exit $status
