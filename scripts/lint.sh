#!/usr/bin/env bash
# The static checks, one list for `npm run lint` and `npm test` (scripts/test.sh) alike: the
# formatting (prettier, .prettierrc.json; `npm run format` fixes it), types (the server's and the
# browser dashboard's), eslint with type information and no warning allowed, and the import graph
# (.dependency-cruiser.cjs).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
npx prettier --check --log-level warn "**/*.{ts,js,cjs,mjs}" || die "code not formatted: run npm run format"
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p serving-layer/dashboard/tsconfig.json
npx eslint --max-warnings 0 .
npx depcruise --config .dependency-cruiser.cjs --output-type err shared lab batch-layer speed-layer serving-layer adapters platform cli
