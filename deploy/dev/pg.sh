#!/usr/bin/env bash
# PostgreSQL of the dev stack and the tests: a private cluster in .run/pg (data in .run/pg/data,
# unix socket in .run/pg, log in .run/pg/log) on 127.0.0.1:$VIGIL_DEV_PG_PORT (55432), trust
# auth, superuser postgres, database `vigil`. Tuned for tests (fsync off): never for real data.
#
#   deploy/dev/pg.sh start    init once, start, create database vigil (no-op when running)
#   deploy/dev/pg.sh stop     fast shutdown
#   deploy/dev/pg.sh status   exit 0 when it answers
#   deploy/dev/pg.sh psql ... psql as postgres on the dev cluster (extra args passed on)
#   deploy/dev/pg.sh reset    stop and delete the data folder
set -euo pipefail
SCRIPT=pg
# shellcheck source=deploy/dev/lib.sh
. "$(dirname "$0")/lib.sh"

PGBIN=$(pg_bin)
DB=vigil

pg_psql() { "$PGBIN/psql" -X -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
pg_answers() { "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }
pg_ctl() { as_user postgres "$PGBIN/pg_ctl" -D "$D/data" "$@"; }
ours_running() { [ -f "$D/data/PG_VERSION" ] && pg_ctl status >/dev/null 2>&1; }

ensure_db() {
    local found
    found=$(pg_psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'") ||
        die "cannot query the server on 127.0.0.1:$PG_PORT"
    if [ "$found" != 1 ]; then
        pg_psql -d postgres -qc "CREATE DATABASE $DB" || die "cannot create database $DB"
        log "created database $DB"
    fi
}

init_cluster() {
    log "initdb in $D/data"
    as_user postgres "$PGBIN/initdb" -D "$D/data" -A trust -U postgres --no-sync -E UTF8 \
        --locale=C.UTF-8 >"$D/initdb.log" 2>&1 || {
        cat "$D/initdb.log" >&2
        die "initdb failed"
    }
    # settings for a disposable test cluster; the port is given at start so it can move
    cat >>"$D/data/postgresql.conf" <<EOF

# --- vigil dev/test cluster (deploy/dev/pg.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$D'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
log_min_error_statement = error
log_line_prefix = '%m [%p] %d '
EOF
}

start() {
    local t0
    t0=$(now_s)
    if ours_running; then
        pg_answers || die "PostgreSQL in $D/data runs but does not answer on 127.0.0.1:$PG_PORT"
        ensure_db
        log "already running on 127.0.0.1:$PG_PORT"
        return 0
    fi
    if port_open "$PG_PORT"; then
        if pg_answers && pg_psql -d postgres -Atc 'SELECT 1' >/dev/null 2>&1; then
            log "a PostgreSQL not started from $VIGIL_REPO answers on 127.0.0.1:$PG_PORT: using it"
            ensure_db
            return 0
        fi
        die "port $PG_PORT is taken by something that is not a usable PostgreSQL"
    fi
    [ -f "$D/data/PG_VERSION" ] || init_cluster
    pg_ctl -l "$D/log" -w -t 60 -o "-p $PG_PORT" start >/dev/null || {
        tail -n 30 "$D/log" >&2 || true
        die "PostgreSQL did not start (log: $D/log)"
    }
    ensure_db
    log "started on 127.0.0.1:$PG_PORT in $(elapsed "$t0")s (data $D/data, log $D/log)"
}

stop() {
    if ours_running; then
        pg_ctl -m fast -w -t 60 stop >/dev/null
        log "stopped"
    else
        log "not running"
    fi
}

status() {
    if ours_running && pg_answers; then
        echo "postgres: running on 127.0.0.1:$PG_PORT (postgresql://postgres@127.0.0.1:$PG_PORT/$DB)"
    elif pg_answers; then
        echo "postgres: 127.0.0.1:$PG_PORT answers (not started from this checkout)"
    else
        echo "postgres: stopped"
        return 1
    fi
}

D=$(user_dir pg postgres)
case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
psql)
    shift
    exec "$PGBIN/psql" -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$DB" "$@"
    ;;
reset)
    stop
    rm -rf "${D:?}/data" "$D/log"
    log "data deleted"
    ;;
*)
    echo "usage: $0 start|stop|status|psql [args]|reset" >&2
    exit 2
    ;;
esac
