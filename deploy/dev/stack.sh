#!/usr/bin/env bash
# The infrastructure of the dev stack and the tests: PostgreSQL (127.0.0.1:55432), Apache Kafka
# (127.0.0.1:9092) and the SMTP sink (127.0.0.1:2525), all under .run/. Safe to run twice:
# whatever already runs is left alone.
#
#   deploy/dev/stack.sh up       start all three (Kafka's jars are fetched on first use)
#   deploy/dev/stack.sh down     stop all three
#   deploy/dev/stack.sh status   one line each; exit 0 only when all three answer
#   deploy/dev/stack.sh reset    stop all and delete their data
set -euo pipefail
SCRIPT=stack
# shellcheck source=deploy/dev/lib.sh
. "$(dirname "$0")/lib.sh"
DEV=$VIGIL_REPO/deploy/dev

case "${1:-}" in
up)
    t0=$(now_s)
    "$DEV/pg.sh" start
    "$DEV/kafka.sh" start
    "$DEV/smtp.sh" start
    log "up in $(elapsed "$t0")s"
    ;;
down)
    rc=0
    "$DEV/smtp.sh" stop || rc=1
    "$DEV/kafka.sh" stop || rc=1
    "$DEV/pg.sh" stop || rc=1
    exit $rc
    ;;
status)
    rc=0
    "$DEV/pg.sh" status || rc=1
    "$DEV/kafka.sh" status || rc=1
    "$DEV/smtp.sh" status || rc=1
    exit $rc
    ;;
reset)
    "$DEV/smtp.sh" stop
    "$DEV/kafka.sh" reset
    "$DEV/pg.sh" reset
    ;;
*)
    echo "usage: $0 up|down|status|reset" >&2
    exit 2
    ;;
esac
