#!/usr/bin/env bash
# SMTP sink of the dev stack: postfix's smtp-sink on 127.0.0.1:$VIGIL_DEV_SMTP_PORT (2525)
# accepting every mail and dumping each one, as received with the envelope in X-Mail-Args /
# X-Rcpt-Args headers, into .run/smtp/<YYYYmmddHHMMSS>.<hex>. Nothing is ever delivered.
#
#   deploy/dev/smtp.sh start|stop|status
#   deploy/dev/smtp.sh dir      print the dump folder
set -euo pipefail
SCRIPT=smtp
# shellcheck source=deploy/dev/lib.sh
. "$(dirname "$0")/lib.sh"

SINK=/usr/sbin/smtp-sink
PIDFILE=$RUN/smtp-sink.pid

answers() {
    local banner
    banner=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT; head -c 3 <&3" 2>/dev/null) &&
        [ "$banner" = 220 ]
}

start() {
    local i user_opt=()
    [ -x "$SINK" ] || die "$SINK not found: install postfix (deploy/dev/packages.sh)"
    if pid_alive "$PIDFILE" smtp-sink; then
        log "already running on 127.0.0.1:$SMTP_PORT (mails in $DIR)"
        return 0
    fi
    if port_open "$SMTP_PORT"; then
        answers || die "port $SMTP_PORT is taken by something that is not an SMTP server"
        log "an SMTP server not started from $VIGIL_REPO answers on 127.0.0.1:$SMTP_PORT: using it"
        return 0
    fi
    # as root smtp-sink must drop to an unprivileged user, who then writes the dumps
    is_root && user_opt=(-u postfix)
    spawn "$PIDFILE" "$RUN/smtp-sink.log" "$SINK" "${user_opt[@]}" -d "$DIR/%Y%m%d%H%M%S." \
        "127.0.0.1:$SMTP_PORT" 100
    for ((i = 0; i < 50; i++)); do
        answers && break
        pid_alive "$PIDFILE" || break
        sleep 0.1
    done
    if ! answers; then
        tail -n 20 "$RUN/smtp-sink.log" >&2 || true
        die "smtp-sink did not answer on 127.0.0.1:$SMTP_PORT"
    fi
    log "started on 127.0.0.1:$SMTP_PORT (mails in $DIR)"
}

status() {
    if pid_alive "$PIDFILE" smtp-sink && answers; then
        echo "smtp: running on 127.0.0.1:$SMTP_PORT (mails in $DIR)"
    elif answers; then
        echo "smtp: 127.0.0.1:$SMTP_PORT answers (not started from this checkout)"
    else
        echo "smtp: stopped"
        return 1
    fi
}

DIR=$(user_dir smtp postfix)
case "${1:-}" in
start) start ;;
stop) stop_pid "$PIDFILE" smtp-sink 5 smtp-sink ;;
status) status ;;
dir) printf '%s\n' "$DIR" ;;
*)
    echo "usage: $0 start|stop|status|dir" >&2
    exit 2
    ;;
esac
