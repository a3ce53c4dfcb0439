#!/usr/bin/env bash
# The README's test command (`npm test`), and what .ci/run runs. On a fresh machine it installs what
# is missing (npm packages, the Kafka and Spark jars, redis-server), starts the local services (and the
# three-broker Kafka cluster, KAFKA_CLUSTER_BROKERS), then runs the static checks (types, lint,
# import graph) and the whole vitest suite (unit + integration).
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
bash scripts/lint.sh
if [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  if ! docker info >/dev/null 2>&1; then
    bash scripts/services.sh up >/dev/null
  fi
fi
# The cluster tests (issue 18) need three Kafka brokers: started here, not in the vitest setup, so
# that a single-file run does not start three JVMs; stopped again at the end if this run started them.
if [ -z "${KAFKA_CLUSTER_BROKERS:-}" ]; then
  if ! bash scripts/services.sh status kafka-cluster | grep -q '^kafka-cluster: up'; then
    trap 'bash scripts/services.sh down kafka-cluster' EXIT
  fi
  KAFKA_CLUSTER_BROKERS="$(bash scripts/services.sh up kafka-cluster | sed -n 's/^KAFKA_BROKERS=//p')"
  export KAFKA_CLUSTER_BROKERS
fi
log "vitest: unit and integration"
npx vitest run "$@"
