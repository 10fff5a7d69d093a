"""Report service e-mail digest and per-tenant throttle: high/critical findings are mailed one
by one up to the tenant's hourly limit; the rest (lower severities, and what the limit held
back) arrive in the periodic digest, which never repeats a finding already mailed."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "webhookrx"))
from reporthelp import add_recipient, envelope, finding, fp, make_tenant  # noqa: E402


@pytest.fixture(scope="module")
def report(env, start_service):
    return start_service("report", {"VIGIL_DIGEST_INTERVAL": "2",
                                    "VIGIL_EMAIL_TENANT_HOURLY": "1",
                                    "VIGIL_RETRY_BASE_MS": "200",
                                    "VIGIL_REPORT_INTERVAL": "1"})


def test_throttle_and_digest(env, report, mailbox, wait_until):
    tenant, cluster = make_tenant(env, "digest")
    email = env.unique_email("digest")
    add_recipient(env, tenant, email)
    first = finding(fp(), "critical", "Critical number one")
    held = finding(fp(), "critical", "Critical held back by the limit")
    low = finding(fp(), "low", "A low one for the digest")
    for f in (first, held, low):
        env.produce("vigil.findings", envelope("finding.observed", tenant, cluster, f),
                    key=cluster)

    def digest_titles():
        titles = []
        for mail in mailbox.messages():
            if email in mail.rcpt and "Digest" in mail.subject:
                titles.append(mail.body)
        text = "\n".join(titles)
        return text if "Critical held back" in text and "A low one" in text else None

    text = wait_until(digest_titles, 30, 0.3, "a digest with the held-back and low findings")
    assert "Critical number one" not in text
    singles = [m for m in mailbox.messages() if email in m.rcpt and "Digest" not in m.subject]
    assert [m.subject for m in singles] == ["[Vigil] New critical finding: Critical number one"]
    statuses = dict(env.psql("SELECT f.title, o.status FROM report_outbox o JOIN findings f "
                             "ON f.id = o.finding_id WHERE o.tenant_id = %s", [tenant]))
    assert statuses == {"Critical number one": "delivered",
                        "Critical held back by the limit": "throttled"}
    digest = env.psql("SELECT status, event_type FROM report_outbox WHERE tenant_id = %s AND "
                      "event_type = 'digest'", [tenant])
    assert digest and all(row == ("delivered", "digest") for row in digest)
    assert "Unsubscribe" in text


def test_tenant_reports_are_generated_periodically(env, report, wait_until):
    tenant, _ = make_tenant(env, "periodic")
    wait_until(lambda: int(env.psql_value("SELECT count(*) FROM tenant_reports WHERE "
                                          "tenant_id = %s", [tenant])) >= 2, 20, 0.3,
               "two periodic reports without any command")
    html = env.psql_value("SELECT html FROM tenant_reports WHERE tenant_id = %s LIMIT 1",
                          [tenant])
    assert "Security report: periodic" in html
