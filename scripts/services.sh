#!/usr/bin/env bash
# Local services for the demo and the tests, with no Docker: a real Kafka broker (KRaft, jars from
# Maven Central), a real Redis, and S3Proxy (an S3-compatible server, also from Maven Central). Idempotent: `up` twice finds them running; data lives under data/.
#   bash scripts/services.sh up|down|status
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka.sh"
source "$(dirname "$0")/redis.sh"
source "$(dirname "$0")/s3.sh"

case "${1:-}" in
  up)
    redis_up
    kafka_up
    s3_up
    echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
    echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    s3_env
    ;;
  down)
    kafka_down
    redis_down
    s3_down
    ;;
  status)
    if kafka_ready; then echo "kafka: up on 127.0.0.1:$KAFKA_PORT"; else echo "kafka: down"; fi
    if redis_ping; then echo "redis: up on 127.0.0.1:$REDIS_PORT"; else echo "redis: down"; fi
    s3_status
    ;;
  *)
    echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
