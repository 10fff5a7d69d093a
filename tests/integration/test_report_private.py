"""Report service without VIGIL_ALLOW_PRIVATE_TARGETS: a webhook on a loopback address is
refused on every attempt (nothing reaches it), the outbox row says why, and once the delivery
is older than VIGIL_DELIVERY_MAX_AGE (24 h by default, 3 s here) it is marked dead."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "webhookrx"))
from reporthelp import add_webhook, envelope, finding, fp, make_tenant  # noqa: E402
from webhookrx import WebhookReceiver  # noqa: E402


def test_private_webhook_target_refused(env, start_service, wait_until):
    rx = WebhookReceiver()
    try:
        start_service("report", {"VIGIL_ALLOW_PRIVATE_TARGETS": "0",
                                 "VIGIL_RETRY_BASE_MS": "200",
                                 "VIGIL_DELIVERY_MAX_AGE": "3"})
        tenant, cluster = make_tenant(env, "private")
        add_webhook(env, tenant, rx.url("/private"))
        env.produce("vigil.findings",
                    envelope("finding.observed", tenant, cluster, finding(fp(), "critical")),
                    key=cluster)
        err = wait_until(lambda: env.psql_value(
            "SELECT last_error FROM report_outbox WHERE tenant_id = %s AND attempts >= 2",
            [tenant]), 20)
        assert "target refused" in err
        assert rx.requests() == []
        wait_until(lambda: env.psql_value("SELECT status FROM report_outbox WHERE "
                                          "tenant_id = %s", [tenant]) == "dead", 20)
        attempts = int(env.psql_value("SELECT attempts FROM report_outbox WHERE tenant_id = %s",
                                      [tenant]))
        assert attempts >= 3
        assert rx.requests() == []
    finally:
        rx.stop()
