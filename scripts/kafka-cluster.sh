# Three Apache Kafka nodes in KRaft, each a combined broker+controller, on local ports, for the
# cluster topology (issue 18; docs/design-decisions.md, "Kafka cluster"). Same jars as the single
# broker (kafka_jars in kafka.sh). Sourced by services.sh. Brokers listen on KAFKA_CLUSTER_PORT..+2
# (default 9192-9194), controllers on KAFKA_CLUSTER_CONTROLLER_PORT..+2 (default 9195-9197).
# Idempotent: `up` starts only the nodes that are not running (a node killed by a test comes back
# with its log and its identity); `down` stops every node and keeps nothing.

KAFKA_CLUSTER_SIZE=3

kafka_cluster_ids() { seq 1 "$KAFKA_CLUSTER_SIZE"; }
kafka_cluster_broker_port() { echo $((KAFKA_CLUSTER_PORT + $1 - 1)); }
kafka_cluster_controller_port() { echo $((KAFKA_CLUSTER_CONTROLLER_PORT + $1 - 1)); }
kafka_cluster_node_dir() { echo "$KAFKA_CLUSTER_DATA/node-$1"; }

kafka_cluster_brokers() {
  local id; for id in $(kafka_cluster_ids); do echo "127.0.0.1:$(kafka_cluster_broker_port "$id")"; done | paste -sd, -
}

kafka_cluster_config() { # kafka_cluster_config <node id>
  local id="$1" dir voters="" v
  dir="$(kafka_cluster_node_dir "$id")"
  for v in $(kafka_cluster_ids); do voters="${voters:+$voters,}$v@127.0.0.1:$(kafka_cluster_controller_port "$v")"; done
  mkdir -p "$dir/logs"
  # Replication 3 and min.insync.replicas 2 for every topic created without its own settings,
  # including Kafka's internal ones (consumer offsets): with acks=all a write survives one node's loss
  # and is refused, not silently kept on one copy, when two are gone.
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(kafka_cluster_broker_port "$id"),CONTROLLER://127.0.0.1:$(kafka_cluster_controller_port "$id")
advertised.listeners=PLAINTEXT://127.0.0.1:$(kafka_cluster_broker_port "$id")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/kraft-logs
num.partitions=1
default.replication.factor=$KAFKA_CLUSTER_SIZE
min.insync.replicas=2
unclean.leader.election.enable=false
auto.create.topics.enable=false
offsets.topic.replication.factor=$KAFKA_CLUSTER_SIZE
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$KAFKA_CLUSTER_SIZE
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=$KAFKA_CLUSTER_SIZE
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
log.retention.hours=168
PROPS
}

kafka_cluster_pid_file() { echo "$(kafka_cluster_node_dir "$1")/kafka.pid"; }

kafka_cluster_node_ready() {
  port_open "$(kafka_cluster_broker_port "$1")" && grep -q "Kafka Server started" "$(kafka_cluster_node_dir "$1")/logs/server.log" 2>/dev/null
}

kafka_cluster_ready() {
  local id; for id in $(kafka_cluster_ids); do kafka_cluster_node_ready "$id" || return 1; done
}

# Starts one node in the background; its pid file holds the JVM's own pid (exec), so that a test
# can SIGKILL exactly that broker. Small heap: three JVMs share a 2-core test machine.
kafka_cluster_start_node() { # kafka_cluster_start_node <node id>
  local id="$1" dir
  dir="$(kafka_cluster_node_dir "$id")"
  : > "$dir/logs/server.log"
  (
    trap '' HUP
    exec java -Xms128m -Xmx384m -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
      -Dkafka.logs.dir="$dir/logs" -Dlog4j2.configurationFile="$KAFKA_HOME/log4j2.properties" \
      -cp "$KAFKA_HOME/target/lib/*" kafka.Kafka "$dir/server.properties"
  ) > "$dir/logs/stdout.log" 2>&1 < /dev/null &
  echo $! > "$(kafka_cluster_pid_file "$id")"
}

kafka_cluster_up() {
  local id dir port started=""
  for id in $(kafka_cluster_ids); do
    pid_alive "$(kafka_cluster_pid_file "$id")" && continue
    port="$(kafka_cluster_broker_port "$id")"
    port_open "$port" && die "port $port is taken by another process; set LAMBDA_LOCAL_KAFKA_CLUSTER_PORT to move the Kafka cluster"
    port_open "$(kafka_cluster_controller_port "$id")" && die "port $(kafka_cluster_controller_port "$id") is taken; set LAMBDA_LOCAL_KAFKA_CLUSTER_CONTROLLER_PORT"
  done
  for id in $(kafka_cluster_ids); do
    pid_alive "$(kafka_cluster_pid_file "$id")" && continue
    kafka_jars
    dir="$(kafka_cluster_node_dir "$id")"
    kafka_cluster_config "$id"
    mkdir -p "$KAFKA_CLUSTER_DATA"
    [ -f "$KAFKA_CLUSTER_DATA/cluster.id" ] || KAFKA_DATA="$dir" kafka_java kafka.tools.StorageTool random-uuid > "$KAFKA_CLUSTER_DATA/cluster.id"
    if [ ! -f "$dir/kraft-logs/meta.properties" ]; then
      # KAFKA_DATA: the tool logs under this node's folder, not the single broker's.
      KAFKA_DATA="$dir" kafka_java kafka.tools.StorageTool format -t "$(cat "$KAFKA_CLUSTER_DATA/cluster.id")" -c "$dir/server.properties" --ignore-formatted >/dev/null \
        || die "kafka storage format failed for cluster node $id"
    fi
    log "starting Kafka cluster node $id on 127.0.0.1:$(kafka_cluster_broker_port "$id") (logs: $dir/logs)"
    kafka_cluster_start_node "$id"
    started="$started $id"
  done
  # The nodes elect a controller only once a majority runs: wait for all of them together.
  WAIT_SECONDS=180 wait_for "Kafka cluster on $(kafka_cluster_brokers)" kafka_cluster_ready || {
    for id in $started; do tail -5 "$(kafka_cluster_node_dir "$id")/logs/stdout.log" >&2; done
    die "the Kafka cluster did not start in 180 s; see $KAFKA_CLUSTER_DATA/node-*/logs"
  }
}

kafka_cluster_down() {
  local id pidfile pid
  for id in $(kafka_cluster_ids); do
    pidfile="$(kafka_cluster_pid_file "$id")"
    pid_alive "$pidfile" || continue
    pid="$(cat "$pidfile")"
    log "stopping Kafka cluster node $id (pid $pid)"
    kill "$pid" 2>/dev/null || true
  done
  for id in $(kafka_cluster_ids); do
    pidfile="$(kafka_cluster_pid_file "$id")"
    pid_alive "$pidfile" || continue
    pid="$(cat "$pidfile")"
    WAIT_SECONDS=60 WAIT_DONE="Kafka cluster node $id stopped" wait_for "Kafka cluster node $id stop" bash -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$KAFKA_CLUSTER_DATA"
}

kafka_cluster_status() {
  local id up=0
  for id in $(kafka_cluster_ids); do kafka_cluster_node_ready "$id" && up=$((up + 1)); done
  if [ "$up" -eq "$KAFKA_CLUSTER_SIZE" ]; then echo "kafka-cluster: up, KAFKA_BROKERS=$(kafka_cluster_brokers)"
  elif [ "$up" -eq 0 ]; then echo "kafka-cluster: down"
  else echo "kafka-cluster: degraded, $up of $KAFKA_CLUSTER_SIZE nodes up ($(kafka_cluster_brokers))"; fi
}
