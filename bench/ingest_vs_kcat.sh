#!/usr/bin/env bash
# Ingest throughput beside kcat, in the same run, against the same broker.
#   bench/ingest_vs_kcat.sh [seconds=10] [conns=8] [rounds=3]
# 1. a throw-away database and topic prefix; one tenant (plan pro) and cluster with a token;
# 2. bin/vigil-ingest on a free port; bin/bench_ingest_traces posts arrays of 500 Istio
#    access-log records over keep-alive connections for `seconds`: records/s answered 202
#    (= acknowledged by Kafka, acks=all);
# 3. kcat -P produces the same records (the same 500-record body, one message per record,
#    acks=all, idempotent, lz4, like the ingest producer) straight to the same broker: records/s
#    from its wall time for as many records as the ingest run acknowledged (at least 200 000);
#    steps 2 and 3 alternate for `rounds` rounds;
# 4. writes bench/results/ingest.md (the ratio ingest/kcat) and cleans up.
# Needs the dev stack (deploy/dev/stack.sh up) and `make bin/vigil-ingest bin/bench_ingest_traces`.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-10}
CONNS=${2:-8}
ROUNDS=${3:-3}
PG_PORT=${VIGIL_DEV_PG_PORT:-55432}
BROKERS=127.0.0.1:${VIGIL_DEV_KAFKA_PORT:-9092}
PSQL=$(ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -1)
TAG=$(openssl rand -hex 4)
DB=vbench_ingest_$TAG
PREFIX=bench$TAG.
WORK=$(mktemp -d)
INGEST_PID=
cleanup() {
    [ -n "$INGEST_PID" ] && kill "$INGEST_PID" 2>/dev/null && wait "$INGEST_PID" 2>/dev/null || true
    "$PSQL" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    deploy/dev/kafka.sh delete-topics "^${PREFIX//./\\.}" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
q() { "$PSQL" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$DB" -c "$1"; }

"$PSQL" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE \"$DB\"" >/dev/null
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -i PATH="$PATH" HOME="$HOME" VIGIL_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/$DB" \
    VIGIL_KAFKA_BROKERS="$BROKERS" VIGIL_TOPIC_PREFIX="$PREFIX" VIGIL_DEV_MODE=1 \
    VIGIL_INGEST_ADDR="127.0.0.1:$PORT" VIGIL_LOG_LEVEL=warn VIGIL_COLLECT_ENABLED=0 \
    VIGIL_INGEST_RATE=100000 VIGIL_INGEST_BURST=100000 VIGIL_SQL_DIR="$PWD/sql" \
    bin/vigil-ingest >"$WORK/ingest.log" 2>&1 &
INGEST_PID=$!
for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
TOKEN=vgi_$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=' | cut -c1-43)
HASH=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
TENANT=$(q "INSERT INTO tenants (name, plan) VALUES ('bench', 'pro') RETURNING id")
q "INSERT INTO clusters (tenant_id, name, server, ca_cert, credential, key_id, ingest_token_prefix, ingest_token_hash) VALUES ('$TENANT', 'bench', 'https://127.0.0.1:1', 'x', 'x', 'x', 'vgi_bench', '$HASH')" >/dev/null

# warm-up (topic metadata, connections), then ROUNDS alternating measured runs
bin/bench_ingest_traces "127.0.0.1:$PORT" "$TOKEN" 2 2 500 >/dev/null
bin/bench_ingest_traces --body 500 | /usr/bin/python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(json.dumps(r, separators=(",", ":")))' >"$WORK/500.ndjson"
KTOPIC=${PREFIX}vigil.traces-kcat
KCAT_OPTS=(-b "$BROKERS" -t "$KTOPIC" -k bench -X acks=all -X enable.idempotence=true
           -X compression.codec=lz4 -X linger.ms=5)
kcat -P "${KCAT_OPTS[@]}" -l "$WORK/500.ndjson" 2>/dev/null   # creates the topic, warms up
ROWS=
RATIOS=
for round in $(seq 1 "$ROUNDS"); do
    INGEST_JSON=$(bin/bench_ingest_traces "127.0.0.1:$PORT" "$TOKEN" "$CONNS" "$SECONDS_RUN" 500)
    INGEST_RPS=$(echo "$INGEST_JSON" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["records_per_s"])')
    INGEST_RECORDS=$(echo "$INGEST_JSON" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])')
    # kcat: the same records, one message per record, as many as ingest acknowledged
    N=$(( INGEST_RECORDS > 200000 ? INGEST_RECORDS : 200000 ))
    REPEAT=$(( N / 500 ))
    N=$(( REPEAT * 500 ))
    for _ in $(seq 1 "$REPEAT"); do cat "$WORK/500.ndjson"; done >"$WORK/records.ndjson"
    T0=$(date +%s.%N)
    kcat -P "${KCAT_OPTS[@]}" -l "$WORK/records.ndjson"
    T1=$(date +%s.%N)
    KCAT_RPS=$(/usr/bin/python3 -c "print(round($N / ($T1 - $T0)))")
    RATIO=$(/usr/bin/python3 -c "print(f'{$INGEST_RPS / $KCAT_RPS:.2f}')")
    RATIOS="$RATIOS $RATIO"
    ROWS="$ROWS| $round | $INGEST_RPS | $KCAT_RPS ($N records) | $RATIO |
"
    echo "round $round: ingest $INGEST_RPS records/s, kcat $KCAT_RPS records/s, ratio $RATIO ($INGEST_JSON)" >&2
done
MEDIAN=$(echo $RATIOS | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
BATCH_BYTES=$(bin/bench_ingest_traces --body 500 | wc -c)

mkdir -p bench/results
cat >bench/results/ingest.md <<MD
# Ingest: POST /v1/traces beside kcat (bench/ingest_vs_kcat.sh)

Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores shared by the load generator, one
vigil-ingest process, the dev stack's single Apache Kafka broker (acks=all) and kcat: same run,
same broker, $ROUNDS alternating rounds.

- ingest: bench/bench_ingest_traces, $CONNS keep-alive connections posting JSON arrays of 500
  Istio access-log records (${BATCH_BYTES} bytes per request) for ${SECONDS_RUN} s; a record
  counts when its request was answered 202, i.e. after Kafka acknowledged its trace.batch.
- kcat: \`kcat -P -l\` producing the same records straight to the broker, one message per
  record, acks=all, idempotent, lz4, linger.ms=5 (like the ingest producer); records/s from its
  wall time for as many records as ingest acknowledged in the round.

| round | vigil-ingest records/s | kcat records/s | ingest / kcat |
| --- | --- | --- | --- |
$ROWS
**Median ratio ingest / kcat: $MEDIAN** (goal >= 0.7).

Ingest authenticates each request (cached token lookup), validates every record (a strict
single-pass scanner for plain access-log records, jansson for the rest), packs them byte for
byte into trace.batch messages of up to 500 records and answers 202 only once Kafka has
acknowledged every message of the request. kcat sends one message per record with no parsing.
The machine's cores are shared with the broker, the load generator and whatever else runs, so
single runs vary widely (for both producers); the rounds show the spread, the median is the figure.
MD
cat bench/results/ingest.md
