"""Ingest edge: POST /v1/traces and POST /v1/scans against the real PostgreSQL and Kafka.

What a 202 reports as accepted must be exactly what reaches vigil.traces (compared record by
record), bad records are rejected one by one, gzip works, tokens are checked (unknown, revoked
within seconds, beyond the free plan), bodies are bounded (413), scanner reports must really be
the tool's format, the per-cluster rate limit answers 429 with Retry-After, and with Kafka
stopped the answer is 503 and nothing of that request appears in vigil.traces. The Kafka test
stops the shared broker: it stays LAST in this module and starts the broker again.
"""
import gzip
import hashlib
import json
import secrets
import subprocess
import time
import uuid

import pytest

from conftest import DEV, REPO, wait_until

FIX = REPO / "tests" / "fixtures"
ISTIO = [json.loads(line) for line in (FIX / "traces" / "istio.ndjson").read_text().splitlines()]
APICLARITY = json.loads((FIX / "traces" / "apiclarity.json").read_text())


def new_token():
    return "vgi_" + secrets.token_urlsafe(32)


def add_cluster(env, tenant, name, token, created="now()"):
    digest = hashlib.sha256(token.encode()).hexdigest()
    return env.psql_value(
        "INSERT INTO clusters (tenant_id, name, server, ca_cert, credential, key_id, "
        f"ingest_token_prefix, ingest_token_hash, created_at) VALUES (%s, %s, "
        f"'https://127.0.0.1:1', 'x', 'x', 'x', %s, %s, {created}) RETURNING id",
        (tenant, name, token[:12], digest))


@pytest.fixture(scope="module")
def edge(env, start_service):
    ingest = start_service("ingest", {"VIGIL_COLLECT_ENABLED": "0",
                                      "VIGIL_INGEST_MAX_BODY": str(1024 * 1024),
                                      "VIGIL_INGEST_ACK_TIMEOUT_MS": "3000",
                                      "VIGIL_INGEST_BATCH_RECORDS": "3"})
    tenant = env.psql_value("INSERT INTO tenants (name) VALUES ('edge co') RETURNING id")
    token = new_token()
    cluster = add_cluster(env, tenant, "prod", token)
    return {"ingest": ingest, "tenant": tenant, "cluster": cluster, "token": token}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def traced_records(env, cluster, want, timeout=15):
    """Every record of the cluster's trace.batch messages, in order."""
    def collect():
        msgs = env.consume("vigil.traces", 1, 0.5, key=cluster)
        recs = [r for m in msgs for r in m["value"]["data"]["records"]]
        return recs if len(recs) >= want else None
    try:
        return wait_until(collect, timeout)
    except AssertionError:
        msgs = env.consume("vigil.traces", 1, 0.5, key=cluster)
        return [r for m in msgs for r in m["value"]["data"]["records"]]


def test_mixed_good_and_bad_records_in_both_formats(env, edge):
    bad_envoy = {"bytes_sent": 10, "method": "GET", "path": "/x"}      # nothing identifies it
    bad_time = dict(ISTIO[0], start_time="yesterday")
    bad_apiclarity = {"requestID": "r1", "request": {"method": "GET", "path": "/a"}}  # no response
    body = [ISTIO[0], bad_envoy, APICLARITY[0], 42, ISTIO[2], bad_time, bad_apiclarity,
            ISTIO[3], APICLARITY[1], ISTIO[1]]
    r = edge["ingest"].post("/v1/traces", json=body, headers=auth(edge["token"]))
    assert r.status_code == 202, r.text
    out = r.json()
    assert out["accepted"] == 6 and out["rejected"] == 4
    assert [e["index"] for e in out["errors"]] == [1, 3, 5, 6]
    msgs = {e["index"]: e["message"] for e in out["errors"]}
    assert "start_time" in msgs[5] and "response" in msgs[6] and "object" in msgs[3]
    good = [ISTIO[0], APICLARITY[0], ISTIO[2], ISTIO[3], APICLARITY[1], ISTIO[1]]
    formats = ["envoy", "apiclarity", "envoy", "envoy", "apiclarity", "envoy"]
    recs = traced_records(env, edge["cluster"], 6)
    assert [r["record"] for r in recs] == good
    assert [r["format"] for r in recs] == formats
    batches = env.consume("vigil.traces", 1, 1, key=edge["cluster"])
    assert all(m["value"]["type"] == "trace.batch" and
               m["value"]["tenant_id"] == edge["tenant"] and
               m["value"]["cluster_id"] == edge["cluster"] and
               len(m["value"]["data"]["records"]) <= 3 for m in batches)


def test_gzip_ndjson(env, edge):
    before = len(traced_records(env, edge["cluster"], 0, 1))
    lines = [json.dumps(ISTIO[1]), "{not json", json.dumps(APICLARITY[1]), ""]
    body = gzip.compress("\n".join(lines).encode())
    r = edge["ingest"].post("/v1/traces", data=body, headers={
        **auth(edge["token"]), "Content-Encoding": "gzip",
        "Content-Type": "application/x-ndjson"})
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 2 and r.json()["rejected"] == 1
    assert r.json()["errors"][0]["index"] == 1
    recs = traced_records(env, edge["cluster"], before + 2)
    assert [x["record"] for x in recs[before:]] == [ISTIO[1], APICLARITY[1]]
    r = edge["ingest"].post("/v1/traces", data=b"\x1f\x8bnot gzip",
                            headers={**auth(edge["token"]), "Content-Encoding": "gzip"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_encoding"
    r = edge["ingest"].post("/v1/traces", data=body,
                            headers={**auth(edge["token"]), "Content-Encoding": "br"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_encoding"
    r = edge["ingest"].post("/v1/traces", data=b"[{\"authority\": \"h\"}, {",
                            headers=auth(edge["token"]))
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_body"


def test_wrong_and_missing_token(edge):
    r = edge["ingest"].post("/v1/traces", json=[ISTIO[0]], headers=auth(new_token()))
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = edge["ingest"].post("/v1/traces", json=[ISTIO[0]])
    assert r.status_code == 401 and "Bearer" in r.headers.get("WWW-Authenticate", "")


def test_revoked_token_rejected_within_seconds(env, edge):
    tenant = edge["tenant"]
    token = new_token()
    cluster = add_cluster(env, tenant, "revoked", token)
    ingest = edge["ingest"]
    assert ingest.post("/v1/traces", json=[ISTIO[0]], headers=auth(token)).status_code == 202
    env.psql("UPDATE clusters SET ingest_token_hash = %s WHERE id = %s",
             (hashlib.sha256(b"rotated").hexdigest(), cluster))
    t0 = time.monotonic()
    wait_until(lambda: ingest.post("/v1/traces", json=[ISTIO[0]],
                                   headers=auth(token)).status_code == 401, 10, 0.25)
    assert time.monotonic() - t0 < 7
    token2 = new_token()
    cluster2 = add_cluster(env, tenant, "deleted", token2)
    assert ingest.post("/v1/traces", json=[ISTIO[0]], headers=auth(token2)).status_code == 202
    env.psql("DELETE FROM clusters WHERE id = %s", (cluster2,))
    wait_until(lambda: ingest.post("/v1/traces", json=[ISTIO[0]],
                                   headers=auth(token2)).status_code == 401, 10, 0.25)


def test_oversized_bodies_get_413(edge):
    big = b"[" + b",".join([json.dumps(ISTIO[0]).encode()] * 1400) + b"]"
    assert len(big) > 1024 * 1024
    r = edge["ingest"].post("/v1/traces", data=big, headers=auth(edge["token"]))
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    bomb = gzip.compress(b" " * (3 * 1024 * 1024))
    assert len(bomb) < 64 * 1024
    r = edge["ingest"].post("/v1/traces", data=bomb,
                            headers={**auth(edge["token"]), "Content-Encoding": "gzip"})
    assert r.status_code == 413 and "decompressed" in r.json()["error"]["message"]


def test_free_plan_cluster_limit_gets_402(env, edge):
    tenant = env.psql_value("INSERT INTO tenants (name) VALUES ('small co') RETURNING id")
    tokens = [new_token() for _ in range(4)]
    for i, tok in enumerate(tokens):
        add_cluster(env, tenant, f"c{i}", tok, f"now() - interval '{10 - i} minutes'")
    ingest = edge["ingest"]
    for tok in tokens[:3]:
        assert ingest.post("/v1/traces", json=[ISTIO[0]], headers=auth(tok)).status_code == 202
    r = ingest.post("/v1/traces", json=[ISTIO[0]], headers=auth(tokens[3]))
    assert r.status_code == 402 and r.json()["error"]["code"] == "plan_limit"


@pytest.mark.parametrize("tool,fixture", [("kube-bench", "kube-bench.json"),
                                          ("kube-hunter", "kube-hunter.json"),
                                          ("kubeaudit", "kubeaudit.jsonl"),
                                          ("trivy", "trivy.json")])
def test_scan_reports_published(env, edge, tool, fixture):
    body = (FIX / "scans" / fixture).read_bytes()
    r = edge["ingest"].post(f"/v1/scans?tool={tool}", data=body, headers=auth(edge["token"]))
    assert r.status_code == 202, r.text
    msgs = env.consume("vigil.scans", 1, 15, key=edge["cluster"],
                       match=lambda m: m["value"]["data"]["tool"] == tool)
    assert len(msgs) == 1
    report = msgs[0]["value"]["data"]["report"]
    if tool == "kubeaudit":
        assert report == [json.loads(x) for x in body.decode().splitlines()]
    else:
        assert report == json.loads(body)


def test_scan_reports_of_the_wrong_shape_get_400(edge):
    ingest, hdr = edge["ingest"], auth(edge["token"])
    hunter = (FIX / "scans" / "kube-hunter.json").read_bytes()
    r = ingest.post("/v1/scans?tool=kube-bench", data=hunter, headers=hdr)
    assert r.status_code == 400 and "Controls" in r.json()["error"]["message"]
    r = ingest.post("/v1/scans?tool=kubeaudit", data=b'{"level":"error"}\n', headers=hdr)
    assert r.status_code == 400 and "AuditResultName" in r.json()["error"]["message"]
    r = ingest.post("/v1/scans?tool=trivy", data=b'{"ClusterName":"x"}', headers=hdr)
    assert r.status_code == 400 and "Resources" in r.json()["error"]["message"]
    r = ingest.post("/v1/scans?tool=nmap", data=hunter, headers=hdr)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_tool"


def test_rate_limit_429_with_retry_after(env, start_service):
    ingest = start_service("ingest", {"VIGIL_COLLECT_ENABLED": "0", "VIGIL_INGEST_RATE": "1",
                                      "VIGIL_INGEST_BURST": "2"})
    tenant = env.psql_value("INSERT INTO tenants (name, plan) VALUES ('busy co', 'pro') "
                            "RETURNING id")
    token = new_token()
    add_cluster(env, tenant, "busy", token)
    codes = [ingest.post("/v1/traces", json=[ISTIO[0]], headers=auth(token)) for _ in range(3)]
    assert [c.status_code for c in codes[:2]] == [202, 202]
    assert codes[2].status_code == 429
    assert int(codes[2].headers["Retry-After"]) >= 1
    ingest.stop()


def test_zz_kafka_stopped_gives_503_and_nothing_half_accepted(env, edge):
    """LAST: stops the shared broker for a few seconds, then starts it again."""
    marker = f"/stopped-{uuid.uuid4()}"
    rec = dict(ISTIO[0], path=marker)
    subprocess.run([str(DEV / "kafka.sh"), "stop"], check=True, capture_output=True, timeout=90)
    try:
        t0 = time.monotonic()
        r = edge["ingest"].post("/v1/traces", json=[rec, rec, rec, rec],
                                headers=auth(edge["token"]), timeout=30)
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "kafka_unavailable"
        assert time.monotonic() - t0 < 20
    finally:
        subprocess.run([str(DEV / "kafka.sh"), "start"], check=True, capture_output=True,
                       timeout=120)
    ok = dict(ISTIO[0], path=marker + "/after")
    r = wait_until(lambda: (lambda x: x if x.status_code == 202 else None)(
        edge["ingest"].post("/v1/traces", json=[ok], headers=auth(edge["token"]), timeout=30)),
        60, 1)
    assert r.json()["accepted"] == 1
    recs = traced_records(env, edge["cluster"], 10**6, 3)
    paths = [x["record"].get("path") for x in recs]
    assert marker + "/after" in paths
    assert marker not in paths
