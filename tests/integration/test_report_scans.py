"""Report service: scanner reports (real shapes from tests/fixtures/scans_report) become
findings with the tools' own ids; a newer report resolves what disappeared; a malformed report
goes to vigil.dlq with the reason; tenant reports are generated on command."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "webhookrx"))
from reporthelp import envelope, make_tenant, now_rfc3339  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "scans_report"


def sample(name):
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in (SAMPLES / name).read_text().splitlines() if line]
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture(scope="module")
def report(env, start_service):
    return start_service("report")


@pytest.fixture(scope="module")
def tenant(env, report):
    tenant_id, cluster_id = make_tenant(env, "scans")
    return {"tenant": tenant_id, "cluster": cluster_id}


def scan(env, t, tool, report_doc):
    msg = envelope("scan.report", t["tenant"], t["cluster"],
                   {"tool": tool, "report": report_doc, "received_at": now_rfc3339()})
    env.produce("vigil.scans", msg, key=t["cluster"])
    return msg


def done(env, msg):
    return env.psql_value("SELECT count(*) FROM report_processed WHERE envelope_id = %s",
                          [msg["id"]]) == "1"


def rules(env, t, source, status="open"):
    return dict(env.psql("SELECT rule_id, severity FROM findings WHERE tenant_id = %s AND "
                         "source = %s AND status = %s", [t["tenant"], source, status]))


def test_kube_hunter_report_and_newer_report_resolves(env, tenant, wait_until):
    first = scan(env, tenant, "kube-hunter", sample("kube-hunter.json"))
    wait_until(lambda: done(env, first), 20)
    assert rules(env, tenant, "kube-hunter") == {"KHV002": "medium", "KHV036": "critical",
                                                 "KHV052": "medium"}
    assert env.psql_value("SELECT DISTINCT scope FROM findings WHERE source = 'kube-hunter'") \
        == "scan:kube-hunter"
    newer = sample("kube-hunter.json")
    newer["vulnerabilities"] = [v for v in newer["vulnerabilities"] if v["vid"] == "KHV002"]
    second = scan(env, tenant, "kube-hunter", newer)
    wait_until(lambda: done(env, second), 20)
    assert rules(env, tenant, "kube-hunter") == {"KHV002": "medium"}
    assert set(rules(env, tenant, "kube-hunter", "resolved")) == {"KHV036", "KHV052"}
    assert env.psql_value("SELECT occurrences FROM findings WHERE rule_id = 'KHV002'") == "2"


def test_every_tool_keeps_its_ids(env, tenant, wait_until):
    msgs = [scan(env, tenant, "kube-bench", sample("kube-bench.json")),
            scan(env, tenant, "kubeaudit", sample("kubeaudit.jsonl")),
            scan(env, tenant, "trivy", sample("trivy-resources.json"))]
    wait_until(lambda: all(done(env, m) for m in msgs), 20)
    assert rules(env, tenant, "kube-bench") == {"1.1.12": "high", "1.2.1": "low",
                                                "4.2.1": "medium"}
    audit = rules(env, tenant, "kubeaudit")
    assert audit["AllowPrivilegeEscalationNil"] == "high"
    assert audit["LimitsNotSet"] == "medium"
    assert rules(env, tenant, "trivy") == {"CVE-2022-37434": "critical", "CVE-2011-3374": "low",
                                           "KSV001": "medium", "KCV0001": "high"}
    obj = env.psql_value("SELECT object FROM findings WHERE rule_id = 'KSV001'")
    assert json.loads(obj) == {"kind": "Deployment", "namespace": "shop", "name": "web"}


@pytest.mark.parametrize("tool,name,reason", [
    ("kube-bench", "kube-bench-missing-status.json", "malformed kube-bench report"),
    ("kube-hunter", "kube-hunter-no-vulnerabilities.json", "vulnerabilities"),
    ("trivy", "trivy-no-cluster.json", "ClusterName"),
])
def test_malformed_report_goes_to_dlq_with_reason(env, tenant, tool, name, reason):
    msg = scan(env, tenant, tool, sample(name))
    dead = env.consume("vigil.dlq", 1, timeout=20,
                       match=lambda m: msg["id"] in (m["value"] or {}).get("data", {})
                       .get("payload", ""))
    assert dead, f"{name} did not reach vigil.dlq"
    assert reason in dead[0]["value"]["data"]["reason"]
    assert not done(env, msg)


def test_report_generate_command(env, tenant, wait_until):
    cmd = envelope("report.generate", tenant["tenant"], None, {})
    env.produce("vigil.commands", cmd, key=tenant["tenant"])
    wait_until(lambda: done(env, cmd), 20)
    data, html = env.psql("SELECT data, html FROM tenant_reports WHERE tenant_id = %s "
                          "ORDER BY generated_at DESC LIMIT 1", [tenant["tenant"]])[0]
    data = json.loads(data)
    open_count = int(env.psql_value("SELECT count(*) FROM findings WHERE tenant_id = %s AND "
                                    "status = 'open'", [tenant["tenant"]]))
    assert data["totals"]["open"] == open_count
    assert sum(data["by_severity"].values()) == open_count
    assert data["by_severity"]["critical"] == 1  # CVE-2022-37434 (KHV036 was resolved)
    assert data["changes"]["opened"] >= open_count and data["changes"]["resolved"] == 2
    assert data["by_cluster"][0]["cluster"] == "scans-prod"
    assert data["top_risks"][0]["severity"] == "critical"
    assert {c["category"] for c in data["by_category"]} >= {"vulnerability", "kubeaudit"}
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert "CVE-2022-37434" in html
    # the portal role sees only its own tenant's reports
    other, _ = make_tenant(env, "other-tenant")
    seen = env.psql("SET ROLE vigil_portal; SELECT set_config('vigil.tenant_id', %s, false); "
                    "SELECT count(*) FROM tenant_reports", [other])
    assert seen[-1] == ("0",)
    seen = env.psql("SET ROLE vigil_portal; SELECT set_config('vigil.tenant_id', %s, false); "
                    "SELECT count(*) > 0 FROM tenant_reports", [tenant["tenant"]])
    assert seen[-1] == ("t",)
