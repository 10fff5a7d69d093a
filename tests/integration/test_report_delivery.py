"""Report service: findings lifecycle and delivery by signed webhook and e-mail, with the real
PostgreSQL, Kafka, a local webhook receiver and the module's SMTP sink."""
import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "webhookrx"))
from reporthelp import (add_recipient, add_webhook, envelope, finding, fp,  # noqa: E402
                        make_tenant, verify_signature)
from webhookrx import WebhookReceiver  # noqa: E402

SECRET = "whsec-delivery-test"


@pytest.fixture(scope="module")
def rx():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def report(env, start_service):
    return start_service("report", {"VIGIL_RETRY_BASE_MS": "200", "VIGIL_DELIVERY_LEASE": "5",
                                    "VIGIL_PUBLIC_URL": "https://vigil.example.com"})


@pytest.fixture(scope="module")
def acme(env, report, rx):
    tenant, cluster = make_tenant(env, "acme")
    hook = add_webhook(env, tenant, rx.url("/acme"), SECRET)
    email = env.unique_email("secops")
    recipient = add_recipient(env, tenant, email)
    return {"tenant": tenant, "cluster": cluster, "hook": hook, "email": email,
            "recipient": recipient}


def send(env, t, type_, data, env_id=None):
    msg = envelope(type_, t["tenant"], t["cluster"], data, env_id)
    topic = "vigil.commands" if type_ == "webhook.test" else "vigil.findings"
    env.produce(topic, msg, key=t["cluster"])
    return msg


def processed(env, env_id):
    return env.psql_value("SELECT count(*) FROM report_processed WHERE envelope_id = %s",
                          [env_id]) == "1"


def finding_row(env, tenant, fingerprint):
    rows = env.psql("SELECT status, occurrences FROM findings WHERE tenant_id = %s "
                    "AND fingerprint = %s", [tenant, fingerprint])
    return rows[0] if rows else None


def events_for(rx, path, fingerprint, event=None):
    return [r for r in rx.requests(path)
            if r.json()["finding"].get("fingerprint") == fingerprint
            and (event is None or r.headers["x-vigil-event"] == event)]


def test_new_critical_finding_one_signed_webhook_and_one_email(env, acme, rx, mailbox,
                                                               wait_until):
    f = finding(fp(), "critical", "Privileged container in web")
    msg = send(env, acme, "finding.observed", f)
    got = wait_until(lambda: events_for(rx, "/acme", f["fingerprint"]), 20)
    assert len(got) == 1
    req = got[0]
    assert verify_signature(SECRET, req.headers, req.body)
    assert not verify_signature("another-secret", req.headers, req.body)
    body = req.json()
    assert req.headers["x-vigil-event"] == "finding.opened" == body["type"]
    assert req.headers["x-vigil-delivery"] == body["id"]
    assert body["tenant_id"] == acme["tenant"]
    assert body["finding"]["severity"] == "critical"
    assert body["finding"]["url"].startswith("https://vigil.example.com/findings/")
    mails = mailbox.wait_for(1, rcpt=acme["email"], timeout=20,
                             match=lambda m: "Privileged container in web" in m.subject)
    assert len(mails) == 1
    mail = mails[0]
    assert "critical" in mail.subject
    assert mail.headers["List-Unsubscribe"].startswith(
        "<https://vigil.example.com/unsubscribe?token=vgu_")
    assert "Privileged container in web" in mail.body
    assert "<html" in mail.html and "Unsubscribe" in mail.html
    assert mail.headers["X-Vigil-Delivery"]

    # the same message delivered again by Kafka: neither a webhook nor an e-mail
    send(env, acme, "finding.observed", f, env_id=msg["id"])
    marker = send(env, acme, "finding.observed", finding(fp(), "low"))
    wait_until(lambda: processed(env, marker["id"]), 20)
    time.sleep(1.0)
    assert len(events_for(rx, "/acme", f["fingerprint"])) == 1
    assert len(mailbox.wait_for(1, rcpt=acme["email"], timeout=5,
                                match=lambda m: "Privileged container in web" in m.subject)) == 1
    assert finding_row(env, acme["tenant"], f["fingerprint"]) == ("open", "1")

    # observed again in a new message: occurrences grow, still no new event
    again = send(env, acme, "finding.observed", f)
    wait_until(lambda: processed(env, again["id"]), 20)
    assert finding_row(env, acme["tenant"], f["fingerprint"]) == ("open", "2")
    time.sleep(0.5)
    assert len(events_for(rx, "/acme", f["fingerprint"])) == 1


def test_receiver_failing_three_times_gets_the_event_on_the_fourth_try(env, report, rx,
                                                                      wait_until):
    tenant, cluster = make_tenant(env, "flaky")
    t = {"tenant": tenant, "cluster": cluster}
    add_webhook(env, tenant, rx.url("/flaky"), SECRET)
    rx.fail("/flaky", 3, status=503)
    f = finding(fp(), "high")
    send(env, t, "finding.observed", f)
    got = rx.wait(4, path="/flaky", timeout=30)
    assert [r.status for r in got] == [503, 503, 503, 200]
    assert len({r.headers["x-vigil-delivery"] for r in got}) == 1
    assert len({r.body for r in got}) == 1  # the same body on every attempt
    assert all(verify_signature(SECRET, r.headers, r.body) for r in got)
    row = wait_until(lambda: env.psql("SELECT status, attempts FROM report_outbox WHERE "
                                      "tenant_id = %s AND status = 'delivered'", [tenant]), 10)
    assert row == [("delivered", "4")]
    time.sleep(0.8)
    assert len(rx.requests("/flaky")) == 4
    assert report.metric("vigil_report_deliveries_total", channel="webhook",
                         outcome="failed") >= 3
    assert report.metric("vigil_report_deliveries_total", channel="webhook",
                         outcome="delivered") >= 2


def test_redirect_is_not_followed_and_retried(env, report, rx, wait_until):
    tenant, cluster = make_tenant(env, "redirected")
    add_webhook(env, tenant, rx.url("/redirect-me"), SECRET)
    send(env, {"tenant": tenant, "cluster": cluster}, "finding.observed", finding(fp()))
    rx.wait(2, path="/redirect-me", timeout=20)
    assert rx.requests("/elsewhere") == []
    err = wait_until(lambda: env.psql_value("SELECT last_error FROM report_outbox WHERE "
                                            "tenant_id = %s", [tenant]), 10)
    assert "302" in err and "not followed" in err


def test_webhook_test_command_delivers(env, acme, rx, wait_until):
    send(env, acme, "webhook.test", {"webhook_id": acme["hook"]})
    got = rx.wait(1, path="/acme", timeout=20,
                  match=lambda r: r.headers["x-vigil-event"] == "webhook.test")
    assert len(got) == 1
    assert verify_signature(SECRET, got[0].headers, got[0].body)
    assert got[0].json()["type"] == "webhook.test"


def test_scope_resolves_and_observation_reopens(env, acme, rx, wait_until):
    keep, gone = finding(fp(), "medium", scope="api"), finding(fp(), "medium", scope="api")
    send(env, acme, "finding.observed", keep)
    send(env, acme, "finding.observed", gone)
    wait_until(lambda: events_for(rx, "/acme", gone["fingerprint"], "finding.opened"), 20)
    send(env, acme, "finding.scope", {"scope": "api", "fingerprints": [keep["fingerprint"]]})
    got = wait_until(lambda: events_for(rx, "/acme", gone["fingerprint"], "finding.resolved"), 20)
    assert got[0].json()["finding"]["status"] == "resolved"
    assert finding_row(env, acme["tenant"], gone["fingerprint"])[0] == "resolved"
    assert finding_row(env, acme["tenant"], keep["fingerprint"])[0] == "open"
    send(env, acme, "finding.observed", gone)
    got = wait_until(lambda: events_for(rx, "/acme", gone["fingerprint"], "finding.reopened"), 20)
    assert got[0].json()["finding"]["status"] == "open"
    assert finding_row(env, acme["tenant"], gone["fingerprint"])[0] == "open"


def test_suppressed_stays_suppressed(env, acme, rx, wait_until):
    f = finding(fp(), "high", scope="posture-suppress")
    send(env, acme, "finding.observed", f)
    wait_until(lambda: events_for(rx, "/acme", f["fingerprint"]), 20)
    env.psql("UPDATE findings SET status = 'suppressed' WHERE fingerprint = %s",
             [f["fingerprint"]])
    again = send(env, acme, "finding.observed", f)
    scope = send(env, acme, "finding.scope", {"scope": "posture-suppress", "fingerprints": []})
    wait_until(lambda: processed(env, again["id"]) and processed(env, scope["id"]), 20)
    assert finding_row(env, acme["tenant"], f["fingerprint"]) == ("suppressed", "2")
    time.sleep(0.5)
    assert len(events_for(rx, "/acme", f["fingerprint"])) == 1


def test_unsubscribe_link_stops_mail(env, acme, report, mailbox, wait_until):
    tenant, cluster = make_tenant(env, "unsub")
    t = {"tenant": tenant, "cluster": cluster}
    email = env.unique_email("leaver")
    recipient = add_recipient(env, tenant, email)
    send(env, t, "finding.observed", finding(fp(), "critical", "First mail for leaver"))
    mail = mailbox.wait_for(1, rcpt=email, timeout=20)[0]
    link = mail.headers["List-Unsubscribe"].strip("<>")
    token = link.split("token=", 1)[1]
    assert token in mail.body
    assert report.get("/unsubscribe", params={"token": "vgu_forged"}).status_code == 404
    assert report.get("/unsubscribe").status_code == 400
    resp = report.get("/unsubscribe", params={"token": token})
    assert resp.status_code == 200 and "unsubscribed" in resp.text
    assert env.psql_value("SELECT unsubscribed FROM email_recipients WHERE id = %s",
                          [recipient]) == "t"
    later = send(env, t, "finding.observed", finding(fp(), "critical", "Second mail for leaver"))
    wait_until(lambda: processed(env, later["id"]), 20)
    time.sleep(1.0)
    assert [m.subject for m in mailbox.messages() if email in m.rcpt] == [mail.subject]


def test_malformed_finding_goes_to_dlq(env, acme, wait_until):
    bad = send(env, acme, "finding.observed", {"fingerprint": "zz", "severity": "urgent"})
    dead = env.consume("vigil.dlq", 1, timeout=20,
                       match=lambda m: bad["id"] in (m["value"] or {}).get("data", {})
                       .get("payload", ""))
    assert dead, "the malformed finding did not reach vigil.dlq"
    assert "finding." in dead[0]["value"]["data"]["reason"]
