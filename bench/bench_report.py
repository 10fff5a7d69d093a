#!/usr/bin/python3
"""Report service benchmark against the dev stack (deploy/dev/stack.sh up):

  1. findings/s from Kafka into the outbox: N finding.observed messages are queued in
     vigil.findings first, then vigil-report starts with its delivery worker idle
     (VIGIL_OUTBOX_POLL_MS=60000); time from ready until every finding and its outbox rows
     (one per webhook) are committed.
  2. webhook deliveries/s to a local receiver: the same service restarted with the worker
     polling; time until the receiver has every delivery.

    /usr/bin/python3 bench/bench_report.py [--findings 2000] [--webhooks 4]
Uses the integration harness (tests/integration/conftest.py) for the database, topics and
the process; writes a Markdown summary to stdout.
"""
import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "webhookrx"))

import conftest  # noqa: E402
from reporthelp import add_webhook, envelope, finding, fp, make_tenant, produce_many  # noqa
from webhookrx import WebhookReceiver  # noqa: E402


def count(env, sql, params):
    return int(env.psql_value(sql, params))


def wait_for(pred, timeout, interval=0.25):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(interval)


def start(env, extra):
    addr = f"127.0.0.1:{conftest.free_port()}"
    log = REPO / "tests" / "artifacts" / "logs" / "bench-report.log"
    svc = conftest.Service("report", [str(conftest.BIN_DIR / "vigil-report")],
                           env.service_env({"VIGIL_REPORT_ADDR": addr, "VIGIL_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "warn"),
                                            **extra}), addr, log)
    svc.start()
    svc.wait_ready(60)
    return svc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=2000)
    ap.add_argument("--webhooks", type=int, default=4)
    args = ap.parse_args()
    n, hooks = args.findings, args.webhooks
    env = conftest.TestEnv("bench_report", conftest.Stack())
    env.setup()
    rx = WebhookReceiver()
    svc = None
    try:
        svc = start(env, {"VIGIL_OUTBOX_POLL_MS": "60000"})  # applies the migrations
        svc.stop()
        tenant, cluster = make_tenant(env, "bench")
        for i in range(hooks):
            add_webhook(env, tenant, rx.url(f"/bench{i}"))
        produce_many(env.stack.brokers, env.topic("vigil.findings"),
                     [(cluster, envelope("finding.observed", tenant, cluster,
                                         finding(fp(), "medium"))) for _ in range(n)])
        svc = start(env, {"VIGIL_OUTBOX_POLL_MS": "60000"})
        t0 = time.monotonic()
        wait_for(lambda: count(env, "SELECT count(*) FROM report_outbox WHERE tenant_id = %s",
                               [tenant]) >= n * hooks, 300)
        t_ingest = time.monotonic() - t0
        svc.stop()
        svc = start(env, {"VIGIL_OUTBOX_POLL_MS": "50"})
        t1 = time.monotonic()
        wait_for(lambda: len(rx.requests()) >= n * hooks, 600)
        t_deliver = time.monotonic() - t1
        svc.stop()
        print("| measure | value |\n| --- | --- |")
        print(f"| findings from Kafka into findings + outbox ({n} findings, {hooks} webhooks "
              f"each, {n * hooks} outbox rows) | {n / t_ingest:.0f} findings/s "
              f"({t_ingest:.2f} s) |")
        print(f"| webhook deliveries to a local receiver ({n * hooks} deliveries, {hooks} "
              f"endpoints, 2 in flight per endpoint) | {n * hooks / t_deliver:.0f} deliveries/s "
              f"({t_deliver:.2f} s) |")
        print(f"\nmachine: {os.cpu_count()} cores; PostgreSQL fsync=off (dev stack)")
    finally:
        if svc is not None and svc.running:
            svc.stop()
        rx.stop()
        env.teardown()


if __name__ == "__main__":
    main()
