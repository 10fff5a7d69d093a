"""Foundation (issue 2), message paths through the real broker: a message produced by one
service is consumed by another; a consumer killed after its database commit but before its
offset was stored gets the message again and the idempotent handler leaves one row; a poison
message ends in vigil.dlq with its reason while the following messages are processed."""
import hashlib
import json
import signal
import time
import uuid
from datetime import datetime, timezone

import pytest

from conftest import wait_until


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.fixture(scope="module")
def tenant(env):
    env.vigilctl("migrate")
    tid, cid = str(uuid.uuid4()), str(uuid.uuid4())
    env.psql("INSERT INTO tenants (id, name) VALUES (%s, 'messaging')", [tid])
    env.psql("INSERT INTO clusters (id, tenant_id, name, server, ca_cert, credential, key_id, "
             "ingest_token_prefix, ingest_token_hash) VALUES (%s, %s, 'c1', 'https://k', 'ca', "
             "'sealed', 'k', 'vgi_x', %s)", [cid, tid, uuid.uuid4().hex])
    return tid, cid


def finding(tenant, rule, title="Privileged container"):
    tid, cid = tenant
    fp = hashlib.sha256(f"{tid}|{cid}|{rule}|uid-1|spec".encode()).hexdigest()
    return fp, {
        "v": 1, "id": str(uuid.uuid4()), "type": "finding.observed", "tenant_id": tid,
        "cluster_id": cid, "ts": now(),
        "data": {"fingerprint": fp, "source": "posture", "scope": "posture", "rule_id": rule,
                 "title": title, "severity": "high", "category": "workload",
                 "object": {"kind": "Deployment", "namespace": "shop", "name": "web",
                            "uid": "uid-1"},
                 "field": "spec", "evidence": {"privileged": True},
                 "remediation": "Set privileged: false", "refs": {}, "detected_at": now()}}


def rows(env, fp):
    return env.psql("SELECT status, occurrences FROM findings WHERE fingerprint = %s", [fp])


def test_poison_message_goes_to_dlq_and_the_next_one_is_processed(env, start_service, tenant):
    report = start_service("report")
    env.produce("vigil.findings", "this is not an envelope {", key=tenant[1])
    fp, msg = finding(tenant, "VGL-TEST-001")
    env.produce("vigil.findings", msg, key=tenant[1])
    wait_until(lambda: rows(env, fp), timeout=30, message="the good finding never landed")
    dead = env.consume("vigil.dlq", 1, timeout=20,
                       match=lambda m: m["value"] and m["value"]["data"].get("payload")
                       == "this is not an envelope {")
    assert len(dead) == 1
    data = dead[0]["value"]["data"]
    assert data["reason"].startswith("invalid envelope")
    assert data["topic"] == env.topic("vigil.findings")
    assert report.running
    # leave the consumer group to the next test's instance alone
    assert report.stop() == 0


def test_sigkill_after_commit_redelivers_and_leaves_exactly_one_row(env, start_service, tenant):
    crashing = start_service("report", {"VIGIL_TEST_CRASH_AFTER_COMMIT": "finding.observed"})
    fp, msg = finding(tenant, "VGL-TEST-002")
    env.produce("vigil.findings", msg, key=tenant[1])
    assert crashing.wait(timeout=30) == -signal.SIGKILL
    assert rows(env, fp) == [("open", "1")]          # the transaction had committed
    again = start_service("report")
    wait_until(lambda: (again.metric("vigil_kafka_messages_consumed_total",
                                     topic=env.topic("vigil.findings")) or 0) >= 1,
               timeout=30, message="the message was not redelivered after the crash")
    time.sleep(1)
    assert rows(env, fp) == [("open", "1")]          # redelivered, and still exactly one row


def test_vigilctl_lists_and_replays_dead_letters(env, tenant):
    listed = env.vigilctl("dlq", "list").stdout
    assert "invalid envelope" in listed
    where = listed.split()[0]
    replay = env.vigilctl("dlq", "replay", where, check=False)
    assert replay.returncode == 0, replay.stderr
    assert env.topic("vigil.findings") in replay.stdout
