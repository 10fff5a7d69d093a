#!/usr/bin/env bash
# `make demo`: sets everything up on a fresh machine (deploy/dev/up.sh), then walks through
# Vigil with real requests against the running services:
#   sign up -> onboarding manifest -> connect a cluster (a stand-in Kubernetes API server that
#   serves the fixture cluster of tests/fixtures/posture over HTTPS, since no real cluster is
#   reachable here) -> snapshot, workloads and posture findings -> mesh traffic into the API
#   inventory -> a kube-bench report -> a signed webhook -> an active OWASP API test against
#   the deliberately vulnerable API of the tests -> usage and the tenant report.
# Every step checks what it shows and stops with an error when a capability does not answer.
# The stack keeps running afterwards (portal on http://127.0.0.1:8080); `make down` stops it.
set -euo pipefail
SCRIPT=demo
. "$(dirname "$0")/lib.sh"
DEV=$VIGIL_REPO/deploy/dev
FIX=$VIGIL_REPO/tests/fixtures

"$DEV/up.sh"
. "$DEV/env.sh"
PORTAL=http://$VIGIL_PORTAL_ADDR
INGEST=http://$VIGIL_INGEST_ADDR
DEMO=$RUN/demo
mkdir -p "$DEMO"
BOLD=$(printf '\033[1m')
OFF=$(printf '\033[0m')

step() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$OFF"; }
show() { printf '   %s\n' "$@"; }

# api METHOD PATH [JSON]: a portal call with the demo tenant's API key; prints the body,
# fails on a status >= 400
api() {
    local method=$1 path=$2 body=${3:-} out status
    out=$(mktemp)
    status=$(curl -sS -o "$out" -w '%{http_code}' -X "$method" "$PORTAL$path" \
        -H "Authorization: Bearer ${API_KEY:-none}" -H 'Content-Type: application/json' \
        ${body:+--data-binary "$body"}) || die "$method $path: portal unreachable"
    if [ "$status" -ge 400 ]; then
        cat "$out" >&2
        rm -f "$out"
        die "$method $path answered $status"
    fi
    cat "$out"
    rm -f "$out"
}

# wait_for DESCRIPTION TIMEOUT COMMAND...: retries COMMAND (which prints something non-empty
# and non-zero when done) every second
wait_for() {
    local what=$1 timeout=$2 i out
    shift 2
    for ((i = 0; i < timeout; i++)); do
        out=$("$@" 2>/dev/null || true)
        if [ -n "$out" ] && [ "$out" != 0 ] && [ "$out" != null ]; then
            printf '%s' "$out"
            return 0
        fi
        sleep 1
    done
    die "$what: nothing after ${timeout}s (logs in $RUN/logs/)"
}

start_standin_cluster() {
    local dir=$DEMO/cluster
    mkdir -p "$dir"
    if pid_alive "$dir/pid" server.py && [ -s "$dir/port" ]; then
        return 0
    fi
    rm -f "$dir/port"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" \
        -days 2 -subj "/CN=demo cluster CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$dir/srv.key" -out "$dir/srv.csr" \
        -subj /CN=kube-apiserver 2>/dev/null
    echo "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$dir/srv.ext"
    openssl x509 -req -in "$dir/srv.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -out "$dir/srv.pem" -days 2 -extfile "$dir/srv.ext" 2>/dev/null
    nohup /usr/bin/python3 "$FIX/kubeapi/server.py" --cert "$dir/srv.pem" --key "$dir/srv.key" \
        --tokens "$FIX/kubeapi/tokens.json" --data "$FIX/posture" --port-file "$dir/port" \
        >"$dir/server.log" 2>&1 &
    echo $! >"$dir/pid"
    wait_for "stand-in cluster" 15 cat "$dir/port" >/dev/null
}

step "1. Sign up (POST /api/v1/signup)"
EMAIL="demo+$(date +%s)@example.com"
PASSWORD="demo-password-$(openssl rand -hex 4)"
signup=$(api POST /api/v1/signup \
    "$(jq -nc --arg e "$EMAIL" --arg p "$PASSWORD" '{email:$e,password:$p,organization:"Demo Corp"}')")
API_KEY=$(jq -r .api_key <<<"$signup")
show "tenant $(jq -r .tenant_id <<<"$signup"), API key ${API_KEY:0:12}… (shown once)"

step "2. The read-only credential to apply (GET /api/v1/onboarding/manifest.yaml)"
api GET /api/v1/onboarding/manifest.yaml | grep -E '^(kind|  name):' | sed 's/^/   /'

step "3. Connect a cluster (POST /api/v1/clusters: verified with SelfSubjectRulesReview)"
start_standin_cluster
KUBE_URL="https://127.0.0.1:$(cat "$DEMO/cluster/port")"
over=$(curl -sS -X POST "$PORTAL/api/v1/clusters" -H "Authorization: Bearer $API_KEY" \
    -H 'Content-Type: application/json' -d "$(jq -nc --arg s "$KUBE_URL" \
    --rawfile ca "$DEMO/cluster/ca.pem" '{name:"too-powerful",server:$s,ca_cert:$ca,token:"cluster-admin-token"}')")
show "a cluster-admin token is refused: $(jq -r .error.message <<<"$over" | cut -c1-100)…"
cluster=$(api POST /api/v1/clusters "$(jq -nc --arg s "$KUBE_URL" \
    --rawfile ca "$DEMO/cluster/ca.pem" '{name:"demo-cluster",server:$s,ca_cert:$ca,token:"scoped-reader-token"}')")
CLUSTER_ID=$(jq -r .cluster_id <<<"$cluster")
INGEST_TOKEN=$(jq -r .ingest_token <<<"$cluster")
show "cluster $CLUSTER_ID connected with the scoped token; ingest token ${INGEST_TOKEN:0:12}…"

step "4. Snapshot, workloads and the free plan (GET /api/v1/workloads, /api/v1/usage)"
wait_for "workloads from the first snapshot" 60 \
    bash -c "curl -sf -H 'Authorization: Bearer $API_KEY' $PORTAL/api/v1/workloads | jq '.workloads | length'" \
    >/dev/null
api GET /api/v1/workloads | jq -r '.workloads[:8][] | "   \(.kind)/\(.namespace)/\(.name)  \(.status)"'
api GET /api/v1/usage | jq -r '"   plan \(.plan): \(.controlled_workloads) of \(.workload_limit) controlled workloads"'

step "5. Posture findings (GET /api/v1/findings?source=posture)"
wait_for "posture findings" 60 bash -c "curl -sf -H 'Authorization: Bearer $API_KEY' \
    '$PORTAL/api/v1/findings?source=posture' | jq '.findings | length'" >/dev/null
api GET '/api/v1/findings?source=posture&severity=critical' |
    jq -r '.findings[:6][] | "   [\(.severity)] \(.rule_id) \(.title) — \(.object.kind)/\(.object.name)"'
show "… $(api GET '/api/v1/findings?source=posture' | jq '.findings | length') posture findings on the first page"

step "6. Mesh traffic into the API inventory (POST /v1/traces on ingest)"
for f in "$FIX"/traces/*; do
    case $f in *.json | *.ndjson) ;; *) continue ;; esac
    res=$(curl -sS -X POST "$INGEST/v1/traces" -H "Authorization: Bearer $INGEST_TOKEN" \
        -H 'Content-Type: application/json' --data-binary @"$f")
    show "$(basename "$f"): $(jq -c '{accepted,rejected}' <<<"$res")"
done
wait_for "APIs learned from traffic" 60 bash -c "curl -sf -H 'Authorization: Bearer $API_KEY' \
    $PORTAL/api/v1/apis | jq '.apis | length'" >/dev/null
api GET /api/v1/apis | jq -r '.apis[:10][] | "   \(.class)\t\(.method) \(.service)\(.path_template)"'

step "7. A kube-bench report (POST /v1/scans?tool=kube-bench)"
curl -sS -X POST "$INGEST/v1/scans?tool=kube-bench" -H "Authorization: Bearer $INGEST_TOKEN" \
    -H 'Content-Type: application/json' --data-binary @"$FIX/scans/kube-bench.json" | sed 's/^/   /'
echo
wait_for "kube-bench findings" 60 bash -c "curl -sf -H 'Authorization: Bearer $API_KEY' \
    '$PORTAL/api/v1/findings?source=kube-bench' | jq '.findings | length'" >/dev/null
api GET '/api/v1/findings?source=kube-bench' | jq -r '.findings[:5][] | "   [\(.severity)] \(.rule_id) \(.title)"'

step "8. Findings by signed webhook and by email"
RX_PORT=${VIGIL_DEMO_WEBHOOK_PORT:-8098}
if ! pid_alive "$DEMO/webhookrx.pid" webhookrx.py; then
    nohup /usr/bin/python3 "$FIX/webhookrx/webhookrx.py" "$RX_PORT" >"$DEMO/webhooks.jsonl" 2>&1 &
    echo $! >"$DEMO/webhookrx.pid"
fi
wait_for "the demo webhook receiver" 15 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$RX_PORT) && echo up" >/dev/null
hook=$(api POST /api/v1/webhooks "{\"url\":\"http://127.0.0.1:$RX_PORT/vigil\"}")
show "webhook $(jq -r .id <<<"$hook") created; its signing secret is shown once: $(jq -r .secret <<<"$hook" | cut -c1-8)…"
before=$(wc -l <"$DEMO/webhooks.jsonl")
api POST "/api/v1/webhooks/$(jq -r .id <<<"$hook")/test" >/dev/null
wait_for "the test delivery" 30 bash -c "[ \$(wc -l <'$DEMO/webhooks.jsonl') -gt $before ] && echo ok" >/dev/null
tail -n 1 "$DEMO/webhooks.jsonl" | jq -r '"   received: \(.headers["x-vigil-event"] // .body.type // "event"), signature \(.headers["x-vigil-signature"] // "?" | .[0:24])…"' 2>/dev/null ||
    show "received: $(tail -n 1 "$DEMO/webhooks.jsonl" | cut -c1-120)"
api POST /api/v1/email-recipients '{"email":"secops@example.com"}' >/dev/null
show "new high and critical findings are mailed to secops@example.com; the dev SMTP sink keeps"
show "them in $("$DEV/smtp.sh" dir) ($(ls "$("$DEV/smtp.sh" dir)" | wc -l) messages so far)"

step "9. Active OWASP API Top 10 test (POST /api/v1/fuzz-jobs)"
VULN_ADDR=127.0.0.1:${VIGIL_DEMO_VULNAPI_PORT:-8099}
if ! pid_alive "$DEMO/vulnapi.pid" fixture-vulnapi; then
    VULNAPI_ADDR=$VULN_ADDR nohup "$VIGIL_REPO/bin/fixture-vulnapi" >"$DEMO/vulnapi.log" 2>&1 &
    echo $! >"$DEMO/vulnapi.pid"
fi
wait_for "the vulnerable demo API" 15 bash -c "curl -s -o /dev/null -w '%{http_code}' http://$VULN_ADDR/ | grep -v 000" >/dev/null
show "the deliberately vulnerable API of the tests listens on http://$VULN_ADDR"
spec=$(jq -c --arg u "http://$VULN_ADDR" '.servers = [{url: $u}]' "$FIX/vulnapi/openapi.json")
show "its OpenAPI spec uploaded: $(api POST "/api/v1/clusters/$CLUSTER_ID/specs" "$spec" | jq -r .spec_id)"
token_of() {
    curl -sS -X POST "http://$VULN_ADDR/api/v2/login" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$1-pass-1\"}" | jq -r .token
}
identities=$(jq -nc --arg a "Bearer $(token_of alice)" --arg b "Bearer $(token_of bob)" \
    --arg c "Bearer $(token_of admin)" '[{name:"alice",headers:{Authorization:$a}},
    {name:"bob",headers:{Authorization:$b}},{name:"admin",headers:{Authorization:$c}}]')
job=$(api POST /api/v1/fuzz-jobs "$(jq -nc --arg u "http://$VULN_ADDR" --argjson i "$identities" \
    '{base_url:$u, identities:$i, rate_limit:200}')" | jq -r .job_id)
show "job $job queued; waiting for it (the time-based checks take ~20 s)"
wait_for "the fuzz job" 180 bash -c "curl -sf -H 'Authorization: Bearer $API_KEY' \
    $PORTAL/api/v1/fuzz-jobs/$job | jq -r 'select(.status == \"done\" or .status == \"failed\") | .status'" >/dev/null
api GET "/api/v1/fuzz-jobs/$job" | jq -r '"   status \(.status), progress \(.progress | tostring)"'
wait_for "fuzzer findings" 60 bash -c "curl -sf -H 'Authorization: Bearer $API_KEY' \
    '$PORTAL/api/v1/findings?source=fuzzer&limit=100' | jq '.findings | length'" >/dev/null
api GET '/api/v1/findings?source=fuzzer&limit=100' |
    jq -r '.findings[] | "   [\(.severity)] \(.rule_id) \(.title)"' | sort -u | head -30

step "10. The tenant report (POST then GET /api/v1/report)"
api POST /api/v1/report >/dev/null
wait_for "the tenant report" 60 bash -c "curl -sf -H 'Authorization: Bearer $API_KEY' \
    $PORTAL/api/v1/report | jq -r .generated_at" >/dev/null
api GET /api/v1/report | jq -r '"   generated \(.generated_at): \(.data | tostring | .[0:160])…"'
show "self-contained HTML: $PORTAL/api/v1/report.html (from the page's Report view)"

step "11. The web page"
show "open $PORTAL/ and log in as $EMAIL / $PASSWORD"
show "API inventory, findings, topology and usage are there too; 'make down' stops everything"
