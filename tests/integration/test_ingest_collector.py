"""Ingest collector against the stand-in Kubernetes API and the real broker.

One cluster (fixtures tests/fixtures/clusters/basic/) whose token is sealed like the portal
seals it. The pods listing is paged by 3 (7 pods: three pages) and its second page answers
410 Gone once, so the listing restarts; six Istio CRDs are absent. The published snapshot must
be exactly the fixture objects, ConfigMap values must not leave the cluster, and a revoked
token must turn into status "unauthorized" and a VGL-COL-002 finding.
"""
import json
import os
import subprocess
import tempfile
import time
import uuid
from datetime import datetime, timezone

import pytest

from conftest import BIN_DIR, REPO, wait_until
from kubeapi import SCOPED_TOKEN, KubeApi

DATA = REPO / "tests" / "fixtures" / "clusters" / "basic"
ISTIO_ABSENT = {"requestauthentications", "virtualservices", "destinationrules", "gateways",
                "serviceentries", "sidecars"}


def fixture_items(resource):
    path = DATA / f"{resource}.json"
    if not path.exists():
        return []
    with open(path) as f:
        return json.load(f)["items"]


def seal(key_b64, aad, plaintext):
    out = subprocess.run([str(BIN_DIR / "fixture-ingestseal"), key_b64, aad, plaintext],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def now_rfc3339():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.fixture(scope="module")
def world(env, start_service):
    workdir = tempfile.mkdtemp(prefix="vigil-kubeapi-")
    api = KubeApi(str(DATA), workdir)
    api.control("expire", resource="pods", times=1)
    ingest = start_service("ingest", {"VIGIL_COLLECT_PAGE_SIZE": "3",
                                      "VIGIL_COLLECT_INTERVAL": "3600"})
    tenant = env.psql_value("INSERT INTO tenants (name) VALUES ('collector co') RETURNING id")
    cluster = str(uuid.uuid4())
    sealed = seal(env.vars["VIGIL_MASTER_KEY"], f"{tenant}/{cluster}", SCOPED_TOKEN)
    env.psql("INSERT INTO clusters (id, tenant_id, name, server, ca_cert, credential, key_id, "
             "ingest_token_prefix, ingest_token_hash) VALUES (%s, %s, 'prod', %s, %s, %s, %s, "
             "'vgi_col', %s)",
             (cluster, tenant, api.url, api.ca_pem, sealed, sealed.split(":")[1],
              "0" * 64))
    yield {"api": api, "ingest": ingest, "tenant": tenant, "cluster": cluster}
    api.stop()


def snapshot_messages(env, cluster, timeout=60):
    done = env.consume("vigil.inventory", 1, timeout, key=cluster,
                       match=lambda m: (m["value"] or {}).get("type") == "snapshot.complete")
    assert done, "no snapshot.complete published"
    complete = done[0]["value"]
    sid = complete["data"]["snapshot_id"]
    chunks = [m["value"] for m in env.consume(
        "vigil.inventory", complete["data"]["chunks"], 10, key=cluster,
        match=lambda m: (m["value"] or {}).get("type") == "snapshot.chunk"
        and m["value"]["data"]["snapshot_id"] == sid)]
    return complete, chunks


def test_snapshot_is_complete_and_exact(env, world):
    complete, chunks = snapshot_messages(env, world["cluster"])
    data = complete["data"]
    assert complete["tenant_id"] == world["tenant"]
    assert complete["cluster_id"] == world["cluster"]
    assert data["chunks"] == len(chunks)
    assert sorted(c["data"]["seq"] for c in chunks) == list(range(len(chunks)))
    assert set(data["absent"]) == ISTIO_ABSENT
    got = {}
    for c in chunks:
        got.setdefault(c["data"]["resource"], []).extend(c["data"]["items"])
    for resource, count in data["counts"].items():
        want = fixture_items(resource)
        assert count == len(want), resource
        assert sorted(o["metadata"]["uid"] for o in got.get(resource, [])) == \
            sorted(o["metadata"]["uid"] for o in want), resource
    assert data["counts"]["pods"] == 7
    assert "secrets" not in data["counts"]
    for pod in got["pods"]:
        assert pod["kind"] == "Pod" and pod["apiVersion"] == "v1"
    # the pods listing: page 1, page 2 -> 410, then pages 1..3 again
    paths = [r["path"] for r in world["api"].requests()]
    pod_calls = [p for p in paths if p.startswith("/api/v1/pods")]
    assert len(pod_calls) == 5, pod_calls
    assert not any("secrets" in p for p in paths)


def test_configmap_values_never_leave_the_cluster(env, world):
    complete, chunks = snapshot_messages(env, world["cluster"])
    text = json.dumps(chunks)
    assert "hunter2-fixture-value" not in text
    maps = [o for c in chunks if c["data"]["resource"] == "configmaps" for o in c["data"]["items"]]
    by_name = {m["metadata"]["name"]: m for m in maps}
    assert by_name["cart-config"]["data"] == {"DB_HOST": "", "DB_PASSWORD": "", "LOG_LEVEL": ""}
    assert by_name["blob"]["binaryData"] == {"logo.png": ""}
    assert "kubectl.kubernetes.io/last-applied-configuration" not in \
        by_name["cart-config"]["metadata"].get("annotations", {})


def test_status_ok_and_scope_published(env, world):
    wait_until(lambda: env.psql_value("SELECT status FROM clusters WHERE id = %s",
                                      (world["cluster"],)) == "ok", 30)
    assert env.psql_value("SELECT last_sync_at IS NOT NULL FROM clusters WHERE id = %s",
                          (world["cluster"],)) == "t"
    scopes = env.consume("vigil.findings", 1, 10, key=world["cluster"],
                         match=lambda m: (m["value"] or {}).get("type") == "finding.scope")
    assert scopes and scopes[0]["value"]["data"] == {"scope": "collector", "fingerprints": []}


def test_revoked_token_becomes_status_and_finding(env, world):
    world["api"].control("revoke", token=SCOPED_TOKEN)
    env.produce("vigil.commands", {"v": 1, "id": str(uuid.uuid4()), "type": "cluster.sync",
                                   "tenant_id": world["tenant"], "cluster_id": world["cluster"],
                                   "ts": now_rfc3339(), "data": {}}, key=world["cluster"])
    wait_until(lambda: env.psql_value("SELECT status FROM clusters WHERE id = %s",
                                      (world["cluster"],)) == "unauthorized", 45,
               message="cluster status unauthorized")
    msg = env.psql_value("SELECT status_message FROM clusters WHERE id = %s",
                         (world["cluster"],))
    assert "401" in msg and SCOPED_TOKEN not in msg
    found = env.consume("vigil.findings", 1, 20, key=world["cluster"],
                        match=lambda m: (m["value"] or {}).get("type") == "finding.observed")
    assert found, "no finding.observed"
    data = found[0]["value"]["data"]
    assert data["rule_id"] == "VGL-COL-002" and data["source"] == "collector"
    assert data["severity"] == "high" and data["object"]["uid"] == world["cluster"]
    assert SCOPED_TOKEN not in world["ingest"].log_text()


def test_lease_held_by_another_replica_is_respected(env, world):
    """A live lease of another holder: no sync; once it expires, the next command syncs."""
    cluster, api, ingest = world["cluster"], world["api"], world["ingest"]
    wait_until(lambda: env.psql_value("SELECT expires_at <= now() FROM cluster_leases "
                                      "WHERE cluster_id = %s", (cluster,)) == "t", 30)
    env.psql("UPDATE cluster_leases SET holder = 'other-replica:1:abcd/scheduler', "
             "expires_at = now() + interval '1 hour' WHERE cluster_id = %s", (cluster,))
    before = len(api.requests())
    received = sum("cluster.sync received" in r.get("msg", "") for r in ingest.log_records())

    def command():
        env.produce("vigil.commands", {"v": 1, "id": str(uuid.uuid4()), "type": "cluster.sync",
                                       "tenant_id": world["tenant"], "cluster_id": cluster,
                                       "ts": now_rfc3339(), "data": {}}, key=cluster)

    command()
    wait_until(lambda: sum("cluster.sync received" in r.get("msg", "")
                           for r in ingest.log_records()) > received, 30)
    time.sleep(1.5)
    assert len(api.requests()) == before, "synced although another replica holds the lease"
    env.psql("UPDATE cluster_leases SET expires_at = now() - interval '1 second' "
             "WHERE cluster_id = %s", (cluster,))
    command()
    wait_until(lambda: len(api.requests()) > before, 30, message="sync after the lease expired")
    wait_until(lambda: env.psql_value("SELECT holder FROM cluster_leases WHERE cluster_id = %s",
                                      (cluster,)).endswith("/commands"), 30)


def test_cluster_beyond_free_plan_is_not_collected(env, world):
    """A free tenant's 4th cluster (VIGIL_FREE_CLUSTERS=3, creation order) is left alone."""
    tenant = env.psql_value("INSERT INTO tenants (name) VALUES ('free co') RETURNING id")
    ids = [str(uuid.uuid4()) for _ in range(4)]
    for i, cid in enumerate(ids):
        sealed = seal(env.vars["VIGIL_MASTER_KEY"], f"{tenant}/{cid}", SCOPED_TOKEN)
        server = world["api"].url if i == 3 else "https://127.0.0.1:1"
        env.psql("INSERT INTO clusters (id, tenant_id, name, server, ca_cert, credential, key_id, "
                 "ingest_token_prefix, ingest_token_hash, created_at) VALUES (%s, %s, %s, %s, %s, "
                 "%s, %s, 'vgi_free', %s, now() - make_interval(mins => %s))",
                 (cid, tenant, f"c{i}", server, world["api"].ca_pem, sealed, sealed.split(":")[1],
                  uuid.uuid4().hex * 2, 10 - i))
    wait_until(lambda: all(env.psql_value("SELECT status FROM clusters WHERE id = %s", (c,))
                           == "unreachable" for c in ids[:3]), 30,
               message="the three covered clusters were attempted")
    wait_until(lambda: env.psql_value("SELECT next_attempt_at > now() + interval '30 minutes' "
                                      "FROM cluster_leases WHERE cluster_id = %s",
                                      (ids[3],)) == "t", 15)
    assert env.psql_value("SELECT status FROM clusters WHERE id = %s", (ids[3],)) == "pending"
    assert not env.consume("vigil.inventory", 1, 1, key=ids[3])
