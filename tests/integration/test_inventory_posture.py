"""Inventory (issue 5) through the real broker: snapshot.chunk / snapshot.complete in,
the cluster model and workloads in PostgreSQL, finding.observed / finding.scope out.

Covers: the fixture cluster (tests/fixtures/posture/) gives the exact set of findings; a half
snapshot is never applied (and is applied once the missing chunk arrives); counts that can
never match are rejected to the DLQ; redelivery changes nothing; 30 workloads on a limit of 25
give 25 controlled / 5 uncontrolled, stable across re-snapshots, with one plan notification;
snapshots of three clusters of one tenant consumed in parallel never admit more than the limit.
"""
import hashlib
import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import wait_until

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "posture"

EXPECTED = {
    ("VGL-CM-001", "ConfigMap", "shop", "web-config", "data[DB_PASSWORD]"),
    ("VGL-CM-001", "ConfigMap", "shop", "web-config", "data[apiKey]"),
    ("VGL-MESH-001", "PeerAuthentication", "istio-system", "default", "spec.mtls.mode"),
    ("VGL-MESH-002", "Mesh", "istio-system", "mesh-wide mTLS", "spec.mtls.mode"),
    ("VGL-MESH-003", "DestinationRule", "shop", "reviews-plain", "spec.trafficPolicy.tls.mode"),
    ("VGL-MESH-004", "AuthorizationPolicy", "legacy", "allow-everything", "spec.rules[0]"),
    ("VGL-MESH-005", "Namespace", "", "shop", "authorizationpolicies"),
    ("VGL-MESH-006", "VirtualService", "shop", "web-vs", "spec.hosts[0]"),
    ("VGL-MESH-007", "Gateway", "istio-system", "public-gw", "spec.servers[0].hosts[0]"),
    ("VGL-MESH-007", "Gateway", "istio-system", "public-gw", "spec.servers[0].port.protocol"),
    ("VGL-MESH-008", "Namespace", "", "legacy", "metadata.labels[istio-injection]"),
    ("VGL-MESH-009", "Pod", "shop", "debug", "metadata.annotations[sidecar.istio.io/inject]"),
    ("VGL-NET-001", "Service", "legacy", "legacy-app", "spec.type"),
    ("VGL-NET-001", "Service", "shop", "db", "spec.type"),
    ("VGL-NET-002", "Ingress", "secure", "good", "spec.rules[0].http.paths[0].backend.service"),
    ("VGL-NET-002", "Ingress", "shop", "web", "spec.rules[0].http.paths[0].backend.service"),
    ("VGL-NET-003", "Ingress", "shop", "web", "spec.tls"),
    ("VGL-NET-004", "Service", "shop", "db", "spec.ports[0]"),
    ("VGL-NET-005", "Namespace", "", "shop", "networkpolicies"),
    ("VGL-RBAC-001", "ClusterRoleBinding", "", "alice-admin", "subjects[0]"),
    ("VGL-RBAC-002", "ClusterRole", "", "ops-wildcard", "rules[0]"),
    ("VGL-RBAC-003", "Role", "shop", "secret-reader", "rules[0]"),
    ("VGL-RBAC-004", "ClusterRole", "", "deployer", "rules[0]"),
    ("VGL-RBAC-005", "ClusterRole", "", "deployer", "rules[1]"),
    ("VGL-RBAC-005", "ClusterRole", "", "deployer", "rules[2]"),
    ("VGL-RBAC-006", "ClusterRole", "", "rbac-manager", "rules[0]"),
    ("VGL-RBAC-006", "ClusterRole", "", "rbac-manager", "rules[1]"),
    ("VGL-RBAC-007", "ClusterRoleBinding", "", "anon-view", "subjects[0]"),
}
WEB = "spec.template.spec.containers[0]."
for rule, field in [("VGL-POD-001", "securityContext.privileged"),
                    ("VGL-POD-005", "ports[0].hostPort"),
                    ("VGL-POD-008", "securityContext.capabilities.add"),
                    ("VGL-POD-009", "securityContext.capabilities.drop"),
                    ("VGL-POD-010", "securityContext.allowPrivilegeEscalation"),
                    ("VGL-POD-011", "securityContext.runAsNonRoot"),
                    ("VGL-POD-012", "securityContext.readOnlyRootFilesystem"),
                    ("VGL-POD-013", "securityContext.seccompProfile.type"),
                    ("VGL-POD-014", "resources.limits"),
                    ("VGL-POD-017", "env[0].value"),
                    ("VGL-POD-017", "env[3].value")]:
    EXPECTED.add((rule, "Deployment", "shop", "web", WEB + field))
EXPECTED |= {
    ("VGL-POD-015", "Deployment", "shop", "web", "spec.template.spec.automountServiceAccountToken"),
    ("VGL-POD-016", "Deployment", "shop", "web", "spec.template.spec.serviceAccountName"),
    ("VGL-POD-002", "DaemonSet", "shop", "agent", "spec.template.spec.hostNetwork"),
    ("VGL-POD-003", "DaemonSet", "shop", "agent", "spec.template.spec.hostPID"),
    ("VGL-POD-004", "DaemonSet", "shop", "agent", "spec.template.spec.hostIPC"),
    ("VGL-POD-006", "DaemonSet", "shop", "agent", "spec.template.spec.volumes[0].hostPath.path"),
    ("VGL-POD-007", "DaemonSet", "shop", "agent", "spec.template.spec.volumes[1].hostPath.path"),
    ("VGL-POD-011", "CronJob", "shop", "report",
     "spec.jobTemplate.spec.template.spec.containers[0].securityContext.runAsUser"),
    ("VGL-POD-013", "CronJob", "shop", "report",
     "spec.jobTemplate.spec.template.spec.containers[0].securityContext.seccompProfile.type"),
}


def envelope(kind, tenant, cluster, data):
    ts = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {"v": 1, "id": str(uuid.uuid4()), "type": kind, "tenant_id": tenant,
            "cluster_id": cluster, "ts": ts, "data": data}


def make_tenant(env, plan="free", limit=None, clusters=1):
    tenant = str(uuid.uuid4())
    env.psql("INSERT INTO tenants (id, name, plan, workload_limit) VALUES (%s, %s, %s, %s)",
             [tenant, "t-" + tenant[:8], plan, limit])
    ids = []
    for i in range(clusters):
        cid = str(uuid.uuid4())
        env.psql("INSERT INTO clusters (id, tenant_id, name, server, ca_cert, credential, key_id,"
                 " ingest_token_prefix, ingest_token_hash) VALUES (%s, %s, %s, 'https://k:6443',"
                 " 'ca', 'sealed', 'kid', 'vgi_x', %s)", [cid, tenant, f"c{i}", uuid.uuid4().hex])
        ids.append(cid)
    return tenant, ids


def snapshot_messages(tenant, cluster, resources, chunk_size=4, snapshot_id=None):
    """(chunks, complete) messages for {resource: [items]}."""
    sid = snapshot_id or str(uuid.uuid4())
    chunks, counts = [], {}
    for res, items in resources.items():
        counts[res] = len(items)
        for i in range(0, len(items), chunk_size):
            chunks.append(envelope("snapshot.chunk", tenant, cluster,
                                   {"snapshot_id": sid, "seq": len(chunks), "resource": res,
                                    "items": items[i:i + chunk_size]}))
    complete = envelope("snapshot.complete", tenant, cluster,
                        {"snapshot_id": sid, "chunks": len(chunks), "counts": counts,
                         "absent": ["serviceentries"], "started_at": "2026-11-27T00:00:00Z",
                         "finished_at": "2026-11-27T00:00:01Z"})
    return sid, chunks, complete


def send(env, cluster, msgs, partition=None):
    for m in msgs:
        env.produce("vigil.inventory", m, key=cluster, partition=partition)


def fixture_resources():
    return {p.stem: json.loads(p.read_text()) for p in sorted(FIXTURE.glob("*.json"))}


def snapshot_status(env, cluster, sid):
    return env.psql_value("SELECT status FROM inventory_snapshots WHERE cluster_id = %s AND "
                          "snapshot_id = %s", [cluster, sid])


def wait_applied(env, cluster, sid, timeout=30):
    wait_until(lambda: snapshot_status(env, cluster, sid) == "applied", timeout=timeout,
               message=f"snapshot {sid} applied")


def deployments(n, ns="apps", prefix="app"):
    """n Deployments with one ReplicaSet and one pod each (kubectl-shaped)."""
    out = {"deployments": [], "replicasets": [], "pods": []}
    for i in range(n):
        name = f"{prefix}-{i:02d}"
        duid, rsuid = str(uuid.uuid5(uuid.NAMESPACE_URL, name)), str(uuid.uuid4())
        labels = {"app": name}
        spec = {"containers": [{"name": "c", "image": "nginx:1.25"}]}
        out["deployments"].append({"metadata": {"name": name, "namespace": ns, "uid": duid,
                                                "labels": labels},
                                   "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                                            "template": {"metadata": {"labels": labels},
                                                         "spec": spec}}})
        owner = lambda kind, n_, u: [{"apiVersion": "apps/v1", "kind": kind, "name": n_,
                                      "uid": u, "controller": True, "blockOwnerDeletion": True}]
        out["replicasets"].append({"metadata": {"name": name + "-5d4f", "namespace": ns,
                                                "uid": rsuid, "labels": labels,
                                                "ownerReferences": owner("Deployment", name, duid)},
                                   "spec": {"template": {"metadata": {"labels": labels},
                                                         "spec": spec}}})
        out["pods"].append({"metadata": {"name": name + "-5d4f-x1", "namespace": ns,
                                         "uid": str(uuid.uuid4()), "labels": labels,
                                         "ownerReferences": owner("ReplicaSet", name + "-5d4f",
                                                                  rsuid)},
                            "spec": spec, "status": {"phase": "Running"}})
    out["namespaces"] = [{"metadata": {"name": ns, "uid": str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                         "ns/" + ns))}}]
    return out


@pytest.fixture(scope="module")
def inventory(env, start_service):
    return start_service("inventory", {"VIGIL_FREE_WORKLOADS": "25",
                                       "VIGIL_INVENTORY_SNAPSHOT_CONSUMERS": "3"})


def findings_for(env, cluster, count, timeout=30):
    return env.consume("vigil.findings", count, timeout, key=cluster)


def test_fixture_cluster_exact_findings(env, inventory):
    tenant, (cluster,) = make_tenant(env)
    sid, chunks, complete = snapshot_messages(tenant, cluster, fixture_resources())
    send(env, cluster, chunks + [complete])
    wait_applied(env, cluster, sid)
    msgs = findings_for(env, cluster, len(EXPECTED) + 1)
    observed = [m["value"] for m in msgs if m["value"]["type"] == "finding.observed"]
    scopes = [m["value"] for m in msgs if m["value"]["type"] == "finding.scope"]
    got = {(d["rule_id"], d["object"]["kind"], d["object"]["namespace"], d["object"]["name"],
            d["field"]) for d in (o["data"] for o in observed)}
    assert got == EXPECTED
    assert len(observed) == len(EXPECTED)
    for o in observed:
        d = o["data"]
        fp = f"{tenant}|{cluster}|{d['rule_id']}|{d['object']['uid']}|{d['field']}"
        assert d["fingerprint"] == hashlib.sha256(fp.encode()).hexdigest()
        assert d["source"] == "posture" and d["scope"] == "posture"
        assert d["severity"] in ("low", "medium", "high", "critical") and d["remediation"]
        assert "hunter2" not in json.dumps(d) and "s3cr3t" not in json.dumps(d)
    assert len(scopes) == 1 and scopes[0]["data"]["scope"] == "posture"
    assert set(scopes[0]["data"]["fingerprints"]) == {o["data"]["fingerprint"] for o in observed}
    rows = env.psql("SELECT kind, namespace, name, status, pods FROM workloads WHERE "
                    "cluster_id = %s ORDER BY namespace, name", [cluster])
    assert rows == [
        ("DaemonSet", "kube-system", "kube-proxy", "excluded", "1"),
        ("Deployment", "legacy", "legacy-app", "controlled", "1"),
        ("Deployment", "secure", "good", "controlled", "1"),
        ("Job", "secure", "migrate", "controlled", "1"),
        ("DaemonSet", "shop", "agent", "controlled", "1"),
        ("StatefulSet", "shop", "db", "controlled", "1"),
        ("Pod", "shop", "debug", "controlled", "1"),
        ("CronJob", "shop", "report", "controlled", "1"),
        ("Deployment", "shop", "web", "controlled", "2"),
    ]
    exposure = json.loads(env.psql_value("SELECT exposure FROM workloads WHERE cluster_id = %s "
                                         "AND name = 'web'", [cluster]))
    assert {e["type"] for e in exposure} == {"ClusterIP", "Ingress", "Gateway"}
    assert env.psql_value("SELECT count(*) FROM cluster_objects WHERE cluster_id = %s AND "
                          "kind = 'Pod' AND gone_at IS NULL", [cluster]) == "10"
    perms = env.psql_value("SELECT permissions FROM rbac_subjects WHERE cluster_id = %s AND "
                           "subject_kind = 'User' AND subject_name = 'bob@example.com'", [cluster])
    assert json.loads(perms)[0]["role"] == "deployer"
    assert env.psql_value("SELECT count(*) FROM inventory_snapshot_chunks WHERE cluster_id = %s",
                          [cluster]) == "0"

    # redelivery of the whole snapshot changes nothing and emits nothing
    applied_at = env.psql_value("SELECT applied_at FROM inventory_snapshots WHERE "
                                "snapshot_id = %s", [sid])
    send(env, cluster, chunks + [complete])
    marker = envelope("snapshot.complete", tenant, cluster,
                      {"snapshot_id": "marker-" + sid, "chunks": 0, "counts": {}})
    send(env, cluster, [marker])  # same partition, after the redelivered messages
    wait_applied(env, cluster, "marker-" + sid)
    assert env.psql_value("SELECT applied_at FROM inventory_snapshots WHERE snapshot_id = %s",
                          [sid]) == applied_at
    assert env.psql_value("SELECT count(*) FROM inventory_snapshot_chunks WHERE cluster_id = %s",
                          [cluster]) == "0"
    after = findings_for(env, cluster, len(msgs) + 1)
    # the marker (an empty cluster) adds exactly one scope and no observation
    assert len(after) == len(msgs) + 1
    assert after[-1]["value"]["type"] == "finding.scope"
    assert after[-1]["value"]["data"]["fingerprints"] == []
    assert env.psql_value("SELECT count(*) FROM workloads WHERE cluster_id = %s AND "
                          "gone_at IS NOT NULL", [cluster]) == "9"


def test_half_snapshot_never_applied(env, inventory):
    tenant, (cluster,) = make_tenant(env)
    res = deployments(3)
    sid, chunks, complete = snapshot_messages(tenant, cluster, res, chunk_size=1)
    assert len(chunks) == 10
    missing = chunks.pop(4)
    send(env, cluster, chunks + [complete])
    wait_until(lambda: snapshot_status(env, cluster, sid) == "waiting", timeout=20)
    time.sleep(1.0)
    assert snapshot_status(env, cluster, sid) == "waiting"
    assert env.psql_value("SELECT count(*) FROM workloads WHERE cluster_id = %s", [cluster]) == "0"
    assert env.psql_value("SELECT count(*) FROM cluster_objects WHERE cluster_id = %s",
                          [cluster]) == "0"
    assert env.consume("vigil.findings", 1, 1.0, key=cluster) == []
    assert inventory.metric("vigil_inventory_snapshots_total", result="waiting") >= 1
    send(env, cluster, [missing])  # the late chunk completes it
    wait_applied(env, cluster, sid)
    assert env.psql_value("SELECT count(*) FROM workloads WHERE cluster_id = %s", [cluster]) == "3"


def test_inconsistent_snapshot_rejected_to_dlq(env, inventory):
    tenant, (cluster,) = make_tenant(env)
    sid, chunks, complete = snapshot_messages(tenant, cluster, deployments(2))
    complete["data"]["counts"]["pods"] = 5
    send(env, cluster, chunks + [complete])
    wait_until(lambda: snapshot_status(env, cluster, sid) == "rejected", timeout=20)
    dlq = env.consume("vigil.dlq", 1, 20, match=lambda m: sid in (m["payload"] or ""))
    assert dlq, "the rejected snapshot.complete is dead-lettered"
    assert "item counts do not match" in dlq[0]["value"]["data"]["reason"]
    assert "pods" in dlq[0]["value"]["data"]["reason"]
    assert env.psql_value("SELECT count(*) FROM workloads WHERE cluster_id = %s", [cluster]) == "0"
    assert env.psql_value("SELECT count(*) FROM inventory_snapshot_chunks WHERE cluster_id = %s",
                          [cluster]) == "0"


def statuses(env, cluster):
    return dict(env.psql("SELECT name, status FROM workloads WHERE cluster_id = %s AND "
                         "gone_at IS NULL", [cluster]))


def test_thirty_workloads_on_limit_25_stable(env, inventory):
    tenant, (cluster,) = make_tenant(env)
    res = deployments(30)
    sid, chunks, complete = snapshot_messages(tenant, cluster, res, chunk_size=7)
    send(env, cluster, chunks + [complete])
    wait_applied(env, cluster, sid)
    first = statuses(env, cluster)
    assert sorted(first.values()).count("controlled") == 25
    assert sorted(first.values()).count("uncontrolled") == 5
    assert all(first[f"app-{i:02d}"] == "controlled" for i in range(25))
    # re-snapshot in reverse order (new ReplicaSet and pod uids, same Deployments)
    res2 = deployments(30)
    for k in res2:
        res2[k].reverse()
    sid2, chunks2, complete2 = snapshot_messages(tenant, cluster, res2, chunk_size=7)
    send(env, cluster, chunks2 + [complete2])
    wait_applied(env, cluster, sid2)
    assert statuses(env, cluster) == first
    plan = env.consume("vigil.findings", 1, 10, key=tenant,
                       match=lambda m: m["value"]["data"].get("rule_id") == "VGL-PLAN-001")
    time.sleep(1.0)
    plan = env.consume("vigil.findings", 1, 1, key=tenant,
                       match=lambda m: m["value"]["data"].get("rule_id") == "VGL-PLAN-001")
    assert len(plan) == 1, "one notification when the limit is crossed"
    d = plan[0]["value"]["data"]
    assert d["source"] == "plan" and d["scope"] == "plan" and d["severity"] == "medium"
    assert d["evidence"] == {"limit": 25, "controlled": 25, "uncontrolled": 5}
    # uncontrolled workloads are not analysed: no finding names them
    obs = [m["value"]["data"] for m in env.consume("vigil.findings", 1, 5, key=cluster)
           if m["value"]["type"] == "finding.observed"]
    names = {o["object"]["name"] for o in obs if o["object"]["kind"] == "Deployment"}
    assert names == {f"app-{i:02d}" for i in range(25)}


def test_three_clusters_concurrently_never_exceed_limit(env, inventory):
    tenant, clusters = make_tenant(env, clusters=3)
    batches = []
    for p, cluster in enumerate(clusters):
        res = deployments(20, ns=f"ns{p}", prefix=f"c{p}")
        batches.append((cluster, p) + snapshot_messages(tenant, cluster, res, chunk_size=20))
    # interleave the three clusters, one partition each (one consumer each)
    for i in range(max(len(b[3]) for b in batches) + 1):
        for cluster, p, sid, chunks, complete in batches:
            msgs = chunks + [complete]
            if i < len(msgs):
                env.produce("vigil.inventory", msgs[i], key=cluster, partition=p)
    for cluster, p, sid, _, _ in batches:
        wait_applied(env, cluster, sid, timeout=40)
    rows = env.psql("SELECT status, count(*), count(DISTINCT admitted_seq), min(admitted_seq),"
                    " max(admitted_seq) FROM workloads WHERE tenant_id = %s GROUP BY status",
                    [tenant])
    by = {r[0]: r[1:] for r in rows}
    assert by["controlled"] == ("25", "25", "1", "25")
    assert by["uncontrolled"] == ("35", "35", "26", "60")
    before = dict(((r[0], r[1]), r[2]) for r in env.psql(
        "SELECT cluster_id, uid, status FROM workloads WHERE tenant_id = %s", [tenant]))
    # all three re-snapshotted at once (objects in reverse order): every slot is kept
    again = []
    for p, cluster in enumerate(clusters):
        res = deployments(20, ns=f"ns{p}", prefix=f"c{p}")
        for k in res:
            res[k].reverse()
        again.append((cluster, p) + snapshot_messages(tenant, cluster, res, chunk_size=20))
    for i in range(max(len(b[3]) for b in again) + 1):
        for cluster, p, sid, chunks, complete in again:
            msgs = chunks + [complete]
            if i < len(msgs):
                env.produce("vigil.inventory", msgs[i], key=cluster, partition=p)
    for cluster, p, sid, _, _ in again:
        wait_applied(env, cluster, sid, timeout=40)
    after = dict(((r[0], r[1]), r[2]) for r in env.psql(
        "SELECT cluster_id, uid, status FROM workloads WHERE tenant_id = %s", [tenant]))
    assert after == before
    # one notification for the tenant, whichever snapshot crossed the limit
    plan = env.consume("vigil.findings", 1, 5, key=tenant,
                       match=lambda m: m["value"]["data"].get("rule_id") == "VGL-PLAN-001")
    assert len(plan) == 1
    assert inventory.metric("vigil_inventory_snapshots_total", result="applied") >= 3
    assert inventory.metric("vigil_inventory_findings_total") > 0


def test_replayed_older_snapshot_and_bad_input(env, inventory):
    tenant, (cluster,) = make_tenant(env)
    sid_new, chunks_new, complete_new = snapshot_messages(tenant, cluster, deployments(2))
    complete_new["data"]["finished_at"] = "2026-11-27T10:00:00Z"
    send(env, cluster, chunks_new + [complete_new])
    wait_applied(env, cluster, sid_new)
    # an older snapshot replayed afterwards (say from the DLQ) must not roll the model back
    sid_old, chunks_old, complete_old = snapshot_messages(tenant, cluster, deployments(5))
    complete_old["data"]["finished_at"] = "2026-11-27T09:00:00Z"
    send(env, cluster, chunks_old + [complete_old])
    wait_until(lambda: snapshot_status(env, cluster, sid_old) == "rejected", timeout=20)
    assert env.psql_value("SELECT reason FROM inventory_snapshots WHERE snapshot_id = %s",
                          [sid_old]) == "superseded by a newer applied snapshot"
    assert env.psql_value("SELECT count(*) FROM workloads WHERE cluster_id = %s AND "
                          "gone_at IS NULL", [cluster]) == "2"
    # a cluster of another tenant, and malformed data: dead-lettered with the reason
    other, (foreign,) = make_tenant(env)
    bad = [envelope("snapshot.complete", tenant, foreign, {"snapshot_id": "x-" + foreign,
                                                          "chunks": 0}),
           envelope("snapshot.chunk", tenant, cluster, {"snapshot_id": "y-" + cluster,
                                                        "seq": -1, "resource": "pods",
                                                        "items": []})]
    send(env, cluster, bad)
    dlq = env.consume("vigil.dlq", 2, 20, match=lambda m: ("x-" + foreign) in (m["payload"] or "")
                      or ("y-" + cluster) in (m["payload"] or ""))
    reasons = sorted(m["value"]["data"]["reason"] for m in dlq)
    assert len(reasons) == 2
    assert "unknown cluster" in reasons[1] and "seq must be an integer" in reasons[0]
    assert env.psql_value("SELECT count(*) FROM inventory_snapshots WHERE cluster_id = %s",
                          [foreign]) == "0"


def test_waiting_snapshot_given_up_when_a_later_one_applies(env, inventory):
    tenant, (cluster,) = make_tenant(env)
    sid_a, chunks_a, complete_a = snapshot_messages(tenant, cluster, deployments(4, prefix="a"),
                                                    chunk_size=2)
    missing = chunks_a.pop(1)
    send(env, cluster, chunks_a + [complete_a])
    wait_until(lambda: snapshot_status(env, cluster, sid_a) == "waiting", timeout=20)
    sid_b, chunks_b, complete_b = snapshot_messages(tenant, cluster, deployments(2, prefix="b"))
    send(env, cluster, chunks_b + [complete_b])
    wait_applied(env, cluster, sid_b)
    assert snapshot_status(env, cluster, sid_a) == "rejected"
    assert "superseded by snapshot" in env.psql_value(
        "SELECT reason FROM inventory_snapshots WHERE snapshot_id = %s", [sid_a])
    assert env.psql_value("SELECT count(*) FROM inventory_snapshot_chunks WHERE cluster_id = %s",
                          [cluster]) == "0"
    # the late chunk of the abandoned snapshot changes nothing
    marker = envelope("snapshot.complete", tenant, cluster,
                      {"snapshot_id": "m-" + sid_b, "chunks": 0, "counts": {},
                       "finished_at": "2026-11-27T00:00:00Z"})
    send(env, cluster, [missing])
    send(env, cluster, [marker])
    wait_until(lambda: snapshot_status(env, cluster, "m-" + sid_b) in ("applied", "rejected"),
               timeout=20)
    assert snapshot_status(env, cluster, sid_a) == "rejected"
    assert env.psql_value("SELECT count(*) FROM inventory_snapshot_chunks WHERE cluster_id = %s",
                          [cluster]) == "0"
    assert sorted(statuses(env, cluster)) == ["b-00", "b-01"]
