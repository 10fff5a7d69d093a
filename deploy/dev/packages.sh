#!/usr/bin/env bash
# Installs what building and testing Vigil needs on Debian 12, and does nothing when it is all
# there already (no apt-get update then). Also installs playwright-core for the browser tests
# into tests/browser/node_modules from its package-lock.json.
#
#   deploy/dev/packages.sh           install what is missing (root; non-interactive)
#   deploy/dev/packages.sh --check   only list what is missing; exit 1 when something is
set -euo pipefail
SCRIPT=packages
# shellcheck source=deploy/dev/lib.sh
. "$(dirname "$0")/lib.sh"

PACKAGES=(
    # build: C toolchain and the libraries of the services (pkg-config names in the Makefile)
    build-essential pkg-config libpq-dev librdkafka-dev libjansson-dev libevent-dev libssl-dev
    libcurl4-openssl-dev zlib1g-dev
    # fuzzing, sanitizers and formatting
    clang clang-format libclang-rt-14-dev
    # the real components of the tests: PostgreSQL, Kafka client CLI, SMTP sink (postfix)
    postgresql kcat postfix
    # the scripts and the pytest harness
    curl jq openssl ca-certificates python3 python3-pytest python3-yaml python3-requests python3-cryptography
    # benchmarks
    wrk hyperfine
    # browser tests (driven by playwright-core from npm)
    chromium
)
# usually on the machine already (not always from apt): only installed when the command is missing
command -v java >/dev/null 2>&1 || PACKAGES+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || PACKAGES+=(maven)
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing_packages() {
    local p
    for p in "${PACKAGES[@]}"; do
        [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
            printf '%s\n' "$p"
    done
}

install_apt() {
    local missing t0
    mapfile -t missing < <(missing_packages)
    if [ ${#missing[@]} -eq 0 ]; then
        log "all ${#PACKAGES[@]} Debian packages present"
        return 0
    fi
    is_root || die "missing Debian packages (run as root): ${missing[*]}"
    t0=$(now_s)
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # postfix is only here for smtp-sink: no mail system configuration, no questions
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "postfix postfix/mailname string localhost" | debconf-set-selections
    apt-get update -q </dev/null
    apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" </dev/null
    mapfile -t missing < <(missing_packages)
    [ ${#missing[@]} -eq 0 ] || die "still missing after apt-get install: ${missing[*]}"
    log "Debian packages installed in $(elapsed "$t0")s"
}

# playwright-core (no browser download: the tests use /usr/bin/chromium)
install_npm() {
    local dir=$VIGIL_REPO/tests/browser
    [ -f "$dir/package.json" ] || return 0
    need_cmd npm
    if [ -f "$dir/node_modules/.package-lock.json" ] && [ -f "$dir/package-lock.json" ] &&
        [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ] &&
        [ ! "$dir/package.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        log "tests/browser node modules up to date"
        return 0
    fi
    export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
    if [ -f "$dir/package-lock.json" ]; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
    else
        (cd "$dir" && npm install --no-audit --no-fund --loglevel=error </dev/null)
    fi
    log "tests/browser node modules installed"
}

case "${1:-}" in
--check)
    mapfile -t missing < <(missing_packages)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "missing: ${missing[*]}"
        exit 1
    fi
    echo "all ${#PACKAGES[@]} Debian packages present"
    ;;
"")
    install_apt
    install_npm
    ;;
*)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
