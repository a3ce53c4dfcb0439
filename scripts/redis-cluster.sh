# A Redis Cluster of three masters with one replica each, on six consecutive local ports from
# REDIS_CLUSTER_PORT (Debian's redis-server in cluster mode, AOF on), for the cluster topology
# (docs/design-decisions.md, "Redis Cluster"). Sourced by services.sh. Idempotent: `up` finds a
# healthy cluster running and leaves it, restarting any node that died with its state (a killed
# master comes back as a replica of the one promoted in its place); `down` stops every node and keeps nothing.

REDIS_CLUSTER_NODES_COUNT=6

redis_cluster_ports() { local i; for i in $(seq 0 $((REDIS_CLUSTER_NODES_COUNT - 1))); do echo $((REDIS_CLUSTER_PORT + i)); done; }

redis_node_ping() { redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; }

# Asks the first node that answers: any one of them (the first may be the one a test killed).
redis_cluster_ok() {
  local port
  for port in $(redis_cluster_ports); do
    redis_node_ping "$port" || continue
    redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
    return
  done
  return 1
}

redis_cluster_start_node() { # redis_cluster_start_node <port>: its folder (and nodes.conf, if any) as it is
  local port="$1" dir="$REDIS_CLUSTER_DATA/$1"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 3000 \
    --appendonly yes --appendfsync everysec --save "" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null \
    || die "redis-server (cluster node $port) failed to start; see $dir/redis.log"
  WAIT_SECONDS=30 wait_for "Redis Cluster node 127.0.0.1:$port" redis_node_ping "$port" || die "cluster node $port did not answer"
}

redis_cluster_url() {
  local seeds
  seeds="$(redis_cluster_ports | sed 's/^/127.0.0.1:/' | paste -sd, -)"
  echo "redis-cluster://$seeds"
}

redis_cluster_up() {
  local port dir
  ensure_command redis-server redis-server
  if redis_cluster_ok; then
    for port in $(redis_cluster_ports); do
      if ! redis_node_ping "$port" && [ -f "$REDIS_CLUSTER_DATA/$port/nodes.conf" ]; then
        log "restarting Redis Cluster node $port (it rejoins from its nodes.conf)"
        redis_cluster_start_node "$port"
      fi
    done
    log "Redis Cluster on 127.0.0.1:$REDIS_CLUSTER_PORT.. is up (already running)"
    return 0
  fi
  for port in $(redis_cluster_ports); do
    dir="$REDIS_CLUSTER_DATA/$port"
    if redis_node_ping "$port"; then continue; fi
    # A node that is not part of a healthy cluster starts from nothing: no half-formed cluster state.
    rm -rf "$dir"
    mkdir -p "$dir"
    redis_cluster_start_node "$port"
  done
  log "creating the Redis Cluster (3 masters, 1 replica each) on 127.0.0.1:$REDIS_CLUSTER_PORT.."
  # shellcheck disable=SC2046
  redis-cli --cluster create $(redis_cluster_ports | sed 's/^/127.0.0.1:/') --cluster-replicas 1 --cluster-yes >"$REDIS_CLUSTER_DATA/create.log" 2>&1 \
    || die "redis-cli --cluster create failed; see $REDIS_CLUSTER_DATA/create.log"
  WAIT_SECONDS=60 wait_for "Redis Cluster state ok" redis_cluster_ok || die "the Redis Cluster did not reach state ok; see $REDIS_CLUSTER_DATA/create.log"
}

redis_cluster_down() {
  local port
  for port in $(redis_cluster_ports); do
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  done
  rm -rf "$REDIS_CLUSTER_DATA"
}
