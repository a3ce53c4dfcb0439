# The project's own redis-server on its own port, with AOF on so tests may restart it. Sourced by services.sh.

redis_ping() { redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

redis_up() {
  local pidfile="$REDIS_DATA/redis.pid"
  ensure_command redis-server redis-server
  if redis_ping; then
    log "Redis on 127.0.0.1:$REDIS_PORT is up (already running)"
    return 0
  fi
  mkdir -p "$REDIS_DATA"
  log "starting Redis on 127.0.0.1:$REDIS_PORT (AOF in $REDIS_DATA)"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DATA" \
    --appendonly yes --appendfsync everysec --save "" \
    --daemonize yes --pidfile "$pidfile" --logfile "$REDIS_DATA/redis.log" >/dev/null \
    || die "redis-server failed to start; see $REDIS_DATA/redis.log"
  WAIT_SECONDS=30 wait_for "Redis on 127.0.0.1:$REDIS_PORT" redis_ping || die "Redis did not answer; see $REDIS_DATA/redis.log"
}

redis_down() {
  if redis_ping; then
    log "stopping Redis on 127.0.0.1:$REDIS_PORT"
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  rm -f "$REDIS_DATA/redis.pid"
}
