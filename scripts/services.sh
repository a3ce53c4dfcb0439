#!/usr/bin/env bash
# Local services for the demo and the tests, with no Docker: a real Kafka broker (KRaft, jars from
# Maven Central), a real Redis, and S3Proxy (an S3-compatible server, also from Maven Central). Idempotent: `up` twice finds them running; data lives under data/.
#   bash scripts/services.sh up|down|status [kafka] [redis] [s3] [redis-cluster] [kafka-cluster] [cluster] [spark-standalone]
#   (no name: the first three for up, all five for down and status)
# redis-cluster: six nodes (3 masters + 3 replicas) from port 7101, for REDIS_URL=redis-cluster://...
# kafka-cluster: three KRaft nodes (broker+controller), brokers on 9192-9194, controllers on 9195-9197.
# cluster: both clusters (what `lambda-arch services up --cluster` starts).
# spark-standalone: a Spark master (spark://127.0.0.1:7177, UI 18180) and one worker (UI 18181) from
# the Maven jars, for LAMBDA_SPARK_MASTER=spark://... (scripts/spark.sh).
# Naming services acts on those only, e.g. a test's private broker on other ports:
#   LAMBDA_LOCAL_KAFKA_PORT=19092 LAMBDA_LOCAL_KAFKA_CONTROLLER_PORT=19093 LAMBDA_DATA_DIR=/tmp/x bash scripts/services.sh up kafka
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka.sh"
source "$(dirname "$0")/kafka-cluster.sh"
source "$(dirname "$0")/redis.sh"
source "$(dirname "$0")/redis-cluster.sh"
source "$(dirname "$0")/s3.sh"
source "$(dirname "$0")/spark.sh"

ACTION="${1:-}"
[ $# -gt 0 ] && shift
SELECTED=()
for name in "$@"; do
  if [ "$name" = cluster ]; then SELECTED+=(kafka-cluster redis-cluster); else SELECTED+=("$name"); fi
done
# No names: the three the demo needs; `down` and `status` also cover the test's two clusters.
if [ ${#SELECTED[@]} -eq 0 ]; then
  if [ "$ACTION" = "up" ]; then SELECTED=(redis kafka s3); else SELECTED=(redis kafka s3 redis-cluster kafka-cluster spark-standalone); fi
fi
for name in "${SELECTED[@]}"; do
  case "$name" in kafka|redis|s3|redis-cluster|kafka-cluster|spark-standalone) ;; *) echo "unknown service \"$name\" (expected kafka, redis, s3, redis-cluster, kafka-cluster, cluster or spark-standalone)" >&2; exit 2 ;; esac
done
selected() { local n; for n in "${SELECTED[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }

case "$ACTION" in
  up)
    if selected redis; then redis_up; fi
    if selected kafka; then kafka_up; fi
    if selected s3; then s3_up; fi
    if selected redis-cluster; then redis_cluster_up; echo "REDIS_URL=$(redis_cluster_url)"; fi
    if selected kafka-cluster; then kafka_cluster_up; echo "KAFKA_BROKERS=$(kafka_cluster_brokers)"; fi
    if selected kafka; then echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"; fi
    if selected redis; then echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"; fi
    if selected s3; then s3_env; fi
    if selected spark-standalone; then spark_standalone_up; spark_standalone_env; fi
    ;;
  down)
    if selected kafka; then kafka_down; fi
    if selected redis; then redis_down; fi
    if selected s3; then s3_down; fi
    if selected redis-cluster; then redis_cluster_down; fi
    if selected kafka-cluster; then kafka_cluster_down; fi
    if selected spark-standalone; then spark_standalone_down; fi
    ;;
  status)
    if selected kafka; then if kafka_ready; then echo "kafka: up on 127.0.0.1:$KAFKA_PORT"; else echo "kafka: down"; fi; fi
    if selected redis; then if redis_ping; then echo "redis: up on 127.0.0.1:$REDIS_PORT"; else echo "redis: down"; fi; fi
    if selected s3; then s3_status; fi
    if selected redis-cluster; then if redis_cluster_ok; then echo "redis-cluster: up, $(redis_cluster_url)"; else echo "redis-cluster: down"; fi; fi
    if selected kafka-cluster; then kafka_cluster_status; fi
    if selected spark-standalone; then spark_standalone_status; fi
    ;;
  *)
    echo "usage: $0 up|down|status [kafka] [redis] [s3] [redis-cluster] [kafka-cluster] [cluster] [spark-standalone]" >&2; exit 2 ;;
esac
