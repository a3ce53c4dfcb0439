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

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  spark_jars
fi
