#!/usr/bin/env bash
# The environment of the Vigil services in the dev stack.
#   . deploy/dev/env.sh          export it into the current shell
#   deploy/dev/env.sh            print it as `export NAME=value` lines (eval "$(deploy/dev/env.sh)")
# A VIGIL_* variable already set in the environment wins over the dev default. The master key is
# generated once into .run/master.key (openssl rand -base64 32) and kept across runs.
# Sourcing changes no shell option of the caller.

_vigil_env() {
    local repo run key
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P) || return 1
    run=${VIGIL_RUN_DIR:-$repo/.run}
    key=$run/master.key
    if [ -z "${VIGIL_MASTER_KEY:-}" ] && [ ! -s "$key" ]; then
        mkdir -p "$run" || return 1
        (umask 077 && openssl rand -base64 32 >"$key.tmp" && mv "$key.tmp" "$key") || {
            echo "env.sh: cannot write $key" >&2
            return 1
        }
    fi
    export VIGIL_DATABASE_URL=${VIGIL_DATABASE_URL:-postgresql://postgres@127.0.0.1:${VIGIL_DEV_PG_PORT:-55432}/vigil}
    export VIGIL_KAFKA_BROKERS=${VIGIL_KAFKA_BROKERS:-127.0.0.1:${VIGIL_DEV_KAFKA_PORT:-9092}}
    export VIGIL_TOPIC_PREFIX=${VIGIL_TOPIC_PREFIX:-}
    export VIGIL_MASTER_KEY=${VIGIL_MASTER_KEY:-$(cat "$key")}
    export VIGIL_DEV_MODE=${VIGIL_DEV_MODE:-1}
    export VIGIL_ALLOW_PRIVATE_TARGETS=${VIGIL_ALLOW_PRIVATE_TARGETS:-1}
    export VIGIL_SMTP_URL=${VIGIL_SMTP_URL:-smtp://127.0.0.1:${VIGIL_DEV_SMTP_PORT:-2525}}
    export VIGIL_MAIL_FROM=${VIGIL_MAIL_FROM:-vigil@localhost}
    export VIGIL_FREE_WORKLOADS=${VIGIL_FREE_WORKLOADS:-25}
    export VIGIL_LOG_LEVEL=${VIGIL_LOG_LEVEL:-info}
    export VIGIL_SQL_DIR=${VIGIL_SQL_DIR:-$repo/sql}
    export VIGIL_PORTAL_ADDR=${VIGIL_PORTAL_ADDR:-127.0.0.1:8080}
    export VIGIL_INGEST_ADDR=${VIGIL_INGEST_ADDR:-127.0.0.1:8081}
    export VIGIL_INVENTORY_ADDR=${VIGIL_INVENTORY_ADDR:-127.0.0.1:8082}
    export VIGIL_FUZZER_ADDR=${VIGIL_FUZZER_ADDR:-127.0.0.1:8083}
    export VIGIL_REPORT_ADDR=${VIGIL_REPORT_ADDR:-127.0.0.1:8084}
    export VIGIL_INGEST_PUBLIC_URL=${VIGIL_INGEST_PUBLIC_URL:-http://$VIGIL_INGEST_ADDR}
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
    _vigil_env
    unset -f _vigil_env
else
    set -euo pipefail
    _vigil_env
    # every VIGIL_* variable, the ones set by the caller included
    while IFS= read -r name; do
        printf 'export %s=%q\n' "$name" "${!name}"
    done < <(compgen -e | grep '^VIGIL_' | sort)
fi
