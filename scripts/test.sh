#!/usr/bin/env bash
# The README's test command (`npm test`), and what .ci/run runs. On a fresh machine it installs what
# is missing (npm packages, the Kafka and Spark jars, redis-server), starts the local services, then runs the
# static checks (types, lint, import graph) and the whole vitest suite (unit + integration).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/spark.sh"
cd "$ROOT"
ensure_node_deps
# The spark batch engine's tests start the driver from services/spark/target (scripts/spark.sh).
spark_jars
# The dashboard test drives Debian's Chromium (playwright-core downloads no browser).
ensure_command chromium chromium
log "static checks: tsc, eslint, import graph"
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p serving-layer/dashboard/tsconfig.json
npx eslint --max-warnings 0 .
npx depcruise --config .dependency-cruiser.cjs --output-type err shared batch-layer speed-layer serving-layer adapters platform cli
if [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  if ! docker info >/dev/null 2>&1; then
    bash scripts/services.sh up >/dev/null
  fi
fi
log "vitest: unit and integration"
npx vitest run "$@"
