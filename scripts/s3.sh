# A real S3-compatible server for the S3 master dataset: S3Proxy (Maven Central jar, Java 17) over
# plain files under data/s3. Sourced by services.sh; also runs alone:
#   bash scripts/s3.sh up|down|status
# Idempotent like the others: `up` twice finds it running. Credentials and the path-style endpoint
# are in services/s3proxy/s3proxy.properties; `up` creates the demo bucket `lambda`, so
#   LAMBDA_MASTER_URL=s3://lambda/master LAMBDA_S3_ENDPOINT=http://127.0.0.1:9000 \
#   LAMBDA_S3_ACCESS_KEY_ID=lambda LAMBDA_S3_SECRET_ACCESS_KEY=lambda-secret
# points the service at it.
[ -n "${ROOT:-}" ] || source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

S3_PORT="${LAMBDA_LOCAL_S3_PORT:-9000}"
S3PROXY_HOME="$ROOT/services/s3proxy"
S3_DATA="$DATA_DIR/s3"
S3_DEMO_BUCKET="lambda"
S3_ACCESS_KEY_ID="lambda"
S3_SECRET_ACCESS_KEY="lambda-secret"

s3_jar() {
  local lib="$S3PROXY_HOME/target/lib"
  if [ ! -f "$lib/.complete" ] || [ "$S3PROXY_HOME/pom.xml" -nt "$lib/.complete" ]; then
    ensure_command java openjdk-17-jre-headless
    ensure_command mvn maven
    log "resolving S3Proxy from Maven Central (first time only)"
    rm -rf "$lib"
    (cd "$S3PROXY_HOME" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory=target/lib -DincludeScope=runtime >&2) \
      || die "mvn could not resolve S3Proxy (see output above)"
    touch "$lib/.complete"
  fi
  S3_JAR="$(ls "$lib"/s3proxy-*-jar-with-dependencies.jar 2>/dev/null | head -1)"
  [ -n "$S3_JAR" ] || die "no S3Proxy jar under $lib"
}

# Any HTTP answer counts (an anonymous request gets 403 from S3Proxy): the server is serving.
s3_ready() {
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$S3_PORT/" 2>/dev/null) || return 1
  [ "$code" -ge 200 ] && [ "$code" -lt 500 ]
}

s3_up() {
  local pidfile="$S3_DATA/s3proxy.pid"
  ensure_command curl curl
  if pid_alive "$pidfile"; then
    WAIT_SECONDS=60 wait_for "S3Proxy (already running, pid $(cat "$pidfile"))" s3_ready || die "S3Proxy pid $(cat "$pidfile") is alive but not answering; see $S3_DATA/s3proxy.log"
    return 0
  fi
  if port_open "$S3_PORT"; then
    die "port $S3_PORT is taken by another process; set LAMBDA_LOCAL_S3_PORT, or S3_ENDPOINT to use that server"
  fi
  s3_jar
  # A bucket of the filesystem backend is a folder under the base dir.
  mkdir -p "$S3_DATA/buckets/$S3_DEMO_BUCKET"
  log "starting S3Proxy on 127.0.0.1:$S3_PORT (objects under $S3_DATA/buckets, log: $S3_DATA/s3proxy.log)"
  nohup java -Xms64m -Xmx256m -Djava.awt.headless=true \
    -Ds3proxy.endpoint="http://127.0.0.1:$S3_PORT" -Djclouds.filesystem.basedir="$S3_DATA/buckets" \
    -jar "$S3_JAR" --properties "$S3PROXY_HOME/s3proxy.properties" \
    > "$S3_DATA/s3proxy.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  WAIT_SECONDS=60 wait_for "S3Proxy on 127.0.0.1:$S3_PORT" s3_ready \
    || { tail -20 "$S3_DATA/s3proxy.log" >&2; die "S3Proxy did not start in 60 s; see $S3_DATA/s3proxy.log"; }
}

s3_down() {
  local pidfile="$S3_DATA/s3proxy.pid"
  if pid_alive "$pidfile"; then
    local pid; pid=$(cat "$pidfile")
    log "stopping S3Proxy (pid $pid)"
    kill "$pid" 2>/dev/null || true
    WAIT_SECONDS=30 WAIT_DONE="S3Proxy stopped" wait_for "S3Proxy stop" bash -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

s3_env() {
  echo "S3_ENDPOINT=http://127.0.0.1:$S3_PORT"
  echo "S3_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID"
  echo "S3_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY"
}

s3_status() {
  if s3_ready; then echo "s3: up on http://127.0.0.1:$S3_PORT (S3Proxy)"; else echo "s3: down"; fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    up) s3_up; s3_env ;;
    down) s3_down ;;
    status) s3_status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
  esac
fi
