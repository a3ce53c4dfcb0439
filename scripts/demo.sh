#!/usr/bin/env bash
# The README's run command (`npm run demo`): installs what is missing, starts the local Kafka and
# Redis, then every role of the service in one process with embedded defaults (file master
# dataset, SQLite batch views, a batch run every 2 minutes) and the event generator, and prints
# where to look. Ctrl-C stops all of it cleanly.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_node_deps
ensure_command curl curl
if [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  eval "$(bash scripts/services.sh up | sed 's/^/export /')"
fi

export LAMBDA_BATCH_CRON="${LAMBDA_BATCH_CRON:-*/2 * * * *}"
export LAMBDA_ADMIN_TOKEN="${LAMBDA_ADMIN_TOKEN:-demo-admin-token}"
export LAMBDA_LOG_LEVEL="${LAMBDA_LOG_LEVEL:-warn}"
PORT="${LAMBDA_HTTP_PORT:-8080}"
HOST="${LAMBDA_HTTP_HOST:-127.0.0.1}"
RATE="${DEMO_RATE:-100}"

log "starting every role in one process, with the generator at $RATE events/s (logs: $DATA_DIR/demo.log)"
mkdir -p "$DATA_DIR"
bin/lambda-arch all --generate --rate "$RATE" --late 0.03 --duplicates 0.01 --invalid 0.005 --max-lateness 600 >>"$DATA_DIR/demo.log" 2>&1 &
APP=$!
trap 'log "stopping"; kill -TERM $APP 2>/dev/null; wait $APP; exit 0' INT TERM

ready() { curl -fsS "http://$HOST:$PORT/readyz" >/dev/null 2>&1; }
if ! WAIT_SECONDS=120 wait_for "the service" ready; then
  kill -TERM $APP 2>/dev/null || true
  tail -30 "$DATA_DIR/demo.log" >&2
  die "the service did not become ready; see $DATA_DIR/demo.log"
fi

cat <<BANNER

  lambda-arch is running.

  Dashboard     http://$HOST:$PORT/
  Status        http://$HOST:$PORT/api/v1/status
  Merged series http://$HOST:$PORT/api/v1/views/pageviews/series?granularity=minute&groupBy=
  Drift         http://$HOST:$PORT/api/v1/views/pageviews/drift?granularity=minute
  OpenAPI       http://$HOST:$PORT/openapi.json      Metrics http://$HOST:$PORT/metrics
  Admin token   $LAMBDA_ADMIN_TOKEN   (the dashboard's "Run batch now" asks for it)

  A batch run starts every 2 minutes ($LAMBDA_BATCH_CRON); to run one now:
    curl -X POST -H "Authorization: Bearer $LAMBDA_ADMIN_TOKEN" http://$HOST:$PORT/api/v1/batch/runs

  The generator sends $RATE events/s with 3% late, 1% duplicate and 0.5% invalid records.
  Logs: $DATA_DIR/demo.log.  Press Ctrl-C to stop.

BANNER
wait $APP
