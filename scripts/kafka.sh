# A real single-node Apache Kafka (KRaft, broker+controller) from Maven Central jars. Sourced by services.sh.

kafka_jars() {
  local lib="$KAFKA_HOME/target/lib"
  if [ ! -f "$lib/.complete" ] || [ "$KAFKA_HOME/pom.xml" -nt "$lib/.complete" ]; then
    ensure_command java openjdk-17-jre-headless
    ensure_command mvn maven
    log "resolving Apache Kafka jars from Maven Central (first time only)"
    rm -rf "$lib"
    (cd "$KAFKA_HOME" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory=target/lib -DincludeScope=runtime) \
      || die "mvn could not resolve Kafka (see output above)"
    touch "$lib/.complete"
  fi
}

kafka_config() {
  mkdir -p "$KAFKA_DATA/logs"
  cat > "$KAFKA_DATA/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA/kraft-logs
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
PROPS
}

kafka_java() { # kafka_java <main class> <args...>
  java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_DATA/logs" -Dlog4j2.configurationFile="$KAFKA_HOME/log4j2.properties" \
    -cp "$KAFKA_HOME/target/lib/*" "$@"
}

kafka_ready() {
  port_open "$KAFKA_PORT" && grep -q "Kafka Server started" "$KAFKA_DATA/logs/server.log" 2>/dev/null
}

kafka_up() {
  local pidfile="$KAFKA_DATA/kafka.pid"
  if pid_alive "$pidfile"; then
    WAIT_SECONDS=120 wait_for "Kafka (already running, pid $(cat "$pidfile"))" kafka_ready || die "Kafka pid $(cat "$pidfile") is alive but not ready; see $KAFKA_DATA/logs/server.log"
    return 0
  fi
  if port_open "$KAFKA_PORT"; then
    die "port $KAFKA_PORT is taken by another process; set LAMBDA_LOCAL_KAFKA_PORT or KAFKA_BROKERS to use that broker"
  fi
  kafka_jars
  kafka_config
  if [ ! -f "$KAFKA_DATA/kraft-logs/meta.properties" ]; then
    [ -f "$KAFKA_DATA/cluster.id" ] || kafka_java kafka.tools.StorageTool random-uuid > "$KAFKA_DATA/cluster.id"
    log "formatting KRaft storage (cluster $(cat "$KAFKA_DATA/cluster.id"))"
    kafka_java kafka.tools.StorageTool format -t "$(cat "$KAFKA_DATA/cluster.id")" -c "$KAFKA_DATA/server.properties" --ignore-formatted >/dev/null \
      || die "kafka storage format failed"
  fi
  : > "$KAFKA_DATA/logs/server.log"
  log "starting Kafka on 127.0.0.1:$KAFKA_PORT (logs: $KAFKA_DATA/logs/server.log)"
  nohup bash -c "$(declare -f kafka_java); KAFKA_HOME='$KAFKA_HOME' KAFKA_DATA='$KAFKA_DATA' kafka_java kafka.Kafka '$KAFKA_DATA/server.properties'" \
    > "$KAFKA_DATA/logs/stdout.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  WAIT_SECONDS=120 wait_for "Kafka on 127.0.0.1:$KAFKA_PORT" kafka_ready \
    || { tail -20 "$KAFKA_DATA/logs/stdout.log" >&2; die "Kafka did not start in 120 s; see $KAFKA_DATA/logs"; }
}

kafka_down() {
  local pidfile="$KAFKA_DATA/kafka.pid"
  if pid_alive "$pidfile"; then
    local pid; pid=$(cat "$pidfile")
    # The pid is the launcher shell and the JVM is its child: signalling only the shell would leave
    # the broker running as an orphan. Stop the JVM (the shell exits with it), then the shell.
    local jvm; jvm=$(pgrep -P "$pid" || true)
    log "stopping Kafka (pid ${jvm:-$pid})"
    kill ${jvm:-$pid} 2>/dev/null || true
    WAIT_SECONDS=60 WAIT_DONE="Kafka stopped" wait_for "Kafka stop" bash -c "! kill -0 ${jvm:-$pid} 2>/dev/null" || kill -9 ${jvm:-$pid} 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}
