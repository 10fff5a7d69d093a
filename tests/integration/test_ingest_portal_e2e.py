"""The portal -> ingest contract, end to end: a cluster connected through the real portal
(signup, POST /api/v1/clusters against the stand-in Kubernetes API) is synced by the real
ingest (the credential the portal sealed opens, its cluster.sync command or the scheduler runs
the sync), and the ingest token the portal returned authenticates POST /v1/traces."""
import json
import tempfile

import pytest

from conftest import REPO, wait_until
from kubeapi import SCOPED_TOKEN, KubeApi

DATA = REPO / "tests" / "fixtures" / "clusters" / "basic"
RECORD = json.loads((REPO / "tests" / "fixtures" / "traces" / "istio.ndjson")
                    .read_text().splitlines()[0])


@pytest.fixture(scope="module")
def world(env, start_service):
    api = KubeApi(str(DATA), tempfile.mkdtemp(prefix="vigil-kubeapi-"))
    portal = start_service("portal")
    ingest = start_service("ingest", {"VIGIL_COLLECT_INTERVAL": "3600"})
    r = portal.post("/api/v1/signup", json={"email": env.unique_email("e2e"),
                                            "password": "correct horse battery staple",
                                            "organization": "E2E Co"})
    assert r.status_code == 201, r.text
    key = r.json()["api_key"]
    r = portal.post("/api/v1/clusters", headers={"Authorization": f"Bearer {key}"},
                    json={"name": "prod", "server": api.url, "ca_cert": api.ca_pem,
                          "token": SCOPED_TOKEN})
    assert r.status_code == 201, r.text
    yield {"api": api, "ingest": ingest, "cluster": r.json()["cluster_id"],
           "ingest_token": r.json()["ingest_token"]}
    api.stop()


def test_portal_cluster_is_collected(env, world):
    cluster = world["cluster"]
    wait_until(lambda: env.psql_value("SELECT status FROM clusters WHERE id = %s",
                                      (cluster,)) == "ok", 60, 0.5,
               message="cluster synced by ingest")
    done = env.consume("vigil.inventory", 1, 20, key=cluster,
                       match=lambda m: (m["value"] or {}).get("type") == "snapshot.complete")
    assert done and done[0]["value"]["data"]["counts"]["pods"] == 7


def test_portal_ingest_token_accepted(env, world):
    r = world["ingest"].post("/v1/traces", json=[RECORD],
                             headers={"Authorization": f"Bearer {world['ingest_token']}"})
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1
    msgs = env.consume("vigil.traces", 1, 15, key=world["cluster"])
    assert msgs and msgs[0]["value"]["data"]["records"][0]["record"] == RECORD
