"""Fuzzer resume: a fuzzer killed with SIGKILL in the middle of a job leaves it 'running';
the next fuzzer takes it over once the lease expires, skips the check families already done,
finishes it, and no finding is published twice.

The kill lands inside the injection family, after its SQL findings were published and while
the time-based probes run (seconds without any publication), so the resumed run re-detects
findings that were already published (and must not publish them again) and finds new ones."""

import time

import pytest

from conftest import wait_until
from test_fuzzer_helpers import (EXPECTED_ALL, create_job, job_messages, make_tenant,
                                 start_vulnapi, wait_job)


@pytest.fixture(scope="module")
def vuln(start_service):
    return start_vulnapi(start_service, "vulnapi-resume")


def test_killed_fuzzer_job_resumes_without_duplicates(env, start_service, vuln):
    knobs = {"VIGIL_FUZZER_LEASE": "3", "VIGIL_FUZZER_POLL_MS": "300"}
    first = start_service("fuzzer", knobs)
    tenant, cluster = make_tenant(env, vuln)
    job, _ = create_job(env, vuln, tenant, cluster, allow_unsafe_methods=True, rate_limit=100)

    def progressed():
        return env.psql_value("SELECT count(*) FROM fuzz_job_findings WHERE job_id = %s"
                              " AND check_id = 'INJ-SQL-002' AND published", [job]) == "1"
    wait_until(progressed, timeout=90, interval=0.05, message="injection family running")
    time.sleep(0.5)  # inside the 2 s time-based probes
    assert first.kill() == -9
    published = int(env.psql_value("SELECT count(*) FROM fuzz_job_findings WHERE job_id = %s",
                                   [job]))
    done_before = int(env.psql_value("SELECT count(*) FROM fuzz_job_checks WHERE job_id = %s",
                                     [job]))
    assert env.psql_value("SELECT status FROM fuzz_jobs WHERE id = %s", [job]) == "running"
    assert 2 <= done_before < 9
    assert env.psql_value("SELECT count(*) FROM fuzz_job_findings WHERE job_id = %s"
                          " AND NOT published", [job]) == "0"

    second = start_service("fuzzer", knobs)
    status, error = wait_job(env, job)
    assert (status, error) == ("done", None)
    assert env.psql_value("SELECT count(*) FROM fuzz_job_leases WHERE job_id = %s",
                          [job]) == "0"  # the lease is gone once the job is done
    observed, final = job_messages(env, job)
    fps = [f["fingerprint"] for f in observed]
    assert len(fps) == len(set(fps)), "a finding was published twice"
    assert {f["rule_id"] for f in observed} == EXPECTED_ALL
    assert sorted(final["fingerprints"]) == sorted(fps)
    families = env.psql("SELECT family FROM fuzz_job_checks WHERE job_id = %s", [job])
    assert len(families) == 9
    assert len(fps) > published  # the resumed run found the rest
    second.wait_log(lambda r: r.get("msg") == "job started" and r.get("job_id") == job)
    # families done before the kill were skipped: their checks ran only once
    assert sum(1 for r in second.log_records() if r.get("msg") == "check family done"
               and r.get("job_id") == job) == 9 - done_before
