"""Report service killed with SIGKILL in the middle of deliveries loses nothing: after the
restart every delivery arrives; duplicates only ever repeat the same delivery id and body."""
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "webhookrx"))
from reporthelp import (add_webhook, envelope, finding, fp, make_tenant,  # noqa: E402
                        produce_many, verify_signature)
from webhookrx import WebhookReceiver  # noqa: E402

COUNT = 150
SECRET = "whsec-crash"


def test_sigkill_mid_delivery_loses_nothing(env, start_service, wait_until):
    rx = WebhookReceiver()
    rx.delay = 0.03  # a slow receiver: deliveries are still queued when the kill comes
    try:
        report = start_service("report", {"VIGIL_RETRY_BASE_MS": "200",
                                          "VIGIL_DELIVERY_LEASE": "2",
                                          "VIGIL_ENDPOINT_CONCURRENCY": "2"})
        tenant, cluster = make_tenant(env, "crashy")
        add_webhook(env, tenant, rx.url("/crash"), SECRET)
        findings = [finding(fp(), "medium") for _ in range(COUNT)]
        produce_many(env.stack.brokers, env.topic("vigil.findings"),
                     [(cluster, envelope("finding.observed", tenant, cluster, f))
                      for f in findings])
        rx.wait(15, path="/crash", timeout=30)
        assert report.kill() == -9
        received_at_kill = len(rx.requests("/crash"))
        assert received_at_kill < COUNT, "everything was delivered before the kill"

        report.restart()
        expected = {f["fingerprint"] for f in findings}

        def all_arrived():
            got = {r.json()["finding"]["fingerprint"] for r in rx.requests("/crash")}
            return got >= expected

        wait_until(all_arrived, 60, 0.2, "every finding delivered after the restart")
        # every finding has exactly one outbox row, and all of them are delivered
        rows = env.psql("SELECT id, status FROM report_outbox WHERE tenant_id = %s", [tenant])
        assert len(rows) == COUNT
        wait_until(lambda: env.psql_value("SELECT count(*) FROM report_outbox WHERE "
                                          "tenant_id = %s AND status = 'delivered'",
                                          [tenant]) == str(COUNT), 20)
        by_id = defaultdict(set)
        for req in rx.requests("/crash"):
            assert verify_signature(SECRET, req.headers, req.body)
            by_id[req.headers["x-vigil-delivery"]].add(req.body)
        assert set(by_id) == {r[0] for r in rows}
        assert all(len(bodies) == 1 for bodies in by_id.values())
        fingerprints = defaultdict(set)
        for delivery_id, bodies in by_id.items():
            fingerprints[json.loads(next(iter(bodies)))["finding"]["fingerprint"]].add(delivery_id)
        assert all(len(ids) == 1 for ids in fingerprints.values())
        # per-endpoint concurrency (VIGIL_ENDPOINT_CONCURRENCY=2) held, and used
        assert rx.max_inflight["/crash"] == 2
        print(f"\n[crash] {received_at_kill} received before SIGKILL, "
              f"{len(rx.requests('/crash'))} requests in all for {COUNT} deliveries")
        assert report.stop() == 0
    finally:
        rx.stop()


def test_two_replicas_share_the_outbox(env, start_service, wait_until):
    """Two report processes on one database and consumer group: every delivery arrives once
    (leases + SKIP LOCKED), and both replicas send some."""
    rx = WebhookReceiver()
    rx.delay = 0.05
    try:
        extra = {"VIGIL_RETRY_BASE_MS": "200", "VIGIL_DELIVERY_LEASE": "30"}
        replicas = [start_service("report", extra), start_service("report", extra)]
        tenant, cluster = make_tenant(env, "replicas")
        # more endpoints than one replica's batch (64 rows, 2 per endpoint) takes at once
        hooks = [rx.url(f"/replica{i}") for i in range(40)]
        for url in hooks:
            add_webhook(env, tenant, url, SECRET)
        findings = [finding(fp(), "medium") for _ in range(10)]
        produce_many(env.stack.brokers, env.topic("vigil.findings"),
                     [(cluster, envelope("finding.observed", tenant, cluster, f))
                      for f in findings])
        wait_until(lambda: len(rx.requests()) >= 400, 60, 0.2, "400 deliveries")
        time.sleep(0.5)
        ids = [r.headers["x-vigil-delivery"] for r in rx.requests()]
        assert len(ids) == len(set(ids)) == 400  # no duplicates without a crash
        sent = [svc.metric("vigil_report_deliveries_total", channel="webhook",
                           outcome="delivered") or 0 for svc in replicas]
        assert sum(sent) == 400 and all(n > 0 for n in sent), sent
        # the per-endpoint limit (2) is checked per claim; two replicas claiming the same
        # endpoint at the same instant may briefly double it
        assert all(rx.max_inflight[f"/replica{i}"] <= 4 for i in range(40))
    finally:
        rx.stop()
