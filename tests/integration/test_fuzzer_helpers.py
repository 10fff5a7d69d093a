"""Helpers shared by the fuzzer's integration tests (test_fuzzer_*.py; this module holds no
test of its own): tenant and target setup, sealing identity headers with bin/fixture-fuzzseal,
creating and running fuzz jobs, and reading their findings from vigil.findings."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import uuid

import requests

from conftest import BIN_DIR, REPO, wait_until

SPEC = REPO / "tests" / "fixtures" / "vulnapi" / "openapi.json"

# Every check id the vulnerable build must trigger (one flaw per check), with unsafe methods
# allowed and identities alice (user), bob (user) and admin (admin).
EXPECTED_ALL = {
    "API1-BOLA-001",
    "API2-AUTH-001", "API2-AUTH-002", "API2-AUTH-003", "API2-AUTH-004", "API2-AUTH-005",
    "API2-AUTH-006", "API2-AUTH-007",
    "API3-PROP-001", "API3-PROP-002",
    "API4-RES-001", "API4-RES-002", "API4-RES-003",
    "API5-BFLA-001",
    "API7-SSRF-001",
    "API8-MISC-001", "API8-MISC-002", "API8-MISC-003", "API8-MISC-004", "API8-MISC-005",
    "API9-INV-001", "API9-INV-002",
    "INJ-SQL-001", "INJ-SQL-002", "INJ-SQL-003", "INJ-CMD-001", "INJ-CMD-002",
}


def start_vulnapi(start_service, name: str, fixed: bool = False):
    extra = {"VULNAPI_FIXED": "1" if fixed else "0"}
    return start_service(name, extra, binary="fixture-vulnapi", addr_var="VULNAPI_ADDR")


def login(api, user: str) -> str:
    r = requests.post(api.url + "/api/v2/login",
                      json={"username": user, "password": f"{user}-pass-1"}, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def make_tenant(env, api) -> tuple[str, str]:
    """A tenant, a cluster and the vulnapi spec uploaded for the API's host."""
    tenant = env.psql_value("INSERT INTO tenants (name) VALUES (%s) RETURNING id",
                            [f"t-{uuid.uuid4().hex[:8]}"])
    cluster = env.psql_value(
        "INSERT INTO clusters (tenant_id, name, server, ca_cert, credential, key_id,"
        " ingest_token_prefix, ingest_token_hash) VALUES (%s, %s, 'https://k8s.example:6443',"
        " 'ca', 'sealed', 'kid', 'vgi_x', %s) RETURNING id",
        [tenant, f"c-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex])
    doc = json.loads(SPEC.read_text())
    doc["servers"] = [{"url": api.url}]
    env.psql("INSERT INTO api_specs (tenant_id, cluster_id, hosts, title, version, document)"
             " VALUES (%s, %s, ARRAY[%s], 'vulnapi', '2.0.0', %s::jsonb)",
             [tenant, cluster, api.addr, json.dumps(doc)])
    return tenant, cluster


def seal(env, aad: str, values: list[str]) -> list[str]:
    out = subprocess.run([str(BIN_DIR / "fixture-fuzzseal"), aad, *values], check=True,
                         capture_output=True, text=True,
                         env={**os.environ, "VIGIL_MASTER_KEY": env.vars["VIGIL_MASTER_KEY"]})
    return out.stdout.split()


def create_job(env, api, tenant: str, cluster: str, *, users=("alice", "bob", "admin"),
               base_url: str | None = None, tokens: list[str] | None = None, **options):
    """Inserts a fuzz_jobs row (identity headers sealed as the portal does) and produces the
    fuzz.run command. Returns (job_id, tokens)."""
    job = str(uuid.uuid4())
    base = base_url or api.url
    if tokens is None:
        tokens = [login(api, u) for u in users] if users else []
    sealed = seal(env, f"{tenant}/{job}", [f"Bearer {t}" for t in tokens]) if tokens else []
    identities = [{"name": u, "role": "admin" if u == "admin" else "user",
                   "headers": {"Authorization": s}} for u, s in zip(users, sealed)]
    request = {"base_url": base, "identities": identities, **options}
    env.psql("INSERT INTO fuzz_jobs (id, tenant_id, cluster_id, base_url, request)"
             " VALUES (%s, %s, %s, %s, %s::jsonb)",
             [job, tenant, cluster, base, json.dumps(request)])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    env.produce("vigil.commands", {"v": 1, "id": str(uuid.uuid4()), "type": "fuzz.run",
                                   "tenant_id": tenant, "cluster_id": cluster, "ts": now,
                                   "data": {"job_id": job}}, key=cluster)
    return job, tokens


def wait_job(env, job: str, timeout: float = 150.0) -> tuple[str, str | None]:
    def finished():
        row = env.psql("SELECT status, error FROM fuzz_jobs WHERE id = %s", [job])[0]
        return row if row[0] in ("done", "failed") else None
    return wait_until(finished, timeout=timeout, interval=0.5, message=f"job {job} finished")


def job_messages(env, job: str, timeout: float = 15.0) -> tuple[list[dict], dict | None]:
    """(finding.observed data list, finding.scope data) of the job, read after it is done."""
    scope = f"fuzz:{job}"

    def mine(m):
        v = m["value"] or {}
        return (v.get("data") or {}).get("scope") == scope
    msgs = env.consume("vigil.findings", count=1, timeout=timeout,
                       match=lambda m: mine(m) and m["value"]["type"] == "finding.scope")
    observed, final = [], None
    for m in env.consume("vigil.findings", count=len(msgs), timeout=2, match=mine):
        if m["value"]["type"] == "finding.observed":
            observed.append(m["value"]["data"])
        elif m["value"]["type"] == "finding.scope":
            final = m["value"]["data"]
    return observed, final


def vulnapi_requests(api) -> list[dict]:
    return requests.get(api.url + "/__requests", timeout=10).json()
