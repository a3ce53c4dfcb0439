# Shared settings and helpers for the project's shell scripts. Sourced, not run.
# Every setting can be overridden from the environment; the defaults serve the local demo.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="${LAMBDA_DATA_DIR:-$ROOT/data}"
KAFKA_PORT="${LAMBDA_LOCAL_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${LAMBDA_LOCAL_KAFKA_CONTROLLER_PORT:-9093}"
REDIS_PORT="${LAMBDA_LOCAL_REDIS_PORT:-6380}"
KAFKA_HOME="$ROOT/services/kafka"
KAFKA_DATA="$DATA_DIR/kafka"
REDIS_DATA="$DATA_DIR/redis"
# Redis Cluster (services.sh up redis-cluster): six nodes on consecutive ports, three masters with one replica each.
REDIS_CLUSTER_PORT="${LAMBDA_LOCAL_REDIS_CLUSTER_PORT:-7101}"
REDIS_CLUSTER_DATA="$DATA_DIR/redis-cluster"
# Kafka cluster (services.sh up kafka-cluster): three KRaft nodes, brokers and controllers on consecutive ports.
KAFKA_CLUSTER_PORT="${LAMBDA_LOCAL_KAFKA_CLUSTER_PORT:-9192}"
KAFKA_CLUSTER_CONTROLLER_PORT="${LAMBDA_LOCAL_KAFKA_CLUSTER_CONTROLLER_PORT:-9195}"
KAFKA_CLUSTER_DATA="$DATA_DIR/kafka-cluster"

log() { printf '[lambda-arch] %s\n' "$*" >&2; }
die() { printf '[lambda-arch] error: %s\n' "$*" >&2; exit 1; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Installs Debian packages that are missing (we are root on these machines; apt-get update once).
APT_UPDATED=""
apt_install() {
  command -v apt-get >/dev/null || die "need $* but apt-get is not available; install it yourself"
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update (once)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || die "apt-get install $* failed"
}

ensure_command() { # ensure_command <command> <debian package>
  command -v "$1" >/dev/null 2>&1 || apt_install "$2"
}

# npm dependencies: installed from the lock file when node_modules is missing or older than the lock.
ensure_node_deps() {
  if [ ! -d "$ROOT/node_modules" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "installing npm dependencies (npm ci; better-sqlite3 compiles from source the first time, about 2 minutes)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
  fi
}

# Waits until "$@" succeeds, at most $WAIT_SECONDS (default 120), then says "<what> is up"
# (or $WAIT_DONE, for a wait that is not a start, e.g. a process to end).
wait_for() { # wait_for <what> <command...>
  local what="$1"; shift
  local deadline=$(( $(date +%s) + ${WAIT_SECONDS:-120} ))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
  log "${WAIT_DONE:-$what is up}"
}
