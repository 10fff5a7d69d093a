"""Posture findings through the report service (real Kafka, PostgreSQL, both services): the
fixture cluster's findings land in the findings table once each, a re-snapshot changes nothing,
and when the misconfigured Deployment disappears from the next snapshot exactly its findings
(and the Ingress finding that only existed because of it) are resolved."""

from conftest import wait_until
from test_inventory_posture import (EXPECTED, fixture_resources, make_tenant, send,
                                    snapshot_messages, wait_applied)


def finding_rows(env, cluster):
    rows = env.psql("SELECT rule_id, object->>'kind', object->>'namespace', object->>'name', "
                    "field, status, occurrences FROM findings WHERE cluster_id = %s "
                    "AND source = 'posture'", [cluster])
    return {tuple(r[:5]): (r[5], int(r[6])) for r in rows}


def test_findings_stored_then_resolved(env, start_service):
    start_service("report")
    start_service("inventory")
    tenant, (cluster,) = make_tenant(env)
    res = fixture_resources()
    sid, chunks, complete = snapshot_messages(tenant, cluster, res)
    send(env, cluster, chunks + [complete])
    wait_applied(env, cluster, sid)
    wait_until(lambda: len(finding_rows(env, cluster)) == len(EXPECTED), timeout=30,
               message="findings stored by the report service")
    rows = finding_rows(env, cluster)
    assert set(rows) == EXPECTED
    assert all(status == "open" for status, _ in rows.values())

    # the same cluster again: no new rows, nothing resolved
    sid2, chunks2, complete2 = snapshot_messages(tenant, cluster, res)
    send(env, cluster, chunks2 + [complete2])
    wait_applied(env, cluster, sid2)
    wait_until(lambda: all(n >= 2 for _, n in finding_rows(env, cluster).values()), timeout=30,
               message="second observation recorded")
    assert set(finding_rows(env, cluster)) == EXPECTED

    # the web Deployment is removed: its findings are resolved, and so is the Ingress
    # exposure that only existed because of it
    web_uids = {o["metadata"]["uid"] for o in res["deployments"] if o["metadata"]["name"] == "web"}
    rs_uids = {o["metadata"]["uid"] for o in res["replicasets"]
               if o["metadata"]["ownerReferences"][0]["uid"] in web_uids}
    res3 = dict(res)
    res3["deployments"] = [o for o in res["deployments"] if o["metadata"]["uid"] not in web_uids]
    res3["replicasets"] = [o for o in res["replicasets"] if o["metadata"]["uid"] not in rs_uids]
    res3["pods"] = [o for o in res["pods"]
                    if not any(r["uid"] in rs_uids for r in o["metadata"].get("ownerReferences",
                                                                                  []))]
    assert len(res3["pods"]) == len(res["pods"]) - 2
    sid3, chunks3, complete3 = snapshot_messages(tenant, cluster, res3)
    send(env, cluster, chunks3 + [complete3])
    wait_applied(env, cluster, sid3)
    gone = {k for k in EXPECTED if k[1:4] == ("Deployment", "shop", "web")}
    gone.add(("VGL-NET-002", "Ingress", "shop", "web",
              "spec.rules[0].http.paths[0].backend.service"))
    wait_until(lambda: {k for k, (s, _) in finding_rows(env, cluster).items()
                        if s == "resolved"} == gone, timeout=30,
               message="the removed workload's findings resolved")
    rows = finding_rows(env, cluster)
    assert {k for k, (s, _) in rows.items() if s == "open"} == EXPECTED - gone
    assert env.psql_value("SELECT gone_at IS NOT NULL FROM workloads WHERE cluster_id = %s AND "
                          "name = 'web'", [cluster]) == "t"
