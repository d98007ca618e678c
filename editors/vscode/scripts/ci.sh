#!/usr/bin/env bash
# CI for the VS Code extension. Node only: syntax (node --check), the
# package.json/extension.js consistency lint and the smoke test; then, with
# npm, ESLint from the locked devDependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/lint.js
node scripts/smoke.js
npm ci --no-audit --no-fund --loglevel=error
npx --no-install eslint .
echo "editors/vscode: ok"
