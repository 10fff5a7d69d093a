"""Fuzz jobs through the portal: POST /api/v1/fuzz-jobs (the portal seals the identity
headers and produces fuzz.run), the real fuzzer runs the job against fixture-vulnapi, and
GET /api/v1/fuzz-jobs/{id} shows it done with its findings."""

import json
import uuid

import pytest

from conftest import wait_until
from test_fuzzer_helpers import SPEC, job_messages, login, start_vulnapi


@pytest.fixture(scope="module")
def vuln(start_service):
    return start_vulnapi(start_service, "vulnapi-portal")


def test_job_created_by_the_portal_runs_to_done(env, start_service, vuln):
    portal = start_service("portal")
    fuzzer = start_service("fuzzer", {"VIGIL_FUZZER_POLL_MS": "300"})
    r = portal.post("/api/v1/signup", json={"email": env.unique_email("fz"),
                                            "password": "correct horse battery 9",
                                            "organization": "fuzz org"})
    assert r.status_code == 201, r.text
    tenant, key = r.json()["tenant_id"], r.json()["api_key"]
    cluster = env.psql_value(
        "INSERT INTO clusters (tenant_id, name, server, ca_cert, credential, key_id,"
        " ingest_token_prefix, ingest_token_hash) VALUES (%s, 'c', 'https://k:6443', 'ca', 's',"
        " 'k', 'vgi_x', %s) RETURNING id", [tenant, uuid.uuid4().hex])
    doc = json.loads(SPEC.read_text())
    doc["servers"] = [{"url": vuln.url}]
    env.psql("INSERT INTO api_specs (tenant_id, cluster_id, hosts, document)"
             " VALUES (%s, %s, ARRAY[%s], %s::jsonb)", [tenant, cluster, vuln.addr, json.dumps(doc)])
    auth = {"Authorization": f"Bearer {key}"}
    identities = [{"name": u, "role": "admin" if u == "admin" else "user",
                   "headers": {"Authorization": f"Bearer {login(vuln, u)}"}}
                  for u in ("alice", "bob", "admin")]
    r = portal.post("/api/v1/fuzz-jobs", headers=auth,
                    json={"base_url": vuln.url, "identities": identities,
                          "categories": ["API1", "API2", "API5"], "rate_limit": 200})
    assert r.status_code == 202, r.text
    job = r.json()["job_id"]
    stored = env.psql_value("SELECT request::text FROM fuzz_jobs WHERE id = %s", [job])
    assert "Bearer ey" not in stored  # sealed by the portal

    def finished():
        body = portal.get(f"/api/v1/fuzz-jobs/{job}", headers=auth).json()
        return body if body.get("status") in ("done", "failed") else None
    body = wait_until(finished, timeout=90, interval=0.5, message="job done via the portal")
    assert body["status"] == "done", body
    observed, _ = job_messages(env, job)
    ids = {f["rule_id"] for f in observed}
    assert {"API1-BOLA-001", "API2-AUTH-004", "API5-BFLA-001"} <= ids
    assert all(i.split("-")[0] in ("API1", "API2", "API5") for i in ids)
    fuzzer.stop()
