#!/usr/bin/env bash
# Apache Kafka of the dev stack and the tests: one KRaft node (broker + controller) run from the
# Maven Central jars of deploy/kafka/pom.xml with the machine's Java 17.
#   client listener 127.0.0.1:$VIGIL_DEV_KAFKA_PORT (9092), controller 127.0.0.1:9093
#   .run/kafka/libs (jars, fetched once), data/, server.properties, server.log, kafka.pid
#
#   deploy/dev/kafka.sh start    fetch jars once, format storage once, start, wait for metadata
#   deploy/dev/kafka.sh stop     SIGTERM (controlled shutdown), SIGKILL after 30 s
#   deploy/dev/kafka.sh status   exit 0 when the broker answers metadata
#   deploy/dev/kafka.sh fetch    only fetch the jars
#   deploy/dev/kafka.sh reset    stop and delete the data folder (topics, offsets)
#   deploy/dev/kafka.sh delete-topics REGEX   delete the topics whose names match (the tests
#                                drop their prefixed topics with it)
# Heap: KAFKA_HEAP_OPTS (default -Xmx512m -Xms128m). Start timeout: VIGIL_KAFKA_START_TIMEOUT (60).
set -euo pipefail
SCRIPT=kafka
# shellcheck source=deploy/dev/lib.sh
. "$(dirname "$0")/lib.sh"

K=$RUN/kafka
LIBS=$K/libs
POM=$VIGIL_REPO/deploy/kafka/pom.xml
PIDFILE=$K/kafka.pid
BROKER=127.0.0.1:$KAFKA_PORT
TIMEOUT=${VIGIL_KAFKA_START_TIMEOUT:-60}

answers() { kcat -b "$BROKER" -L -m 3 >/dev/null 2>&1; }

fetch() {
    local sum t0
    sum=$(sha256sum "$POM" | cut -d' ' -f1)
    if [ -f "$LIBS/.complete" ] && [ "$(cat "$LIBS/.complete")" = "$sum" ]; then
        return 0
    fi
    need_cmd mvn
    t0=$(now_s)
    log "fetching the Kafka jars with Maven (once; cached in ~/.m2)"
    rm -rf "$LIBS.tmp"
    mkdir -p "$K"
    if ! mvn -B -q -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$LIBS.tmp" >"$K/fetch.log" 2>&1 </dev/null; then
        tail -n 40 "$K/fetch.log" >&2
        die "mvn could not fetch the Kafka jars (full log: $K/fetch.log)"
    fi
    ls "$LIBS.tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "no kafka_2.13 jar in $LIBS.tmp"
    rm -rf "$LIBS"
    mv "$LIBS.tmp" "$LIBS"
    printf '%s\n' "$sum" >"$LIBS/.complete"
    log "jars fetched in $(elapsed "$t0")s ($(find "$LIBS" -name '*.jar' | wc -l) jars)"
}

write_config() {
    cat >"$K/server.properties" <<EOF
# written by deploy/dev/kafka.sh on every start: edit the script, not this file
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$K/data
auto.create.topics.enable=true
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
EOF
    cat >"$K/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
}

# JAVA_OPTS: the JVM options and classpath of the broker and of StorageTool
# shellcheck disable=SC2206
JAVA_OPTS=(${KAFKA_HEAP_OPTS:--Xmx512m -Xms128m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -Djava.awt.headless=true "-Dlog4j2.configurationFile=$K/log4j2.properties" -cp "$LIBS/*")

format_storage() {
    [ -f "$K/data/meta.properties" ] && return 0
    local id
    # the tool may log a line or two to stdout first: the id is the last line
    id=$(java "${JAVA_OPTS[@]}" kafka.tools.StorageTool random-uuid 2>>"$K/format.log" | tail -n 1)
    [[ $id =~ ^[A-Za-z0-9_-]{22}$ ]] || die "StorageTool random-uuid printed no cluster id (log: $K/format.log)"
    java "${JAVA_OPTS[@]}" kafka.tools.StorageTool format -t "$id" -c "$K/server.properties" \
        >>"$K/format.log" 2>&1 || {
        cat "$K/format.log" >&2
        die "StorageTool format failed"
    }
    log "storage formatted (cluster id $id)"
}

start() {
    local t0 pid i
    t0=$(now_s)
    need_cmd kcat
    need_cmd java
    mkdir -p "$K"
    if pid_alive "$PIDFILE" kafka.Kafka; then
        for ((i = 0; i < TIMEOUT * 4; i++)); do
            answers && break
            sleep 0.25
        done
        answers || die "Kafka (pid $(cat "$PIDFILE")) runs but does not answer on $BROKER; see $K/server.log"
        log "already running on $BROKER"
        return 0
    fi
    rm -f "$PIDFILE"
    if port_open "$KAFKA_PORT"; then
        if answers; then
            log "a Kafka broker not started from $VIGIL_REPO answers on $BROKER: using it"
            return 0
        fi
        die "port $KAFKA_PORT is taken by something that is not a Kafka broker"
    fi
    port_open "$KAFKA_CONTROLLER_PORT" && die "controller port $KAFKA_CONTROLLER_PORT is taken"
    fetch
    write_config
    format_storage
    printf '\n===== start %s =====\n' "$(date -Is)" >>"$K/server.log"
    spawn "$PIDFILE" "$K/server.log" java "${JAVA_OPTS[@]}" kafka.Kafka "$K/server.properties"
    pid=$(cat "$PIDFILE")
    for ((i = 0; i < TIMEOUT * 4; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 40 "$K/server.log" >&2
            rm -f "$PIDFILE"
            die "Kafka exited during start-up (log: $K/server.log)"
        fi
        answers && break
        sleep 0.25
    done
    if ! answers; then
        tail -n 40 "$K/server.log" >&2
        die "Kafka did not answer on $BROKER within ${TIMEOUT}s (log: $K/server.log)"
    fi
    log "started on $BROKER in $(elapsed "$t0")s (pid $pid, log $K/server.log)"
}

delete_topics() {
    [ -n "${1:-}" ] || die "usage: kafka.sh delete-topics REGEX"
    # the running broker's jars are used as they are (never replaced under it)
    [ -f "$LIBS/.complete" ] || fetch
    answers || die "no broker answers on $BROKER"
    mkdir -p "$K"
    cat >"$K/log4j2-tools.properties" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
    java -Xmx256m "-Dlog4j2.configurationFile=$K/log4j2-tools.properties" -cp "$LIBS/*" \
        "$VIGIL_REPO/deploy/kafka/DeleteTopics.java" "$BROKER" "$1"
}

status() {
    if pid_alive "$PIDFILE" kafka.Kafka && answers; then
        echo "kafka: running on $BROKER (pid $(cat "$PIDFILE"))"
    elif answers; then
        echo "kafka: $BROKER answers (not started from this checkout)"
    elif pid_alive "$PIDFILE" kafka.Kafka; then
        echo "kafka: pid $(cat "$PIDFILE") alive but $BROKER does not answer (starting?)"
        return 1
    else
        echo "kafka: stopped"
        return 1
    fi
}

case "${1:-}" in
start) start ;;
stop) stop_pid "$PIDFILE" kafka 30 kafka.Kafka ;;
status) status ;;
fetch)
    if pid_alive "$PIDFILE" kafka.Kafka; then die "Kafka runs from $LIBS: stop it first"; fi
    fetch
    ;;
delete-topics) delete_topics "${2:-}" ;;
reset)
    stop_pid "$PIDFILE" kafka 30 kafka.Kafka
    rm -rf "${K:?}/data"
    log "data deleted"
    ;;
*)
    echo "usage: $0 start|stop|status|fetch|reset|delete-topics REGEX" >&2
    exit 2
    ;;
esac
