"""Fuzzer end to end: the real fuzzer, PostgreSQL and Kafka against fixture-vulnapi.
The vulnerable build yields exactly the expected set of check ids; the fixed build yields no
finding at all (false positives are defects)."""

import json

import pytest

from test_fuzzer_helpers import (EXPECTED_ALL, create_job, job_messages, make_tenant,
                                 start_vulnapi, vulnapi_requests, wait_job)


@pytest.fixture(scope="module")
def fuzzer(start_service):
    return start_service("fuzzer", {"VIGIL_FUZZER_POLL_MS": "500"})


@pytest.fixture(scope="module")
def vuln(start_service):
    return start_vulnapi(start_service, "vulnapi")


@pytest.fixture(scope="module")
def fixed(start_service):
    return start_vulnapi(start_service, "vulnapi-fixed", fixed=True)


def test_vulnerable_build_yields_every_expected_check(env, fuzzer, vuln):
    tenant, cluster = make_tenant(env, vuln)
    job, tokens = create_job(env, vuln, tenant, cluster, allow_unsafe_methods=True,
                             rate_limit=200)
    status, error = wait_job(env, job)
    assert (status, error) == ("done", None)
    observed, final = job_messages(env, job)
    ids = sorted(f["rule_id"] for f in observed)
    missing, extra = EXPECTED_ALL - set(ids), set(ids) - EXPECTED_ALL
    assert set(ids) == EXPECTED_ALL, f"missing {missing}, extra {extra}"
    fps = [f["fingerprint"] for f in observed]
    assert len(fps) == len(set(fps)), "a finding was published twice"
    assert final is not None and sorted(final["fingerprints"]) == sorted(fps)
    assert int(env.psql_value("SELECT findings FROM fuzz_jobs WHERE id = %s", [job])) == len(fps)
    text = json.dumps(observed)
    for tok in tokens:  # identities' credentials never leave the fuzzer
        assert tok not in text and tok.split(".")[2] not in text
    for f in observed:
        ev = f["evidence"]
        assert f["source"] == "fuzzer" and f["scope"] == f"fuzz:{job}"
        assert ev["confidence"] in ("high", "medium", "low") and ev["proof"]
        assert ev["curl"].startswith("curl ") and f["refs"]["owasp"].endswith(":2023")
        assert f["object"]["host"] == vuln.addr
    # with allow_unsafe_methods the mass-assignment probe did send PATCH
    assert any(r["method"] == "PATCH" for r in vulnapi_requests(vuln))


def test_fixed_build_yields_no_finding(env, fuzzer, fixed):
    tenant, cluster = make_tenant(env, fixed)
    job, _ = create_job(env, fixed, tenant, cluster, allow_unsafe_methods=True, rate_limit=200)
    status, error = wait_job(env, job)
    assert (status, error) == ("done", None)
    observed, final = job_messages(env, job)
    assert [f["rule_id"] for f in observed] == []
    assert final is not None and final["fingerprints"] == []
    progress = json.loads(env.psql_value("SELECT progress::text FROM fuzz_jobs WHERE id = %s",
                                         [job]))
    assert progress["done"] == progress["total"] == 9
    assert progress["requests"] > 100
