# shellcheck shell=bash
# Helpers shared by the deploy/dev scripts. Sourced, never run; sets nothing in the caller's
# shell options. Everything lives under $VIGIL_REPO/.run (gitignored).
#
# Ports and folders can be moved with environment variables (defaults are the dev stack's):
#   VIGIL_DEV_PG_PORT (55432)  VIGIL_DEV_KAFKA_PORT (9092)  VIGIL_DEV_KAFKA_CONTROLLER_PORT (9093)
#   VIGIL_DEV_SMTP_PORT (2525) VIGIL_RUN_DIR ($VIGIL_REPO/.run)

# shellcheck disable=SC2034 # the settings below are read by the scripts that source this
VIGIL_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
RUN=${VIGIL_RUN_DIR:-$VIGIL_REPO/.run}
PG_PORT=${VIGIL_DEV_PG_PORT:-55432}
KAFKA_PORT=${VIGIL_DEV_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${VIGIL_DEV_KAFKA_CONTROLLER_PORT:-9093}
SMTP_PORT=${VIGIL_DEV_SMTP_PORT:-2525}
SCRIPT=${SCRIPT:-$(basename "$0" .sh)}

log() { printf '[%s] %s\n' "$SCRIPT" "$*" >&2; }
die() {
    printf '[%s] ERROR: %s\n' "$SCRIPT" "$*" >&2
    exit 1
}

# now_s: seconds since the epoch with milliseconds, for timings
now_s() { date +%s.%N | cut -c1-14; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive PIDFILE [PATTERN]: true when the file names a live process (whose command line
# contains PATTERN, when given: guards against a stale file naming a reused pid)
pid_alive() {
    local pid
    [ -f "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    [ -z "${2:-}" ] || tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# stop_pid PIDFILE NAME [TIMEOUT_S] [PATTERN]: SIGTERM, wait, SIGKILL after the timeout; removes the file
stop_pid() {
    local file=$1 name=$2 timeout=${3:-30} pattern=${4:-} pid i
    if ! pid_alive "$file" "$pattern"; then
        rm -f "$file"
        log "$name: not running"
        return 0
    fi
    pid=$(cat "$file")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name: still running after ${timeout}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    rm -f "$file"
    log "$name: stopped (pid $pid)"
}

# spawn PIDFILE LOGFILE CMD...: starts CMD in its own session, stdin from /dev/null and
# stdout+stderr appended to LOGFILE, so it outlives the caller (make, CI) without holding its
# terminal or pipes open. The process writes its own pid to PIDFILE before exec, so the pid is
# right whatever job control the caller has. Returns once PIDFILE is written.
spawn() {
    local pidfile=$1 logfile=$2 i
    shift 2
    rm -f "$pidfile"
    # shellcheck disable=SC2016
    setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidfile" "$@" \
        </dev/null >>"$logfile" 2>&1 &
    for ((i = 0; i < 100; i++)); do
        [ -s "$pidfile" ] && return 0
        sleep 0.05
    done
    die "could not start $1 (no pid written to $pidfile)"
}

# is_root: true when running as root (then daemons that refuse root run as their own user)
is_root() { [ "$(id -u)" = 0 ]; }

# as_user USER CMD...: runs CMD as USER when root, as ourselves otherwise. From / : USER may
# not be allowed into the caller's folder (paths given to CMD must be absolute).
as_user() {
    local user=$1
    shift
    if is_root; then
        (cd / && runuser -u "$user" -- "$@")
    else
        "$@"
    fi
}

# user_dir NAME USER: prints a folder for NAME that USER owns and can reach. That is
# $RUN/NAME when USER can traverse every parent of $RUN (and the path is short enough for a
# unix socket), else a folder under /tmp keyed by the checkout, with $RUN/NAME a symlink to it.
# A clone under /root (mode 700) is the usual reason for the fallback.
user_dir() {
    local name=$1 user=$2 dir key
    mkdir -p "$RUN"
    if [ -L "$RUN/$name" ]; then
        dir=$(readlink "$RUN/$name")
    elif [ -d "$RUN/$name" ]; then
        dir=$RUN/$name
    else
        dir=$RUN/$name
        if is_root && { ! runuser -u "$user" -- test -x "$RUN" || [ ${#dir} -gt 80 ]; }; then
            key=$(printf '%s' "$RUN" | cksum | cut -d' ' -f1)
            dir=/tmp/vigil-$name-$key
            ln -sfn "$dir" "$RUN/$name"
            log "$user cannot reach $RUN (or the path is too long): using $dir"
        fi
    fi
    mkdir -p "$dir"
    if is_root; then
        chown "$user:" "$dir"
        chmod 755 "$dir"
    fi
    printf '%s\n' "$dir"
}

# pg_bin: folder of the newest installed PostgreSQL server binaries
pg_bin() {
    local d
    d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
    if [ ! -x "$d/initdb" ]; then
        die "PostgreSQL server not installed (run deploy/dev/packages.sh)"
    fi
    printf '%s\n' "$d"
}

need_cmd() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found: run deploy/dev/packages.sh${2:+ ($2)}"
}
