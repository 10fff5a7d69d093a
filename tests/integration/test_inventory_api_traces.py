"""API inventory (issue 6) through the real broker and database: trace.batch messages are
produced with kcat to vigil.traces and vigil-inventory learns endpoints, edges, outbound hosts,
policies and OpenAPI documents; redelivery is idempotent; uploaded specs give shadow and zombie
endpoints; the reconstructed documents are valid OpenAPI 3.0."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "traffic"))
import traffic  # noqa: E402

SPECS = Path(__file__).resolve().parents[1] / "fixtures" / "apispecs"
SHOP = "outbound|8080||shop.shop.svc.cluster.local"
BANK = "outbound|443||bank.payments.svc.cluster.local"


@pytest.fixture(scope="module")
def inv(env, start_service):
    svc = start_service("inventory")
    tenant = env.psql_value("INSERT INTO tenants (name) VALUES ('api co') RETURNING id")
    cluster = env.psql_value(
        "INSERT INTO clusters (tenant_id, name, server, ca_cert, credential, key_id, "
        "ingest_token_prefix, ingest_token_hash) VALUES (%s, 'prod', 'https://127.0.0.1:1', "
        "'x', 'x', 'x', 'vgi_test', %s) RETURNING id", (tenant, uuid.uuid4().hex))
    return {"svc": svc, "tenant": tenant, "cluster": cluster}


def send(env, inv, records, envelope_id=None):
    """Produces one trace.batch and waits until the inventory applied it."""
    msg = traffic.batch(inv["tenant"], inv["cluster"], records, envelope_id)
    env.produce("vigil.traces", msg, key=inv["cluster"])
    wait_until(lambda: env.psql_value(
        "SELECT 1 FROM api_processed_batches WHERE envelope_id = %s", (msg["id"],)),
        timeout=30, message="batch not applied")
    return msg


def endpoints(env, inv, service):
    return {(r[0], r[1]): r for r in env.psql(
        "SELECT method, path_template, request_count, status_codes::text, class, id, shadow, "
        "zombie, auth, sensitive::text FROM api_endpoints WHERE cluster_id = %s AND service = %s",
        (inv["cluster"], service))}


def shop_records(n=40):
    recs = []
    for i in range(n):
        oid = str(uuid.UUID(int=(i * 7919) << 64 | i))
        recs.append(("envoy", traffic.envoy("GET", f"/api/v1/orders/{oid}", "shop:8080", SHOP)))
        recs.append(("envoy", traffic.envoy("GET", f"/api/v1/users/{1000 + i}/addresses",
                                            "shop:8080", SHOP, duration=30)))
        recs.append(("envoy", traffic.envoy("GET", "/api/v1/users/me", "shop:8080", SHOP,
                                            xff="81.2.69.142", status=200 if i % 5 else 503)))
    return recs


def state(env, inv):
    eps = env.psql("SELECT service, method, path_template, request_count, status_codes::text, "
                   "schema::text, sensitive::text FROM api_endpoints WHERE cluster_id = %s "
                   "ORDER BY 1, 2, 3", (inv["cluster"],))
    edges = env.psql("SELECT source, destination, calls, errors, latency_hist::text, "
                     "latency_ms::text FROM api_edges WHERE cluster_id = %s ORDER BY 1, 2",
                     (inv["cluster"],))
    counters = env.psql("SELECT accepted, rejected, dropped_uncontrolled FROM "
                        "api_trace_counters WHERE cluster_id = %s", (inv["cluster"],))
    return eps, edges, counters


def test_learns_endpoints_and_redelivery_changes_nothing(env, inv):
    msg = send(env, inv, shop_records() + [("envoy", {"method": "GET"})])
    eps = endpoints(env, inv, "shop.shop")
    assert set(eps) == {("GET", "/api/v1/orders/{orderId}"),
                        ("GET", "/api/v1/users/{userId}/addresses"), ("GET", "/api/v1/users/me")}
    me = eps[("GET", "/api/v1/users/me")]
    assert me[2] == "40" and json.loads(me[3]) == {"200": 32, "503": 8} and me[4] == "external"
    assert eps[("GET", "/api/v1/orders/{orderId}")][4] == "internal"
    edge = env.psql("SELECT calls, errors, latency_ms::text FROM api_edges WHERE cluster_id = %s "
                    "AND source = 'external' AND destination = 'shop.shop'", (inv["cluster"],))
    assert edge and edge[0][0] == "40" and edge[0][1] == "8"
    assert json.loads(edge[0][2])["p50"] == 10
    before = state(env, inv)
    assert before[2] == [("120", "1", "0")]
    events = env.consume("vigil.api-events", count=3, timeout=20,
                         match=lambda m: (m["value"] or {}).get("data", {}).get("service")
                         == "shop.shop")
    assert len(events) == 3
    # the same envelope again (a redelivery), then a marker batch on the same key/partition
    env.produce("vigil.traces", msg, key=inv["cluster"])
    send(env, inv, [("envoy", traffic.envoy("GET", "/healthz", "probe:8080",
                                            "outbound|8080||probe.ops.svc.cluster.local"))])
    after = state(env, inv)
    assert [e for e in after[0] if e[0] == "shop.shop"] == before[0]
    assert [e for e in after[1] if e[1] == "shop.shop"] == before[1]
    assert after[2] == [("121", "1", "0")]
    assert inv["svc"].metric("vigil_inventory_api_duplicate_batches_total") == 1
    again = env.consume("vigil.api-events", count=4, timeout=3,
                        match=lambda m: (m["value"] or {}).get("data", {}).get("service")
                        == "shop.shop")
    assert len(again) == 3


def test_merge_repoints_and_keeps_ids(env, inv):
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
             "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor",
             "walter", "xena", "yolanda", "zoe", "arthur", "bella", "cyril", "dora", "edgar"]
    cl = "outbound|8080||people.crm.svc.cluster.local"
    send(env, inv, [("envoy", traffic.envoy("GET", f"/people/{n}/notes", "people:8080", cl))
                    for n in names[:5]])
    first = endpoints(env, inv, "people.crm")
    assert ("GET", "/people/alice/notes") in first
    alice_id = first[("GET", "/people/alice/notes")][5]
    send(env, inv, [("envoy", traffic.envoy("GET", f"/people/{n}/notes", "people:8080", cl))
                    for n in names[5:]] + [("envoy", traffic.envoy("GET", "/people/search",
                                                                   "people:8080", cl))])
    eps = endpoints(env, inv, "people.crm")
    assert set(eps) == {("GET", "/people/{peopleId}/notes"), ("GET", "/people/search")}
    assert eps[("GET", "/people/{peopleId}/notes")][2] == str(len(names))
    # one earlier row kept its id; the others point to it through aliases
    merged_id = eps[("GET", "/people/{peopleId}/notes")][5]
    alias = env.psql_value("SELECT endpoint_id FROM api_endpoint_aliases WHERE old_id = %s",
                           (alice_id,))
    assert merged_id == alice_id or alias == merged_id
    assert env.psql_value("SELECT count(*) FROM api_endpoint_aliases WHERE endpoint_id = %s",
                          (merged_id,)) == "4"
    # (the first batch wrote 5 rows: one renamed, four folded; the second batch's literal
    # names were re-pointed in memory before they reached the database)
    # the merged endpoint was announced to the fuzzer
    events = env.consume("vigil.api-events", count=1, timeout=20,
                         match=lambda m: (m["value"] or {}).get("data", {}).get("path_template")
                         == "/people/{peopleId}/notes")
    assert events and events[-1]["value"]["data"]["api_id"] == merged_id


def upload_spec(env, inv, name, service, hosts):
    doc = (SPECS / name).read_text()
    return env.psql_value(
        "INSERT INTO api_specs (tenant_id, cluster_id, service, hosts, title, version, document) "
        "VALUES (%s, %s, %s, %s::text[], 'Bank API', '1.4.0', %s::jsonb) RETURNING id",
        (inv["tenant"], inv["cluster"], service, "{" + ",".join(hosts) + "}", doc))


def test_shadow_and_zombie_against_uploaded_spec(env, inv):
    spec_id = upload_spec(env, inv, "bank.json", None, ["bank.payments.svc.cluster.local"])
    acc = "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e"
    recs = []
    for i in range(3):
        recs.append(("envoy", traffic.envoy("GET", f"/v2/accounts/{acc}/balance",
                                            "bank.payments.svc.cluster.local", BANK)))
        recs.append(("envoy", traffic.envoy("POST", "/v1/transfers",
                                            "bank.payments.svc.cluster.local", BANK)))
        recs.append(("envoy", traffic.envoy("GET", f"/v1/transfers/{4400 + i}",
                                            "bank.payments.svc.cluster.local", BANK)))
        recs.append(("envoy", traffic.envoy("GET", "/v2/debug/vars",
                                            "bank.payments.svc.cluster.local", BANK)))
    send(env, inv, recs)
    eps = endpoints(env, inv, "bank.payments")
    flags = {k: (v[6], v[7]) for k, v in eps.items()}
    assert flags == {("GET", "/v2/accounts/{accountId}/balance"): ("f", "f"),
                     ("POST", "/v1/transfers"): ("f", "t"),
                     ("GET", "/v1/transfers/{transferId}"): ("f", "t"),
                     ("GET", "/v2/debug/vars"): ("t", "f")}
    op = env.psql_value("SELECT spec_operation FROM api_endpoints WHERE service = 'bank.payments'"
                        " AND path_template = '/v1/transfers'")
    assert op == "legacyTransfer"
    found = env.consume("vigil.findings", count=3, timeout=20,
                        match=lambda m: (m["value"] or {}).get("data", {}).get("rule_id")
                        in ("VGL-API-001", "VGL-API-002"))
    rules = sorted((f["value"]["data"]["rule_id"], f["value"]["data"]["object"]["path"])
                   for f in found)
    assert rules == [("VGL-API-001", "/v2/debug/vars"), ("VGL-API-002", "/v1/transfers"),
                     ("VGL-API-002", "/v1/transfers/{transferId}")]
    assert all(f["value"]["data"]["evidence"]["spec_id"] == spec_id for f in found)


def latest_scope(env, inv, count):
    msgs = env.consume("vigil.findings", count=count, timeout=20,
                       match=lambda m: (m["value"] or {}).get("type") == "finding.scope"
                       and m["value"].get("cluster_id") == inv["cluster"])
    assert len(msgs) >= count
    return msgs[-1]["value"]["data"], len(msgs)


def test_scope_resolves_shadow_once_the_spec_lists_it(env, inv):
    shadow = env.consume("vigil.findings", count=1, timeout=20,
                         match=lambda m: (m["value"] or {}).get("data", {}).get("rule_id")
                         == "VGL-API-001")[0]["value"]["data"]["fingerprint"]
    data, seen = latest_scope(env, inv, 1)
    assert data["scope"] == "api" and shadow in data["fingerprints"]
    # a newer version of the spec documents the debug endpoint
    doc = json.loads((SPECS / "bank.json").read_text())
    doc["info"]["version"] = "1.5.0"
    doc["paths"]["/v2/debug/vars"] = {"get": {"operationId": "debugVars",
                                              "responses": {"200": {"description": "OK"}}}}
    env.psql("INSERT INTO api_specs (tenant_id, cluster_id, hosts, document, uploaded_at) VALUES "
             "(%s, %s, '{bank.payments.svc.cluster.local}', %s::jsonb, now() + interval '1 s')",
             (inv["tenant"], inv["cluster"], json.dumps(doc)))
    send(env, inv, [("envoy", traffic.envoy("GET", "/v2/debug/vars",
                                            "bank.payments.svc.cluster.local", BANK))])
    assert env.psql_value("SELECT shadow FROM api_endpoints WHERE service = 'bank.payments' AND "
                          "path_template = '/v2/debug/vars'") == "f"
    data, _ = latest_scope(env, inv, seen + 1)
    assert shadow not in data["fingerprints"]
    zombie = env.psql_value("SELECT count(*) FROM api_endpoints WHERE service = 'bank.payments' "
                            "AND zombie")
    assert zombie == "2"


def test_apiclarity_schemas_auth_and_sensitive_data(env, inv):
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLXNpZw"
    recs = []
    for i in range(4):
        recs.append(("apiclarity", traffic.apiclarity(
            "GET", f"/v1/customers/{500 + i}?since=2024-01-0{i + 1}", "crm:8080", "sales",
            headers={"Authorization": f"Bearer {jwt}", "X-Tenant": f"acme-{i}"},
            response={"id": 500 + i, "email": f"c{i}@example.com", "created": "2024-01-02T03:04:05Z",
                      "card": "4111 1111 1111 1111", "tags": ["vip"]})))
        recs.append(("apiclarity", traffic.apiclarity(
            "POST", "/v1/customers", "crm:8080", "sales",
            body={"name": "Ann", "email": "ann@example.com", "ip": "192.0.2.4"},
            response={"id": 9}, status=201)))
        recs.append(("apiclarity", traffic.apiclarity(
            "GET", f"/v1/lookup?email=bob{i}%40example.com", "crm:8080", "sales",
            response={"ok": True})))
    send(env, inv, recs)
    rows = {(r[0], r[1]): r for r in env.psql(
        "SELECT method, path_template, auth, schema::text, sensitive::text FROM api_endpoints "
        "WHERE service = 'crm.sales'")}
    get = rows[("GET", "/v1/customers/{customerId}")]
    assert get[2] == "jwt"
    schema = json.loads(get[3])
    assert schema["query"]["since"] == {"type": "string", "format": "date"}
    body = schema["responses"]["200"]["properties"]
    assert body["email"]["format"] == "email" and body["created"]["format"] == "date-time"
    assert body["id"]["type"] == "integer" and body["tags"]["items"]["type"] == "string"
    assert "x-tenant" in schema["headers"]
    assert {"kind": "card", "where": "response"} in json.loads(get[4])
    post = rows[("POST", "/v1/customers")]
    assert post[2] == "none"
    req = json.loads(post[3])["request_body"]["properties"]
    assert req["ip"]["format"] == "ipv4" and req["email"]["format"] == "email"
    assert {"kind": "email", "where": "query"} in json.loads(rows[("GET", "/v1/lookup")][4])
    found = env.consume("vigil.findings", count=3, timeout=20,
                        match=lambda m: (m["value"] or {}).get("data", {}).get("object", {})
                        .get("service") == "crm.sales")
    got = {(f["value"]["data"]["rule_id"], f["value"]["data"]["object"]["path"]) for f in found}
    assert ("VGL-API-006", "/v1/customers/{customerId}") in got
    assert ("VGL-API-003", "/v1/customers") in got
    assert ("VGL-API-005", "/v1/lookup") in got


def test_outbound_hosts_policy_and_uncontrolled_drop(env, inv):
    t, c = inv["tenant"], inv["cluster"]
    env.psql("INSERT INTO workloads (tenant_id, cluster_id, uid, kind, namespace, name, status, "
             "service_account) VALUES (%s, %s, 'w-pay', 'Deployment', 'shop', 'payments', "
             "'controlled', 'payments-sa'), (%s, %s, 'w-mine', 'Deployment', 'lab', 'miner', "
             "'uncontrolled', 'default')", (t, c, t, c))
    env.psql("INSERT INTO cluster_objects (tenant_id, cluster_id, kind, uid, namespace, name, "
             "workload_uid, summary, snapshot_id) VALUES (%s, %s, 'Pod', 'p1', 'shop', "
             "'payments-7d9f', 'w-pay', '{\"pod_ip\": \"10.244.3.3\", \"service_account\": "
             "\"payments-sa\"}', 's1'), (%s, %s, 'Pod', 'p2', 'lab', 'miner-1', 'w-mine', "
             "'{\"pod_ip\": \"10.244.9.9\", \"service_account\": \"default\"}', 's1'), "
             "(%s, %s, 'Pod', 'p3', 'istio-system', 'istio-ingressgateway-5f7', NULL, "
             "'{\"pod_ip\": \"10.244.0.5\"}', 's1')", (t, c, t, c, t, c))
    recs = [("envoy", traffic.envoy(None, None, None, "PassthroughCluster", sni="api.stripe.com",
                                    src="10.244.3.3", upstream_host="54.187.174.169:443")),
            ("envoy", traffic.envoy(None, None, None, "outbound|443||api.stripe.com",
                                    src="10.244.1.50", upstream_host="54.187.174.169:443")),
            ("envoy", traffic.envoy("GET", "/v1/rates", "rates.example.org", "PassthroughCluster",
                                    src="10.244.3.3", upstream_host="93.184.216.34:80")),
            ("envoy", traffic.envoy("GET", "/api/v1/orders/77", "shop:8080", SHOP,
                                    src="10.244.3.3")),
            ("envoy", traffic.envoy("GET", "/mine", "pool.example.net", "PassthroughCluster",
                                    src="10.244.9.9", upstream_host="93.184.216.35:80")),
            ("envoy", traffic.envoy("GET", "/api/v1/cart", "shop:8080", SHOP, src="10.244.0.5")),
            ("envoy", dict(traffic.envoy("POST", "/charge", "pay.example.com", "inbound|8443||",
                                         src="81.2.69.142", upstream_host="127.0.0.6:8443"),
                           downstream_local_address="10.244.3.3:8443"))]
    send(env, inv, recs)
    hosts = {r[0]: r for r in env.psql("SELECT host, callers::text, plaintext FROM "
                                       "api_outbound_hosts WHERE cluster_id = %s", (c,))}
    assert hosts["api.stripe.com"][1] == "{10.244.1.50,payments.shop}"
    assert hosts["rates.example.org"][2] == "t" and hosts["api.stripe.com"][2] == "f"
    assert "pool.example.net" not in hosts
    # logged by the payments pod's own sidecar: attributed to it through the model
    assert env.psql("SELECT service, class FROM api_endpoints WHERE cluster_id = %s AND "
                    "path_template = '/charge'", (c,)) == [("payments.shop", "external")]
    # a call from the ingress gateway's pod came from outside the cluster
    assert env.psql_value("SELECT class FROM api_endpoints WHERE cluster_id = %s AND "
                          "path_template = '/api/v1/cart'", (c,)) == "external"
    assert env.psql_value("SELECT dropped_uncontrolled FROM api_trace_counters WHERE "
                          "cluster_id = %s", (c,)) == "1"
    policy = json.loads(env.psql_value("SELECT policy::text FROM api_policies WHERE service = "
                                       "'shop.shop' AND cluster_id = %s", (c,)))
    assert policy["kind"] == "AuthorizationPolicy" and policy["spec"]["action"] == "ALLOW"
    assert policy["metadata"]["namespace"] == "shop"
    principals = [p for r in policy["spec"]["rules"] for f in r["from"]
                  for p in f["source"].get("principals", [])]
    assert "cluster.local/ns/shop/sa/payments-sa" in principals
    assert "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account" in principals
    found = env.consume("vigil.findings", count=2, timeout=20,
                        match=lambda m: (m["value"] or {}).get("data", {}).get("rule_id")
                        in ("VGL-API-007", "VGL-API-008"))
    by = {(f["value"]["data"]["rule_id"], f["value"]["data"]["object"]["host"]):
          f["value"]["data"] for f in found}
    assert ("VGL-API-008", "rates.example.org") in by
    assert by[("VGL-API-007", "api.stripe.com")]["evidence"]["callers"] == \
        ["10.244.1.50", "payments.shop"]


# ---- OpenAPI 3.0 validity of the reconstructed documents ----

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def resolve(doc, ref):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def check_refs(doc, node):
    if isinstance(node, dict):
        if "$ref" in node:
            resolve(doc, node["$ref"])
        for v in node.values():
            check_refs(doc, v)
    elif isinstance(node, list):
        for v in node:
            check_refs(doc, v)


def validate_structure(doc):
    assert doc["openapi"].startswith("3.0.")
    assert isinstance(doc["info"]["title"], str) and isinstance(doc["info"]["version"], str)
    assert isinstance(doc["paths"], dict)
    op_ids = set()
    schemes = doc.get("components", {}).get("securitySchemes", {})
    shapes = set()
    for path, item in doc["paths"].items():
        assert path.startswith("/")
        shape = "/".join("{}" if s.startswith("{") else s for s in path.split("/"))
        assert shape not in shapes, f"ambiguous templated paths: {path}"
        shapes.add(shape)
        names = [s[1:-1] for s in path.split("/") if s.startswith("{") and s.endswith("}")]
        assert len(names) == len(set(names))
        for method, op in item.items():
            assert method in METHODS
            assert op["operationId"] not in op_ids
            op_ids.add(op["operationId"])
            params = op.get("parameters", [])
            declared = [p["name"] for p in params if p["in"] == "path"]
            assert sorted(declared) == sorted(names), (path, declared)
            assert all(p["required"] is True for p in params if p["in"] == "path")
            assert len({(p["name"], p["in"]) for p in params}) == len(params)
            assert all(p["in"] in ("query", "header", "path", "cookie") and "schema" in p
                       for p in params)
            assert op["responses"]
            for code, resp in op["responses"].items():
                assert code == "default" or (len(code) == 3 and code.isdigit())
                assert "description" in resp
            for req in op.get("security", []):
                assert all(name in schemes for name in req)
    check_refs(doc, doc)


def external_validator():
    """A python with openapi-spec-validator, if this machine has one."""
    for exe in (sys.executable, shutil.which("python3"), shutil.which("python3.11")):
        if exe and subprocess.run([exe, "-c", "import openapi_spec_validator"],
                                  capture_output=True).returncode == 0:
            return exe
    return None


def test_reconstructed_documents_are_valid_openapi_30(env, inv, tmp_path):
    docs = env.psql("SELECT service, document::text FROM api_openapi_docs WHERE cluster_id = %s",
                    (inv["cluster"],))
    services = {d[0] for d in docs}
    assert {"shop.shop", "bank.payments", "crm.sales", "people.crm"} <= services
    exe = external_validator()
    for service, text in docs:
        doc = json.loads(text)
        validate_structure(doc)
        if exe:
            f = tmp_path / f"{service}.json"
            f.write_text(text)
            proc = subprocess.run(
                [exe, "-c", "import json,sys; from openapi_spec_validator import validate; "
                 "from openapi_spec_validator.validation.validators import OpenAPIV30SpecValidator"
                 " as V; validate(json.load(open(sys.argv[1])), cls=V)", str(f)],
                capture_output=True, text=True)
            assert proc.returncode == 0, f"{service}: {proc.stderr[-2000:]}"
    crm = json.loads(dict(docs)["crm.sales"])
    op = crm["paths"]["/v1/customers/{customerId}"]["get"]
    assert op["security"] == [{"jwtAuth": []}]
    assert crm["components"]["securitySchemes"]["jwtAuth"]["bearerFormat"] == "JWT"
    print(f"validated {len(docs)} documents"
          + (" with openapi-spec-validator" if exe else " structurally"))
