# The Spark batch engine's driver (LAMBDA_BATCH_ENGINE=spark): Apache Spark SQL jars from Maven
# Central and the tiny driver in services/spark, built once with mvn. Sourced by services.sh and
# test.sh; also runs alone: `bash scripts/spark.sh` (idempotent: a `.complete` marker newer than
# the pom and the driver's source means nothing to do).
[ -n "${ROOT:-}" ] || source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SPARK_HOME_DIR="$ROOT/services/spark"

spark_jars() {
  local target="$SPARK_HOME_DIR/target"
  local stale=""
  if [ -f "$target/.complete" ]; then
    stale=$(find "$SPARK_HOME_DIR/pom.xml" "$SPARK_HOME_DIR/src" -newer "$target/.complete" -print -quit)
  fi
  if [ ! -f "$target/.complete" ] || [ -n "$stale" ]; then
    ensure_command java openjdk-17-jre-headless
    ensure_command javac openjdk-17-jdk-headless
    ensure_command mvn maven
    log "resolving Apache Spark jars from Maven Central and building the batch driver (first time only)"
    rm -rf "$target"
    (cd "$SPARK_HOME_DIR" && mvn -q -B -Dstyle.color=never package dependency:copy-dependencies -DoutputDirectory=target/lib -DincludeScope=runtime >&2) \
      || die "mvn could not resolve Spark or build the driver (see output above)"
    touch "$target/.complete"
  fi
}

# A Spark standalone cluster on this machine (services.sh up spark-standalone): one master and one
# worker, started from the very jars above (org.apache.spark.deploy.master.Master and
# deploy.worker.Worker are in spark-core), for LAMBDA_SPARK_MASTER=spark://127.0.0.1:7177. Ports
# chosen to clash with nothing here (the service's HTTP API is on 8080, Spark's own default UIs on
# 8080/8081): master RPC 7177, worker RPC 7178, master web UI 18180, worker web UI 18181. The worker
# offers 1 core and 1 GiB (the default spark.executor.memory, so one executor fits): the test
# machine has 2 cores. Idempotent like the other services; `down` stops both and keeps nothing.
SPARK_STANDALONE_PORT="${LAMBDA_LOCAL_SPARK_PORT:-7177}"
SPARK_STANDALONE_UI_PORT="${LAMBDA_LOCAL_SPARK_UI_PORT:-18180}"
SPARK_STANDALONE_DATA="$DATA_DIR/spark-standalone"

spark_standalone_master() { echo "spark://127.0.0.1:$SPARK_STANDALONE_PORT"; }
spark_standalone_ui() { echo "http://127.0.0.1:$SPARK_STANDALONE_UI_PORT"; }

# The master's own state (its web UI's /json): ALIVE with one live worker.
spark_standalone_ready() {
  local state
  state=$(curl -sL -m 2 "$(spark_standalone_ui)/json/" 2>/dev/null) || return 1
  grep -q '"status" *: *"ALIVE"' <<<"$state" && grep -Eq '"aliveworkers" *: *[1-9]' <<<"$state"
}

# Starts one daemon in the background; its pid file holds the JVM's own pid (exec).
spark_standalone_start() { # spark_standalone_start <name> <class> <args...>
  local name="$1" class="$2"; shift 2
  (
    trap '' HUP
    exec java @"$SPARK_HOME_DIR/jvm.options" -Xms64m -Xmx256m -XX:TieredStopAtLevel=1 \
      -Dlog4j2.configurationFile="$SPARK_HOME_DIR/log4j2.properties" \
      -Dspark.local.dir="$SPARK_STANDALONE_DATA/local" -Djava.io.tmpdir="$SPARK_STANDALONE_DATA/local" \
      -cp "$SPARK_HOME_DIR/target/lib/*" "$class" "$@"
  ) > "$SPARK_STANDALONE_DATA/$name.log" 2>&1 < /dev/null &
  echo $! > "$SPARK_STANDALONE_DATA/$name.pid"
}

spark_standalone_up() {
  local port
  ensure_command curl curl
  if pid_alive "$SPARK_STANDALONE_DATA/master.pid" && pid_alive "$SPARK_STANDALONE_DATA/worker.pid"; then
    WAIT_SECONDS=60 wait_for "Spark standalone (already running)" spark_standalone_ready \
      || die "the Spark standalone master or worker is alive but not ready; see $SPARK_STANDALONE_DATA/*.log"
    return 0
  fi
  spark_standalone_down 2>/dev/null
  for port in "$SPARK_STANDALONE_PORT" $((SPARK_STANDALONE_PORT + 1)) "$SPARK_STANDALONE_UI_PORT" $((SPARK_STANDALONE_UI_PORT + 1)); do
    port_open "$port" && die "port $port is taken by another process; set LAMBDA_LOCAL_SPARK_PORT / LAMBDA_LOCAL_SPARK_UI_PORT to move the Spark standalone cluster"
  done
  spark_jars
  mkdir -p "$SPARK_STANDALONE_DATA/local" "$SPARK_STANDALONE_DATA/work" "$SPARK_STANDALONE_DATA/home"
  # An executor's class path is <SPARK_HOME>/jars/* (the worker's launcher refuses a home without
  # it): a home whose jars/ is the Maven jars, no Spark distribution. SPARK_SCALA_VERSION is what a
  # distribution's load-spark-env.sh sets; without it the launcher looks for a source build.
  ln -sfn "$SPARK_HOME_DIR/target/lib" "$SPARK_STANDALONE_DATA/home/jars"
  log "starting Spark standalone: master $(spark_standalone_master) (UI $(spark_standalone_ui)), one worker (1 core, 1 GiB); logs: $SPARK_STANDALONE_DATA"
  spark_standalone_start master org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$SPARK_STANDALONE_PORT" --webui-port "$SPARK_STANDALONE_UI_PORT"
  SPARK_HOME="$SPARK_STANDALONE_DATA/home" SPARK_SCALA_VERSION=2.13 spark_standalone_start worker org.apache.spark.deploy.worker.Worker \
    --host 127.0.0.1 --port $((SPARK_STANDALONE_PORT + 1)) --webui-port $((SPARK_STANDALONE_UI_PORT + 1)) \
    --cores 1 --memory 1g --work-dir "$SPARK_STANDALONE_DATA/work" "$(spark_standalone_master)"
  WAIT_SECONDS=120 wait_for "Spark standalone on $(spark_standalone_master)" spark_standalone_ready || {
    tail -5 "$SPARK_STANDALONE_DATA/master.log" "$SPARK_STANDALONE_DATA/worker.log" >&2
    die "the Spark standalone cluster did not start in 120 s; see $SPARK_STANDALONE_DATA/*.log"
  }
}

spark_standalone_down() {
  local name pid
  for name in worker master; do
    pid_alive "$SPARK_STANDALONE_DATA/$name.pid" || continue
    pid="$(cat "$SPARK_STANDALONE_DATA/$name.pid")"
    log "stopping the Spark standalone $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    WAIT_SECONDS=30 WAIT_DONE="Spark standalone $name stopped" wait_for "Spark standalone $name stop" bash -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$SPARK_STANDALONE_DATA"
}

spark_standalone_env() {
  echo "SPARK_MASTER=$(spark_standalone_master)"
  echo "SPARK_MASTER_UI=$(spark_standalone_ui)"
}

spark_standalone_status() {
  if spark_standalone_ready; then echo "spark-standalone: up, LAMBDA_SPARK_MASTER=$(spark_standalone_master) (UI $(spark_standalone_ui))"; else echo "spark-standalone: down"; fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  spark_jars
fi
