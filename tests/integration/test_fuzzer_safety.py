"""Fuzzer safety: unsafe methods are never sent unless the job allows them, the job's rate
limit holds (measured from the target's own request log), and a private target is refused
without VIGIL_ALLOW_PRIVATE_TARGETS=1."""

import json
import time

import pytest

from test_fuzzer_helpers import (create_job, login, make_tenant, start_vulnapi,
                                 vulnapi_requests, wait_job)


@pytest.fixture(scope="module")
def vuln(start_service):
    return start_vulnapi(start_service, "vulnapi-safety")


def max_per_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_unsafe_methods_not_sent_and_rate_limit_holds(env, start_service, vuln):
    fuzzer = start_service("fuzzer", {"VIGIL_FUZZER_POLL_MS": "300"})
    tenant, cluster = make_tenant(env, vuln)
    tokens = [login(vuln, u) for u in ("alice", "bob", "admin")]
    mark = time.time()
    job, _ = create_job(env, vuln, tenant, cluster, tokens=tokens, rate_limit=20,
                        categories=["API2", "API3", "API4", "API9"])
    status, error = wait_job(env, job)
    assert (status, error) == ("done", None)
    fuzzer.stop()
    sent = [r for r in vulnapi_requests(vuln) if r["t"] >= mark]
    methods = {r["method"] for r in sent}
    assert not methods & {"PUT", "PATCH", "DELETE"}, methods
    posts = {r["path"] for r in sent if r["method"] == "POST"}
    assert posts <= {"/api/v2/login", "/api/v2/orders"}, posts
    assert len(sent) >= 80, "too few requests to measure a rate"
    peak = max_per_window([r["t"] for r in sent])
    assert peak <= 22, f"{peak} requests within one second with rate_limit=20"
    span = max(r["t"] for r in sent) - min(r["t"] for r in sent)
    assert len(sent) / span <= 21.0


def test_private_target_refused_without_dev_flag(env, start_service, vuln):
    fuzzer = start_service("fuzzer", {"VIGIL_ALLOW_PRIVATE_TARGETS": "0",
                                      "VIGIL_FUZZER_POLL_MS": "300"})
    tenant, cluster = make_tenant(env, vuln)
    tokens = [login(vuln, "alice")]
    mark = time.time()
    job, _ = create_job(env, vuln, tenant, cluster, users=("alice",), tokens=tokens)
    status, error = wait_job(env, job, timeout=30)
    assert status == "failed"
    assert error.startswith("target refused:") and "127.0.0.1" in error, error
    assert [r for r in vulnapi_requests(vuln) if r["t"] >= mark] == []
    fuzzer.stop()


def test_time_budget_ends_the_job_early(env, start_service, vuln):
    fuzzer = start_service("fuzzer", {"VIGIL_FUZZER_POLL_MS": "300"})
    tenant, cluster = make_tenant(env, vuln)
    job, _ = create_job(env, vuln, tenant, cluster, users=("alice", "bob"), rate_limit=5,
                        time_budget_s=2)
    status, error = wait_job(env, job, timeout=30)
    assert (status, error) == ("done", None)
    progress = json.loads(env.psql_value("SELECT progress::text FROM fuzz_jobs WHERE id = %s",
                                         [job]))
    assert progress["truncated"] is True
    assert progress.get("done", 0) < 9
    started, finished = env.psql("SELECT extract(epoch FROM started_at),"
                                 " extract(epoch FROM finished_at) FROM fuzz_jobs WHERE id = %s",
                                 [job])[0]
    assert float(finished) - float(started) < 15
    fuzzer.stop()
