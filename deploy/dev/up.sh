#!/usr/bin/env bash
# The whole dev stack in one command (`make up`): Debian packages when one is missing,
# PostgreSQL + Kafka + SMTP sink, `make`, then the five services. Safe to run again.
# Stop it with deploy/dev/down.sh (`make down`).
set -euo pipefail
SCRIPT=up
# shellcheck source=deploy/dev/lib.sh
. "$(dirname "$0")/lib.sh"
DEV=$VIGIL_REPO/deploy/dev

t0=$(now_s)
"$DEV/packages.sh"
"$DEV/stack.sh" up
# `make up` has built already; a direct call builds here (a no-op when up to date)
make -C "$VIGIL_REPO" -j"$(nproc)" all
"$DEV/services.sh" start
# shellcheck source=deploy/dev/env.sh
. "$DEV/env.sh"
cat <<MSG
[up] Vigil dev stack up in $(elapsed "$t0")s
  portal     http://${VIGIL_PORTAL_ADDR}/         API: http://${VIGIL_PORTAL_ADDR}/api/v1
  ingest     http://${VIGIL_INGEST_ADDR}/v1/traces
  database   ${VIGIL_DATABASE_URL}   (deploy/dev/pg.sh psql)
  kafka      ${VIGIL_KAFKA_BROKERS}  (kcat -b ${VIGIL_KAFKA_BROKERS} -L)
  mails      $("$DEV/smtp.sh" dir)
  logs       ${RUN}/logs/<service>.log
  env        . deploy/dev/env.sh
MSG
