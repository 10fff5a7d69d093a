"""Inventory at scale through the real broker and database: a 10,000-pod snapshot (2,000
Deployments x 5 pods, 20 chunks) is staged, applied in one transaction and its findings
published within a bound; the time is printed for bench/results/inventory-posture.md."""
import time
import uuid

from conftest import wait_until
from test_inventory_posture import envelope, make_tenant, snapshot_status


def big_cluster(deployments=2000, pods=5):
    out = {"namespaces": [], "deployments": [], "replicasets": [], "pods": [], "services": []}
    for n in range(deployments // 20):
        out["namespaces"].append({"metadata": {"name": f"team{n:03d}", "uid": str(uuid.uuid4())}})
    for i in range(deployments):
        ns, name = f"team{i // 20:03d}", f"app{i:04d}"
        duid, rsuid = str(uuid.uuid4()), str(uuid.uuid4())
        labels = {"app": name}
        spec = {"containers": [{"name": "c", "image": "nginx:1.25",
                                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}],
                "serviceAccountName": "app"}
        tmpl = {"metadata": {"labels": labels}, "spec": spec}
        ref = lambda kind, n_, u: [{"apiVersion": "apps/v1", "kind": kind, "name": n_, "uid": u,
                                    "controller": True, "blockOwnerDeletion": True}]
        out["deployments"].append({"metadata": {"name": name, "namespace": ns, "uid": duid},
                                   "spec": {"replicas": pods, "template": tmpl}})
        out["replicasets"].append({"metadata": {"name": name + "-7c9", "namespace": ns,
                                                "uid": rsuid,
                                                "ownerReferences": ref("Deployment", name, duid)},
                                   "spec": {"template": tmpl}})
        for p in range(pods):
            out["pods"].append({"metadata": {"name": f"{name}-7c9-{p}", "namespace": ns,
                                             "uid": str(uuid.uuid4()), "labels": labels,
                                             "ownerReferences": ref("ReplicaSet", name + "-7c9",
                                                                    rsuid)},
                                "spec": spec, "status": {"phase": "Running"}})
        out["services"].append({"metadata": {"name": name, "namespace": ns,
                                             "uid": str(uuid.uuid4())},
                                "spec": {"type": "ClusterIP", "selector": labels,
                                         "ports": [{"port": 80}]}})
    return out


def test_ten_thousand_pods(env, start_service):
    start_service("inventory", {"VIGIL_INVENTORY_SNAPSHOT_CONSUMERS": "1"})
    tenant, (cluster,) = make_tenant(env, plan="pro")
    res = big_cluster()
    sid, chunks, counts = str(uuid.uuid4()), [], {}
    for kind, items in res.items():
        counts[kind] = len(items)
        for i in range(0, len(items), 500):
            chunks.append(envelope("snapshot.chunk", tenant, cluster,
                                   {"snapshot_id": sid, "seq": len(chunks), "resource": kind,
                                    "items": items[i:i + 500]}))
    complete = envelope("snapshot.complete", tenant, cluster,
                        {"snapshot_id": sid, "chunks": len(chunks), "counts": counts})
    for m in chunks:
        env.produce("vigil.inventory", m, key=cluster)
    wait_until(lambda: env.psql_value("SELECT count(*) FROM inventory_snapshot_chunks WHERE "
                                      "snapshot_id = %s", [sid]) == str(len(chunks)),
               timeout=60, message="chunks staged")
    start = time.monotonic()
    env.produce("vigil.inventory", complete, key=cluster)
    wait_until(lambda: snapshot_status(env, cluster, sid) == "applied", timeout=60, interval=0.05)
    elapsed = time.monotonic() - start
    print(f"\n10,000-pod snapshot applied in {elapsed:.2f} s (from snapshot.complete)")
    assert env.psql_value("SELECT count(*) FROM workloads WHERE cluster_id = %s AND "
                          "status = 'controlled'", [cluster]) == "2000"
    assert env.psql_value("SELECT count(*) FROM cluster_objects WHERE cluster_id = %s AND "
                          "kind = 'Pod'", [cluster]) == "10000"
    assert env.psql_value("SELECT findings FROM inventory_snapshots WHERE snapshot_id = %s",
                          [sid]) == str(2000 * 6 + 100)
    assert elapsed < 30
