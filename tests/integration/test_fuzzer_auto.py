"""Automatic testing: an api.endpoint event queues an unauthenticated job for the endpoint's
host only when the tenant enabled it in fuzz_settings (default off); the job tests the
inventory endpoint (no uploaded spec needed)."""

import datetime
import uuid

import pytest

from conftest import wait_until
from test_fuzzer_helpers import job_messages, start_vulnapi, wait_job


@pytest.fixture(scope="module")
def vuln(start_service):
    return start_vulnapi(start_service, "vulnapi-auto")


def api_event(env, tenant, cluster, api_id, host):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    env.produce("vigil.api-events", {
        "v": 1, "id": str(uuid.uuid4()), "type": "api.endpoint", "tenant_id": tenant,
        "cluster_id": cluster, "ts": now,
        "data": {"api_id": api_id, "change": "new", "service": "shop.default", "host": host,
                 "class": "external", "method": "GET", "path_template": "/api/v2/stats"}},
        key=cluster)


def test_api_event_starts_a_job_only_when_enabled(env, start_service, vuln):
    fuzzer = start_service("fuzzer", {"VIGIL_FUZZER_POLL_MS": "300"})
    tenant = env.psql_value("INSERT INTO tenants (name) VALUES ('auto') RETURNING id")
    cluster = env.psql_value(
        "INSERT INTO clusters (tenant_id, name, server, ca_cert, credential, key_id,"
        " ingest_token_prefix, ingest_token_hash) VALUES (%s, 'c', 'https://k:6443', 'ca', 's',"
        " 'k', 'vgi_x', %s) RETURNING id", [tenant, uuid.uuid4().hex])
    api_id = env.psql_value(
        "INSERT INTO api_endpoints (tenant_id, cluster_id, service, host, class, method,"
        " path_template, scheme, auth) VALUES (%s, %s, 'shop.default', %s, 'external', 'GET',"
        " '/api/v2/stats', 'http', 'bearer') RETURNING id", [tenant, cluster, vuln.addr])

    api_event(env, tenant, cluster, api_id, vuln.addr)  # automatic testing is off
    fuzzer.wait_log(lambda r: r.get("msg", "").startswith("api.endpoint: no automatic job")
                    and r.get("api_id") == api_id, timeout=30)
    assert env.psql_value("SELECT count(*) FROM fuzz_jobs WHERE tenant_id = %s", [tenant]) == "0"

    env.psql("INSERT INTO fuzz_settings (tenant_id, auto) VALUES (%s, true)", [tenant])
    api_event(env, tenant, cluster, api_id, vuln.addr)
    job = wait_until(lambda: env.psql_value("SELECT id FROM fuzz_jobs WHERE tenant_id = %s",
                                            [tenant]), timeout=20, message="auto job queued")
    status, error = wait_job(env, job)
    assert (status, error) == ("done", None)
    assert env.psql_value("SELECT base_url FROM fuzz_jobs WHERE id = %s", [job]) == vuln.url
    observed, final = job_messages(env, job)
    by_id = {f["rule_id"]: f for f in observed}
    assert by_id["API2-AUTH-001"]["object"]["path"] == "/api/v2/stats"
    assert by_id["API2-AUTH-001"]["evidence"]["confidence"] == "medium"
    assert set(by_id) == {"API2-AUTH-001", "API4-RES-001", "API8-MISC-001", "API8-MISC-002",
                          "API8-MISC-005", "API9-INV-002"}
    assert final is not None and sorted(final["fingerprints"]) == sorted(
        f["fingerprint"] for f in observed)

    # third-party hosts the cluster calls (class outbound) are never tested automatically
    outbound = env.psql_value(
        "INSERT INTO api_endpoints (tenant_id, cluster_id, service, host, class, method,"
        " path_template, scheme) VALUES (%s, %s, 'api.stripe.com', 'api.stripe.com', 'outbound',"
        " 'POST', '/v1/charges', 'https') RETURNING id", [tenant, cluster])
    api_event(env, tenant, cluster, outbound, "api.stripe.com")
    fuzzer.wait_log(lambda r: r.get("msg", "").startswith("api.endpoint: no automatic job")
                    and r.get("api_id") == outbound, timeout=30)
    assert env.psql_value("SELECT count(*) FROM fuzz_jobs WHERE tenant_id = %s", [tenant]) == "1"


def test_fuzz_settings_are_tenant_isolated_for_the_portal(env, start_service):
    if env.psql_value("SELECT to_regclass('fuzz_settings')") is None:
        start_service("fuzzer").stop()  # applies the migrations
    a = env.psql_value("INSERT INTO tenants (name) VALUES ('iso-a') RETURNING id")
    b = env.psql_value("INSERT INTO tenants (name) VALUES ('iso-b') RETURNING id")
    env.psql("INSERT INTO fuzz_settings (tenant_id, auto) VALUES (%s, true)", [b])
    as_portal = ("BEGIN; SET LOCAL ROLE vigil_portal;"
                 " SELECT set_config('vigil.tenant_id', %s, true);")
    rows = env.psql(as_portal + " INSERT INTO fuzz_settings (tenant_id, auto) VALUES (%s, true);"
                    " SELECT 'row:' || tenant_id FROM fuzz_settings; COMMIT;", [a, a])
    seen = [r[0][4:] for r in rows if r and r[0] and r[0].startswith("row:")]
    assert seen == [a]  # b's row is invisible to tenant a
    with pytest.raises(Exception):
        env.psql(as_portal + " INSERT INTO fuzz_settings (tenant_id) VALUES (%s); COMMIT;",
                 [a, b])
    with pytest.raises(Exception):
        env.psql(as_portal + " DELETE FROM fuzz_job_findings; COMMIT;", [a])
    assert env.psql_value("SELECT auto FROM fuzz_settings WHERE tenant_id = %s", [a]) == "t"
