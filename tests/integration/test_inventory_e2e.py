"""End to end: the ingest collector lists the posture fixture cluster from the stand-in
Kubernetes API (tests/fixtures/posture/ served by tests/fixtures/kubeapi/server.py), publishes
the snapshot to the real broker, and the inventory applies it: the workloads and the exact set
of posture findings are the same as when the fixture is fed to the inventory directly."""
import subprocess
import tempfile
import uuid

import pytest

from conftest import BIN_DIR, REPO, wait_until
from kubeapi import SCOPED_TOKEN, KubeApi
from test_inventory_posture import EXPECTED

DATA = REPO / "tests" / "fixtures" / "posture"


def seal(key_b64, aad, plaintext):
    """The cluster token sealed as the portal seals it (bin/fixture-ingestseal)."""
    out = subprocess.run([str(BIN_DIR / "fixture-ingestseal"), key_b64, aad, plaintext],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def world(env, start_service):
    workdir = tempfile.mkdtemp(prefix="vigil-posture-kubeapi-")
    api = KubeApi(str(DATA), workdir)
    start_service("inventory")
    tenant = env.psql_value("INSERT INTO tenants (name) VALUES ('posture e2e') RETURNING id")
    cluster = str(uuid.uuid4())
    sealed = seal(env.vars["VIGIL_MASTER_KEY"], f"{tenant}/{cluster}", SCOPED_TOKEN)
    env.psql("INSERT INTO clusters (id, tenant_id, name, server, ca_cert, credential, key_id, "
             "ingest_token_prefix, ingest_token_hash) VALUES (%s, %s, 'posture', %s, %s, %s, "
             "%s, 'vgi_pos', %s)",
             (cluster, tenant, api.url, api.ca_pem, sealed, sealed.split(":")[1],
              uuid.uuid4().hex))
    start_service("ingest", {"VIGIL_COLLECT_PAGE_SIZE": "4", "VIGIL_COLLECT_INTERVAL": "3600"})
    yield {"tenant": tenant, "cluster": cluster}
    api.stop()


def test_collector_snapshot_gives_the_fixture_findings(env, world):
    cluster = world["cluster"]
    wait_until(lambda: env.psql_value("SELECT status FROM inventory_snapshots WHERE "
                                      "cluster_id = %s", [cluster]) == "applied", timeout=90,
               message="the collector's snapshot applied by the inventory")
    scope = env.consume("vigil.findings", 1, 20, key=cluster,
                        match=lambda m: m["value"]["type"] == "finding.scope"
                        and m["value"]["data"]["scope"] == "posture")
    assert len(scope) == 1
    observed = [m["value"]["data"] for m in env.consume("vigil.findings", 1, 5, key=cluster)
                if m["value"]["type"] == "finding.observed"
                and m["value"]["data"]["source"] == "posture"]
    got = {(d["rule_id"], d["object"]["kind"], d["object"]["namespace"], d["object"]["name"],
            d["field"]) for d in observed}
    assert got == EXPECTED
    assert len(observed) == len(EXPECTED)
    assert set(scope[0]["value"]["data"]["fingerprints"]) == {d["fingerprint"] for d in observed}
    assert env.psql_value("SELECT count(*) FROM workloads WHERE cluster_id = %s AND status = "
                          "'controlled'", [cluster]) == "8"
    assert env.psql_value("SELECT count(*) FROM workloads WHERE cluster_id = %s AND status = "
                          "'excluded'", [cluster]) == "1"
    # ConfigMap values never reach the model; their keys do
    keys = env.psql_value("SELECT summary->'keys' FROM cluster_objects WHERE cluster_id = %s "
                          "AND kind = 'ConfigMap' AND name = 'web-config'", [cluster])
    assert "DB_PASSWORD" in keys and "hunter2" not in keys
