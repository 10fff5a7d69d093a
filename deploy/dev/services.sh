#!/usr/bin/env bash
# The five Vigil services of the dev stack, run in the background from bin/ with the dev
# environment of deploy/dev/env.sh (any VIGIL_* variable set by the caller wins).
#   logs .run/logs/<svc>.log (JSON lines), pids .run/pids/<svc>.pid, working folder: the repo
#
#   deploy/dev/services.sh start [svc...]    start (all five by default), wait for /readyz
#   deploy/dev/services.sh stop [svc...]     SIGTERM, wait, SIGKILL after VIGIL_STOP_TIMEOUT (20 s)
#   deploy/dev/services.sh status [svc...]   pid and /readyz of each; exit 0 when all are ready
#   deploy/dev/services.sh restart [svc...]
# Binaries come from VIGIL_BIN_DIR (default bin/). Readiness timeout: VIGIL_READY_TIMEOUT (60 s).
set -euo pipefail
SCRIPT=services
# shellcheck source=deploy/dev/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=deploy/dev/env.sh
. "$VIGIL_REPO/deploy/dev/env.sh"

ALL=(portal ingest inventory fuzzer report)
BIN_DIR=${VIGIL_BIN_DIR:-$VIGIL_REPO/bin}
LOGS=$RUN/logs
PIDS=$RUN/pids
READY_TIMEOUT=${VIGIL_READY_TIMEOUT:-60}
STOP_TIMEOUT=${VIGIL_STOP_TIMEOUT:-20}

# addr SVC: the service's listen address, from VIGIL_<SVC>_ADDR
addr() {
    local var
    var=VIGIL_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_ADDR
    printf '%s\n' "${!var}"
}

# url SVC: base URL to probe the service on (a wildcard listen host is probed on loopback)
url() {
    local a host port
    a=$(addr "$1")
    host=${a%:*}
    port=${a##*:}
    case "$host" in "" | 0.0.0.0 | "*") host=127.0.0.1 ;; "[::]") host="[::1]" ;; esac
    printf 'http://%s:%s\n' "$host" "$port"
}

ready() { curl -fsS -o /dev/null -m 2 "$(url "$1")/readyz" 2>/dev/null; }
running() { pid_alive "$PIDS/$1.pid" "vigil-$1"; }

check_names() {
    local s a
    for s in "$@"; do
        for a in "${ALL[@]}"; do [ "$s" = "$a" ] && continue 2; done
        die "unknown service '$s' (one of: ${ALL[*]})"
    done
}

start_one() {
    local svc=$1 exe=$BIN_DIR/vigil-$1 port
    if running "$svc"; then
        log "$svc: already running (pid $(cat "$PIDS/$svc.pid"))"
        return 0
    fi
    [ -x "$exe" ] || die "$exe not found: run make first"
    port=$(addr "$svc")
    port=${port##*:}
    port_open "$port" && die "$svc: port $port is already taken (by another service or checkout?)"
    printf '{"level":"info","service":"services.sh","msg":"start %s","ts":"%s"}\n' \
        "$svc" "$(date -Is)" >>"$LOGS/$svc.log"
    (cd "$VIGIL_REPO" && spawn "$PIDS/$svc.pid" "$LOGS/$svc.log" "$exe")
    STARTED+=("$svc")
}

wait_ready() {
    local svc=$1 t0=$2 pid
    pid=$(cat "$PIDS/$svc.pid")
    while ! ready "$svc"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 40 "$LOGS/$svc.log" >&2 || true
            rm -f "$PIDS/$svc.pid"
            die "$svc exited during start-up (log: $LOGS/$svc.log)"
        fi
        if [ "$(awk -v a="$t0" -v b="$(now_s)" -v t="$READY_TIMEOUT" 'BEGIN { print (b - a > t) }')" = 1 ]; then
            tail -n 40 "$LOGS/$svc.log" >&2 || true
            die "$svc not ready on $(url "$svc")/readyz after ${READY_TIMEOUT}s (log: $LOGS/$svc.log)"
        fi
        sleep 0.2
    done
    log "$svc: ready on $(url "$svc") (pid $pid)"
}

start() {
    local svc t0
    t0=$(now_s)
    mkdir -p "$LOGS" "$PIDS"
    STARTED=()
    for svc in "$@"; do start_one "$svc"; done
    for svc in "${STARTED[@]}"; do wait_ready "$svc" "$t0"; done
    [ ${#STARTED[@]} -eq 0 ] || log "started ${STARTED[*]} in $(elapsed "$t0")s"
}

stop() {
    local svc pid i
    local -a pids=()
    # SIGTERM to all first so they drain in parallel, then wait
    for svc in "$@"; do
        if running "$svc"; then
            pid=$(cat "$PIDS/$svc.pid")
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$svc:$pid")
        else
            rm -f "$PIDS/$svc.pid"
        fi
    done
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        local alive=0 p
        for p in "${pids[@]}"; do kill -0 "${p#*:}" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for p in "${pids[@]}"; do
        svc=${p%%:*}
        pid=${p#*:}
        if kill -0 "$pid" 2>/dev/null; then
            log "$svc: still running after ${STOP_TIMEOUT}s, SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        else
            log "$svc: stopped"
        fi
        rm -f "$PIDS/$svc.pid"
    done
}

status() {
    local svc rc=0
    for svc in "$@"; do
        if running "$svc"; then
            if ready "$svc"; then
                echo "$svc: ready on $(url "$svc") (pid $(cat "$PIDS/$svc.pid"))"
            else
                echo "$svc: running, NOT ready on $(url "$svc")/readyz (pid $(cat "$PIDS/$svc.pid"))"
                rc=1
            fi
        else
            echo "$svc: stopped"
            rc=1
        fi
    done
    return $rc
}

cmd=${1:-}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- "${ALL[@]}"
check_names "$@"
case "$cmd" in
start) start "$@" ;;
stop) stop "$@" ;;
status) status "$@" ;;
restart)
    stop "$@"
    start "$@"
    ;;
*)
    echo "usage: $0 start|stop|status|restart [${ALL[*]}]" >&2
    exit 2
    ;;
esac
