"""Report service e-mail over smtp:// upgrades with STARTTLS when the server offers it
(certificate checked against VIGIL_SMTP_CA_FILE)."""
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "webhookrx"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kubeapi import make_ca_and_cert  # noqa: E402
from reporthelp import add_recipient, envelope, finding, fp, make_tenant  # noqa: E402
from smtptls import StartTlsSmtp  # noqa: E402


def test_mail_goes_over_starttls(env, start_service, wait_until):
    with tempfile.TemporaryDirectory() as work:
        ca, cert, key = make_ca_and_cert(work)
        smtp = StartTlsSmtp(cert, key)
        try:
            start_service("report", {"VIGIL_SMTP_URL": smtp.url, "VIGIL_SMTP_CA_FILE": ca})
            tenant, cluster = make_tenant(env, "tls")
            email = env.unique_email("tls")
            add_recipient(env, tenant, email)
            env.produce("vigil.findings",
                        envelope("finding.observed", tenant, cluster,
                                 finding(fp(), "critical", "Mail over TLS")), key=cluster)
            mails = wait_until(lambda: smtp.mails, 20, 0.1, "a mail at the STARTTLS server")
            assert mails[0]["tls"] is True
            assert mails[0]["rcpt"] == [email]
            assert b"Subject: [Vigil] New critical finding: Mail over TLS" in mails[0]["data"]
        finally:
            smtp.stop()
