"""The portal serves what the inventory writes: an endpoint by an id that a later template
merge retired (alias), the service's reconstructed OpenAPI document, and the topology with
third-party hosts and the generated least-privilege AuthorizationPolicies; each under
row-level security (another tenant sees none of it)."""
import json
import uuid

import pytest

PASSWORD = "correct horse battery staple 77"


def signup(env, portal, name):
    r = portal.post("/api/v1/signup", json={"email": env.unique_email(name),
                                            "password": PASSWORD, "organization": name})
    assert r.status_code == 201, r.text
    return r.json()["tenant_id"], {"Authorization": "Bearer " + r.json()["api_key"]}


@pytest.fixture(scope="module")
def world(env, start_service):
    portal = start_service("portal")
    tenant, auth = signup(env, portal, "views")
    _, other = signup(env, portal, "other")
    cluster = env.psql_value(
        "INSERT INTO clusters (tenant_id, name, server, ca_cert, credential, key_id, "
        "ingest_token_prefix, ingest_token_hash) VALUES (%s, 'c', 'https://k', 'ca', 's', 'k', "
        "'vgi_x', %s) RETURNING id", [tenant, uuid.uuid4().hex])
    endpoint = env.psql_value(
        "INSERT INTO api_endpoints (tenant_id, cluster_id, service, host, class, method, "
        "path_template) VALUES (%s, %s, 'users.shop', 'users.shop:8080', 'internal', 'GET', "
        "'/users/{userId}') RETURNING id", [tenant, cluster])
    old = str(uuid.uuid4())
    env.psql("INSERT INTO api_endpoint_aliases (old_id, tenant_id, endpoint_id, path_template) "
             "VALUES (%s, %s, %s, '/users/alice')", [old, tenant, endpoint])
    doc = {"openapi": "3.0.3", "info": {"title": "users.shop", "version": "observed"},
           "paths": {"/users/{userId}": {"get": {"responses": {"200": {"description": "ok"}}}},
                     "/users/me": {"get": {"responses": {"200": {"description": "ok"}}}}}}
    env.psql("INSERT INTO api_openapi_docs (tenant_id, cluster_id, service, document) "
             "VALUES (%s, %s, 'users.shop', %s::jsonb)", [tenant, cluster, json.dumps(doc)])
    env.psql("INSERT INTO api_edges (tenant_id, cluster_id, source, destination, class, calls, "
             "errors) VALUES (%s, %s, 'web.shop', 'users.shop', 'internal', 10, 1)",
             [tenant, cluster])
    env.psql("INSERT INTO api_outbound_hosts (tenant_id, cluster_id, host, callers, plaintext, "
             "calls) VALUES (%s, %s, 'api.stripe.com', ARRAY['payments.shop'], false, 3)",
             [tenant, cluster])
    policy = {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
              "metadata": {"name": "users-observed-callers", "namespace": "shop"}}
    env.psql("INSERT INTO api_policies (tenant_id, cluster_id, service, policy, callers) "
             "VALUES (%s, %s, 'users.shop', %s::jsonb, 1)", [tenant, cluster, json.dumps(policy)])
    return portal, auth, other, endpoint, old


def test_an_alias_id_answers_with_the_endpoint_it_was_merged_into(world):
    portal, auth, other, endpoint, old = world
    r = portal.get(f"/api/v1/apis/{old}", headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == endpoint and r.json()["path_template"] == "/users/{userId}"
    assert portal.get(f"/api/v1/apis/{old}", headers=other).status_code == 404


def test_openapi_json_is_the_services_reconstructed_document(world):
    portal, auth, other, endpoint, _ = world
    r = portal.get(f"/api/v1/apis/{endpoint}/openapi.json", headers=auth)
    assert r.status_code == 200, r.text
    assert set(r.json()["paths"]) == {"/users/{userId}", "/users/me"}
    assert portal.get(f"/api/v1/apis/{endpoint}/openapi.json", headers=other).status_code == 404


def test_topology_has_edges_outbound_hosts_and_policies(world):
    portal, auth, other, _, _ = world
    topo = portal.get("/api/v1/topology", headers=auth).json()
    assert [(e["source"], e["destination"], e["calls"], e["error_rate"]) for e in topo["edges"]] \
        == [("web.shop", "users.shop", 10, 0.1)]
    assert [(h["host"], h["callers"]) for h in topo["outbound_hosts"]] \
        == [("api.stripe.com", ["payments.shop"])]
    assert [(p["service"], p["policy"]["kind"]) for p in topo["policies"]] \
        == [("users.shop", "AuthorizationPolicy")]
    assert portal.get("/api/v1/topology", headers=other).json() == \
        {"nodes": [], "edges": [], "outbound_hosts": [], "policies": []}
