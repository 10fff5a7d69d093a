"""Portal API (issue 3): accounts, sessions and CSRF, API keys, cluster onboarding against the
stand-in Kubernetes API, specs, inventory views, findings, webhooks, email recipients, fuzz
jobs, usage, report, static files, row-level security, and a log scan for secrets.

Tests of one module share a portal, a database and two tenants (alice and bob); they run in
file order and the last one greps the portal's log for every secret used here."""
import json
import re
import time
import uuid
from pathlib import Path

import pytest
import requests

from kubeapi import ADMIN_TOKEN, SCOPED_TOKEN, SECRETS_TOKEN, WRITER_TOKEN, KubeApi

PASSWORD = "correct horse battery staple 42"
SECRETS = {"passwords": [PASSWORD], "keys": [], "tokens": [],
           "cluster": [SCOPED_TOKEN, ADMIN_TOKEN, SECRETS_TOKEN, WRITER_TOKEN, "not-a-token"]}
ROUTES_C = Path(__file__).resolve().parents[2] / "services" / "portal" / "routes.c"
PUBLIC = {("POST", "/api/v1/signup"), ("POST", "/api/v1/login")}


def api_routes():
    """(method, path) of every /api/v1 route registered in routes.c, {id} filled in."""
    found = re.findall(r'\{"([A-Z]+)", "(/api/v1/[^"]*)", portal_\w+\}', ROUTES_C.read_text())
    assert len(found) > 20
    return [(m, p.replace("{id}", str(uuid.uuid4()))) for m, p in found]


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    work = tmp_path_factory.mktemp("kubeapi")
    data = work / "data"
    data.mkdir()
    api = KubeApi(str(data), str(work / "server"))
    yield api
    api.stop()


@pytest.fixture(scope="module")
def portal(env, start_service, tmp_path_factory):
    www = tmp_path_factory.mktemp("www")
    (www / "index.html").write_text("<!doctype html><title>Vigil</title>")
    (www / "app.js").write_text("console.log('vigil');")
    (www / "style.css").write_text("body{}")
    (www / "img").mkdir()
    (www / "img" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (www / ".hidden").write_text("secret")
    (www.parent / "outside.txt").write_text("outside")
    svc = start_service("portal", {"VIGIL_PORTAL_WWW": str(www), "VIGIL_PORTAL_MAX_BODY": "65536",
                                    "VIGIL_KUBE_TIMEOUT": "2"})
    return stateless(svc)


def stateless(svc):
    """Requests through svc never keep cookies: each test says which credential it sends."""
    import http.cookiejar
    session = requests.Session()
    session.trust_env = False
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    svc._http = session
    return svc


class Tenant:
    def __init__(self, portal, email, org):
        self.portal, self.email = portal, email
        r = portal.post("/api/v1/signup", json={"email": email, "password": PASSWORD,
                                                 "organization": org})
        assert r.status_code == 201, r.text
        body = r.json()
        self.tenant_id, self.key, self.csrf = body["tenant_id"], body["api_key"], body["csrf_token"]
        assert self.key.startswith("vgk_") and body["api_key_prefix"] == self.key[:12]
        SECRETS["keys"].append(self.key)
        self.cookie = r.cookies.get("vigil_session")
        assert self.cookie
        SECRETS["tokens"].append(self.cookie)
        self.h = {"Authorization": f"Bearer {self.key}"}

    def req(self, method, path, **kw):
        kw.setdefault("headers", {}).update(self.h)
        return self.portal.request(method, "/api/v1" + path, **kw)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, **kw):
        return self.req("POST", path, **kw)


@pytest.fixture(scope="module")
def alice(portal, env):
    return Tenant(portal, env.unique_email("alice"), "Alice Org")


@pytest.fixture(scope="module")
def bob(portal, env):
    return Tenant(portal, env.unique_email("bob"), "Bob Org")


def err(r, status, code=None):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["error"]["message"], body
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]["message"]


# --------------------------------------------------------------------------- accounts

def test_signup_validation(portal, env):
    ok = {"email": env.unique_email("v"), "password": PASSWORD, "organization": "V"}
    for field, bad, words in (("email", "not-an-email", "email"),
                              ("password", "short", "12 characters"),
                              ("organization", "", "organization")):
        body = dict(ok, **{field: bad})
        assert words in err(portal.post("/api/v1/signup", json=body), 400)
    assert "required" in err(portal.post("/api/v1/signup", json={"email": ok["email"]}), 400)
    err(portal.post("/api/v1/signup", data="{not json"), 400, "invalid_json")
    err(portal.post("/api/v1/signup", json=[1, 2]), 400)


def test_signup_duplicate_email_is_409(portal, alice):
    r = portal.post("/api/v1/signup", json={"email": alice.email.upper(), "password": PASSWORD,
                                            "organization": "again"})
    assert "already exists" in err(r, 409, "conflict")


def test_signup_stores_scrypt_and_key_hash(env, alice):
    pw = env.psql_value("SELECT password_hash FROM users WHERE tenant_id = %s", [alice.tenant_id])
    assert pw.startswith("scrypt$32768$8$1$") and PASSWORD not in pw
    rows = env.psql("SELECT prefix, key_hash FROM api_keys WHERE tenant_id = %s", [alice.tenant_id])
    import hashlib
    assert rows == [(alice.key[:12], hashlib.sha256(alice.key.encode()).hexdigest())]


def test_session_cookie_flags_and_session_endpoint(portal, env, alice):
    r = portal.post("/api/v1/login", json={"email": alice.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP here; Secure is set when the request came over TLS
    token = r.cookies["vigil_session"]
    SECRETS["tokens"].append(token)
    s = portal.get("/api/v1/session", cookies={"vigil_session": token})
    assert s.status_code == 200
    assert s.json()["tenant_id"] == alice.tenant_id and s.json()["email"] == alice.email
    assert s.json()["csrf_token"] == r.json()["csrf_token"]


def test_csrf_required_for_cookie_writes(portal, alice):
    jar = {"vigil_session": alice.cookie}
    body = {"email": "ops@example.com"}
    r = portal.post("/api/v1/email-recipients", json=body, cookies=jar)
    assert "X-CSRF-Token" in err(r, 403, "csrf")
    r = portal.post("/api/v1/email-recipients", json=body, cookies=jar,
                    headers={"X-CSRF-Token": "wrong"})
    err(r, 403, "csrf")
    r = portal.post("/api/v1/email-recipients", json=body, cookies=jar,
                    headers={"X-CSRF-Token": alice.csrf})
    assert r.status_code == 201, r.text
    assert portal.get("/api/v1/email-recipients", cookies=jar).status_code == 200
    # a bearer API key needs no CSRF token
    assert alice.req("DELETE", "/email-recipients?email=ops@example.com").status_code == 204


def test_csrf_required_on_every_cookie_write(portal, alice):
    writes = [(m, p) for m, p in api_routes() if m != "GET" and (m, p) not in PUBLIC]
    assert len(writes) >= 12
    for method, path in writes:
        r = portal.request(method, path, json={}, cookies={"vigil_session": alice.cookie})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf", (method, path)


def test_missing_or_wrong_auth_is_401_everywhere(portal):
    for method, path in api_routes():
        if (method, path) in PUBLIC:
            continue
        err(portal.request(method, path), 401, "unauthorized")
        err(portal.request(method, path, headers={"Authorization": "Bearer vgk_wrong"}), 401)
        err(portal.request(method, path, headers={"Authorization": "Basic abc"}), 401)
        err(portal.request(method, path, cookies={"vigil_session": "vgs_forged"}), 401)


def test_login_same_answer_for_unknown_user_and_wrong_password(portal, env, alice):
    def timed(email):
        t = time.monotonic()
        r = portal.post("/api/v1/login", json={"email": email, "password": "wrong password!!"})
        return r, time.monotonic() - t
    unknown, t_unknown = timed(env.unique_email("nobody"))
    wrong, t_wrong = timed(alice.email)
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    # both run scrypt (N=2^15): neither answers in a fraction of the other's time
    assert t_unknown > 0.3 * t_wrong and t_wrong > 0.3 * t_unknown, (t_unknown, t_wrong)
    portal.post("/api/v1/login", json={"email": alice.email, "password": PASSWORD})  # resets


def test_login_throttled_per_email(portal, env):
    email = env.unique_email("throttled")
    portal.post("/api/v1/signup", json={"email": email, "password": PASSWORD,
                                        "organization": "T"})
    for _ in range(5):
        assert portal.post("/api/v1/login", json={"email": email,
                                                  "password": "nope nope nope"}).status_code == 401
    r = portal.post("/api/v1/login", json={"email": email, "password": PASSWORD})
    assert "too many" in err(r, 429)
    assert int(r.headers["Retry-After"]) > 0


def test_logout_ends_the_session(portal, alice):
    r = portal.post("/api/v1/login", json={"email": alice.email, "password": PASSWORD})
    token, csrf = r.cookies["vigil_session"], r.json()["csrf_token"]
    SECRETS["tokens"].append(token)
    jar = {"vigil_session": token}
    err(portal.post("/api/v1/logout", cookies=jar), 403, "csrf")
    r = portal.post("/api/v1/logout", cookies=jar, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204 and "Max-Age=0" in r.headers["Set-Cookie"]
    err(portal.get("/api/v1/session", cookies=jar), 401)


def test_api_keys_create_list_revoke(portal, alice, bob):
    r = alice.post("/api-keys", json={"name": "ci"})
    assert r.status_code == 201, r.text
    key, kid = r.json()["api_key"], r.json()["id"]
    SECRETS["keys"].append(key)
    assert key.startswith("vgk_") and r.json()["prefix"] == key[:12]
    listed = alice.get("/api-keys").json()["api_keys"]
    assert {k["name"] for k in listed} == {"signup", "ci"}
    assert all("api_key" not in k and "key_hash" not in k for k in listed)
    h = {"Authorization": f"Bearer {key}"}
    assert portal.get("/api/v1/usage", headers=h).status_code == 200
    err(bob.req("DELETE", f"/api-keys/{kid}"), 404)
    assert alice.req("DELETE", f"/api-keys/{kid}").status_code == 204
    err(portal.get("/api/v1/usage", headers=h), 401)
    err(alice.req("DELETE", f"/api-keys/{kid}"), 404)
    err(alice.post("/api-keys", json={"name": 5}), 400)


def test_oversized_body_is_413(portal, alice):
    big = {"email": "x@example.com", "password": "p" * 70000, "organization": "o"}
    err(portal.post("/api/v1/signup", json=big), 413)
    err(alice.post("/clusters", json={"name": "x" * 70000}), 413)


# --------------------------------------------------------------------------- onboarding

def test_manifest(alice):
    r = alice.get("/onboarding/manifest.yaml")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/yaml")
    import yaml
    docs = list(yaml.safe_load_all(r.text))
    kinds = [d["kind"] for d in docs]
    assert kinds == ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Secret"]
    role = docs[2]
    assert docs[1]["metadata"]["name"] == "vigil-reader"
    for rule in role["rules"]:
        assert rule["verbs"] == ["get", "list", "watch"]
        assert "secrets" not in rule["resources"] and "*" not in rule["resources"]
    groups = {g for rule in role["rules"] for g in rule["apiGroups"]}
    assert groups == {"", "apps", "batch", "networking.k8s.io", "rbac.authorization.k8s.io",
                      "policy", "gateway.networking.k8s.io", "networking.istio.io",
                      "security.istio.io"}
    assert docs[4]["type"] == "kubernetes.io/service-account-token"
    assert alice.get("/onboarding/manifest.yaml?namespace=sec-tools").text.count("sec-tools") >= 3
    err(alice.get("/onboarding/manifest.yaml?namespace=Bad_NS"), 400)


def cluster_body(kube, name, token=SCOPED_TOKEN, **over):
    return dict({"name": name, "server": kube.url, "ca_cert": kube.ca_pem, "token": token}, **over)


CLUSTERS = {}


def test_cluster_scoped_token_accepted(env, kube, alice):
    r = alice.post("/clusters", json=cluster_body(kube, "prod"))
    assert r.status_code == 201, r.text
    body = r.json()
    cid, ingest = body["cluster_id"], body["ingest_token"]
    CLUSTERS["alice"] = cid
    SECRETS["tokens"].append(ingest)
    assert ingest.startswith("vgi_") and body["ingest_token_prefix"] == ingest[:12]
    row = env.psql("SELECT credential, key_id, ingest_token_hash, server FROM clusters "
                   "WHERE id = %s", [cid])[0]
    assert SCOPED_TOKEN not in row[0] and row[0].startswith("v1:") and row[1]
    import hashlib
    assert row[2] == hashlib.sha256(ingest.encode()).hexdigest()
    msgs = env.consume("vigil.commands", match=lambda m: m["key"] == cid
                       and m["value"]["type"] == "cluster.sync")
    assert msgs and msgs[0]["value"]["tenant_id"] == alice.tenant_id
    assert msgs[0]["value"]["cluster_id"] == cid and msgs[0]["value"]["data"] == {}
    # the SelfSubjectRulesReview was asked with the token
    assert any("selfsubjectrulesreviews" in json.dumps(q) for q in kube.requests())
    # the ingest token is shown once: never in a read
    listed = alice.get("/clusters").json()["clusters"]
    assert [c["id"] for c in listed] == [cid] and "ingest_token" not in listed[0]
    assert alice.get(f"/clusters/{cid}").json()["name"] == "prod"


@pytest.mark.parametrize("token", [ADMIN_TOKEN, SECRETS_TOKEN, WRITER_TOKEN])
def test_cluster_over_privileged_token_is_422(kube, alice, token):
    r = alice.post("/clusters", json=cluster_body(kube, "bad-" + token[:6], token))
    assert r.status_code == 422, r.text
    e = r.json()["error"]
    assert e["code"] == "over_privileged" and e["offending_rules"]
    reasons = " ".join(rule["reason"] for rule in e["offending_rules"])
    expect = {ADMIN_TOKEN: "wildcard", SECRETS_TOKEN: "Secrets", WRITER_TOKEN: "write"}[token]
    assert expect in reasons
    if token == WRITER_TOKEN:
        assert e["offending_rules"][0]["resources"] == ["pods"]
        assert "create, delete, patch" in reasons


def test_cluster_wrong_token_unreachable_and_bad_tls(kube, alice, free_port):
    msg = err(alice.post("/clusters", json=cluster_body(kube, "w", "not-a-token")), 400)
    assert msg == "the token was rejected by the cluster"
    r = alice.post("/clusters", json=cluster_body(kube, "u",
                                                  server=f"https://127.0.0.1:{free_port()}"))
    assert "cannot reach" in err(r, 400)
    other_ca = kube.ca_pem.replace("A", "A")  # same text: make a real other CA below
    import subprocess, tempfile, os
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        os.path.join(d, "k"), "-out", os.path.join(d, "c"), "-days", "1",
                        "-subj", "/CN=other"], check=True, capture_output=True)
        other_ca = open(os.path.join(d, "c")).read()
    r = alice.post("/clusters", json=cluster_body(kube, "t", ca_cert=other_ca))
    assert "TLS" in err(r, 400)


def test_slow_cluster_does_not_block_other_requests(kube, alice):
    """The verification runs off the loop: a cluster that never answers TLS does not stall
    other requests, and ends in a 400 after VIGIL_KUBE_TIMEOUT (2 s here)."""
    import socket
    import threading
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts TCP (backlog) but never speaks TLS
    result = {}
    url = f"https://127.0.0.1:{silent.getsockname()[1]}"
    t = threading.Thread(target=lambda: result.setdefault(
        "r", alice.post("/clusters", json=cluster_body(kube, "slow", server=url))))
    started = time.monotonic()
    t.start()
    time.sleep(0.3)
    quick = time.monotonic()
    assert alice.get("/usage").status_code == 200
    assert time.monotonic() - quick < 1.0
    t.join(15)
    silent.close()
    assert "cannot reach" in err(result["r"], 400)
    assert 1.5 < time.monotonic() - started < 8


def test_cluster_bad_input_and_duplicate(kube, alice):
    assert "https" in err(alice.post("/clusters", json=cluster_body(kube, "h",
                                                                    server="http://x.example")), 400)
    assert "PEM" in err(alice.post("/clusters", json=cluster_body(kube, "p", ca_cert="nope")), 400)
    assert "token" in err(alice.post("/clusters", json={"name": "n", "server": kube.url,
                                                        "ca_cert": kube.ca_pem}), 400)
    assert "resolve" in err(alice.post("/clusters", json=cluster_body(
        kube, "r", server="https://no-such-host.invalid")), 400)
    assert "already exists" in err(alice.post("/clusters", json=cluster_body(kube, "prod")), 409)


def test_cluster_cross_tenant_is_404_and_rls_lists(kube, alice, bob, env):
    r = bob.post("/clusters", json=cluster_body(kube, "prod"))  # same name, other tenant: fine
    assert r.status_code == 201, r.text
    CLUSTERS["bob"] = r.json()["cluster_id"]
    SECRETS["tokens"].append(r.json()["ingest_token"])
    a = CLUSTERS["alice"]
    err(bob.get(f"/clusters/{a}"), 404)
    err(bob.req("DELETE", f"/clusters/{a}"), 404)
    err(bob.post(f"/clusters/{a}/sync"), 404)
    err(bob.post(f"/clusters/{a}/specs", data=SPEC_YAML), 404)
    err(bob.get(f"/clusters/{a}/specs"), 404)
    err(bob.get("/clusters/not-a-uuid"), 404)
    assert [c["id"] for c in bob.get("/clusters").json()["clusters"]] == [CLUSTERS["bob"]]
    assert env.psql_value("SELECT count(*) FROM clusters") == "2"


def test_cluster_reviewed_in_every_namespace(kube, alice):
    """RoleBindings show only in their namespace's SelfSubjectRulesReview: one review per
    namespace the token can list."""
    ns = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "uid": n}}
          for n in ("default", "kube-system", "shop")]
    kube.control("data", resource="namespaces", items=ns)
    kube.control("reset")
    try:
        r = alice.post("/clusters", json=cluster_body(kube, "multi-ns"))
        assert r.status_code == 201, r.text
        SECRETS["tokens"].append(r.json()["ingest_token"])
        posts = [q for q in kube.requests() if q["method"] == "POST"
                 and "selfsubjectrulesreviews" in q["path"]]
        assert len(posts) == 3
        assert any(q["method"] == "GET" and q["path"].startswith("/api/v1/namespaces")
                   for q in kube.requests())
        assert alice.req("DELETE", f"/clusters/{r.json()['cluster_id']}").status_code == 204
    finally:
        kube.control("data", resource="namespaces", items=[])


def test_cluster_sync_publishes(env, alice):
    cid = CLUSTERS["alice"]
    before = len(env.consume("vigil.commands", count=1, timeout=3, key=cid))
    r = alice.post(f"/clusters/{cid}/sync")
    assert r.status_code == 202
    msgs = env.consume("vigil.commands", count=before + 1, key=cid)
    assert len(msgs) == before + 1 and msgs[-1]["value"]["type"] == "cluster.sync"


# --------------------------------------------------------------------------- specs

SPEC_YAML = """\
openapi: 3.0.3
info:
  title: Orders   # the orders service
  version: "1.4"
servers:
  - url: https://Orders.Example.com/v1
  - url: http://orders.shop.svc.cluster.local:8080
  - url: /relative
paths:
  /orders/{orderId}:
    get:
      parameters: [{name: orderId, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: ok}
      deprecated: false
"""


def test_spec_upload_yaml_and_json(env, alice):
    cid = CLUSTERS["alice"]
    r = alice.post(f"/clusters/{cid}/specs?service=orders.shop", data=SPEC_YAML,
                   headers={"Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    assert r.json()["hosts"] == ["orders.example.com", "orders.shop.svc.cluster.local:8080"]
    sid = r.json()["spec_id"]
    row = env.psql("SELECT service, hosts, title, version, document->'paths' ? '/orders/{orderId}' "
                   "FROM api_specs WHERE id = %s", [sid])
    assert row == [("orders.shop", "{orders.example.com,orders.shop.svc.cluster.local:8080}",
                    "Orders", "1.4", "t")]
    doc = {"openapi": "3.1.0", "info": {"title": "Dev", "version": "1"}, "paths": {},
           "servers": [{"url": "http://{host}:{port}", "variables": {
               "host": {"default": "127.0.0.1"}, "port": {"default": "18099"}}}]}
    r = alice.post(f"/clusters/{cid}/specs", data=json.dumps(doc))  # sniffed as JSON
    assert r.status_code == 201 and r.json()["hosts"] == ["127.0.0.1:18099"]
    specs = alice.get(f"/clusters/{cid}/specs").json()["specs"]
    assert len(specs) == 2


@pytest.mark.parametrize("body,words", [
    ("openapi: 3.0.0\ninfo:\n  title: x\n  version: 1\n", "paths"),
    ("swagger: '2.0'\ninfo: {}\npaths: {}\n", "Swagger 2.0"),
    ("openapi: 2.5.0\ninfo: {title: a, version: b}\npaths: {}\n", "3.x"),
    ("openapi: 3.0.0\npaths: {}\n", "info"),
    ("openapi: 3.0.0\ninfo:\n  title: a\n\tversion: b\npaths: {}\n", "line 4"),
    ("openapi: 3.0.0\ninfo: {title: a, version: b}\npaths:\n  orders: {}\n", "must start with"),
    ("{\"openapi\": \"3.0.0\",", "invalid JSON"),
    ("", "OpenAPI 3 document"),
])
def test_spec_invalid_is_400(alice, body, words):
    r = alice.post(f"/clusters/{CLUSTERS['alice']}/specs", data=body)
    assert words in err(r, 400, "invalid_spec")


def test_spec_bad_service_and_unknown_cluster(alice):
    err(alice.post(f"/clusters/{CLUSTERS['alice']}/specs?service=Bad Name", data=SPEC_YAML), 400)
    err(alice.post(f"/clusters/{uuid.uuid4()}/specs", data=SPEC_YAML), 404)


# --------------------------------------------------------------------------- inventory views

def seed_inventory(env, tenant_id, cluster_id, tag):
    env.psql("INSERT INTO workloads (tenant_id, cluster_id, uid, kind, namespace, name, status, "
             "admitted_seq) VALUES (%s, %s, %s, 'Deployment', 'shop', 'orders', 'controlled', 1), "
             "(%s, %s, %s, 'Deployment', 'shop', 'legacy', 'uncontrolled', 2)",
             [tenant_id, cluster_id, f"uid-{tag}-1", tenant_id, cluster_id, f"uid-{tag}-2"])
    schema = {"query": {"expand": {"type": "string"}}, "headers": {},
              "request_body": {}, "responses": {"200": {"type": "object", "properties": {
                  "id": {"type": "string", "format": "uuid"}}}}}
    rows = env.psql(
        "INSERT INTO api_endpoints (tenant_id, cluster_id, service, host, class, method, "
        "path_template, scheme, auth, request_count, status_codes, schema) VALUES "
        "(%s, %s, 'orders.shop', 'orders.shop.svc.cluster.local:8080', 'internal', 'GET', "
        "'/orders/{orderId}', 'http', 'bearer', 7, '{\"200\": 7}', %s), "
        "(%s, %s, 'legacy.shop', 'legacy.shop.svc.cluster.local', 'internal', 'GET', '/old', "
        "'http', 'none', 1, '{}', '{}') RETURNING id",
        [tenant_id, cluster_id, json.dumps(schema), tenant_id, cluster_id])
    env.psql("INSERT INTO api_edges (tenant_id, cluster_id, source, destination, class, calls, "
             "errors, latency_ms) VALUES (%s, %s, 'web.shop', 'orders.shop', 'internal', 10, 1, "
             "'{\"p50\": 3}')", [tenant_id, cluster_id])
    return [r[0] for r in rows]


APIS = {}


def test_inventory_views(env, alice, bob):
    APIS["alice"] = seed_inventory(env, alice.tenant_id, CLUSTERS["alice"], "a")
    APIS["bob"] = seed_inventory(env, bob.tenant_id, CLUSTERS["bob"], "b")
    w = alice.get("/workloads").json()["workloads"]
    assert [(x["name"], x["status"]) for x in w] == [("orders", "controlled"),
                                                     ("legacy", "uncontrolled")]
    assert all(x["cluster_id"] == CLUSTERS["alice"] for x in w)
    assert len(alice.get("/workloads?status=uncontrolled").json()["workloads"]) == 1
    err(alice.get("/workloads?status=bogus"), 400)
    err(alice.get("/workloads?cluster_id=nope"), 400)
    apis = alice.get("/apis").json()["apis"]
    assert sorted(a["id"] for a in apis) == sorted(APIS["alice"])
    assert "schema" not in apis[0]
    err(alice.get("/apis?class=sideways"), 400)
    one = alice.get(f"/apis/{APIS['alice'][0]}").json()
    assert one["path_template"] == "/orders/{orderId}" and one["schema"]["query"]
    doc = alice.get(f"/apis/{APIS['alice'][0]}/openapi.json").json()
    op = doc["paths"]["/orders/{orderId}"]["get"]
    assert doc["openapi"].startswith("3.") and doc["servers"][0]["url"].startswith("http://orders")
    names = {(p["name"], p["in"]) for p in op["parameters"]}
    assert names == {("orderId", "path"), ("expand", "query")}
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "object"
    topo = alice.get("/topology").json()
    assert topo["nodes"] == ["orders.shop", "web.shop"]
    assert topo["edges"][0]["calls"] == 10 and topo["edges"][0]["error_rate"] == 0.1
    for path in (f"/apis/{APIS['bob'][0]}", f"/apis/{APIS['bob'][0]}/openapi.json"):
        err(alice.get(path), 404)
    assert len(bob.get("/apis").json()["apis"]) == 2


def test_empty_tenant_gets_empty_lists(portal, env):
    t = Tenant(portal, env.unique_email("empty"), "Empty")
    for path, key in (("/workloads", "workloads"), ("/apis", "apis"), ("/findings", "findings"),
                      ("/webhooks", "webhooks"), ("/email-recipients", "recipients"),
                      ("/clusters", "clusters"), ("/fuzz-jobs", "jobs")):
        r = t.get(path)
        assert r.status_code == 200 and r.json()[key] == [], path
    assert t.get("/topology").json() == {"nodes": [], "edges": [], "outbound_hosts": [],
                                         "policies": []}


# --------------------------------------------------------------------------- findings

def seed_findings(env, tenant_id, cluster_id, n, tag):
    env.psql(
        "INSERT INTO findings (tenant_id, cluster_id, fingerprint, source, scope, rule_id, title, "
        "severity, category, first_seen) SELECT %s, %s, %s || g, CASE WHEN g % 2 = 0 THEN "
        "'posture' ELSE 'api' END, 'posture', 'VGL-POD-00' || (g % 9), 'finding ' || g, "
        "(ARRAY['low','medium','high','critical'])[1 + g % 4], 'pod-security', "
        "now() - g * interval '1 minute' FROM generate_series(1, %s) g",
        [tenant_id, cluster_id, tag, n])


def test_findings_filters_and_pagination(env, alice, bob):
    seed_findings(env, alice.tenant_id, CLUSTERS["alice"], 25, "a")
    seed_findings(env, bob.tenant_id, CLUSTERS["bob"], 3, "b")
    seen, cursor = [], None
    while True:
        r = alice.get("/findings?limit=10" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200, r.text
        page = r.json()
        seen += [f["id"] for f in page["findings"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 25 and len(set(seen)) == 25
    high = alice.get("/findings?severity=high,critical&source=posture").json()["findings"]
    assert high and all(f["severity"] in ("high", "critical") and f["source"] == "posture"
                        for f in high)
    assert alice.get("/findings?category=nothing").json()["findings"] == []
    assert len(bob.get("/findings").json()["findings"]) == 3
    err(alice.get("/findings?severity=urgent"), 400)
    err(alice.get("/findings?status=gone"), 400)
    err(alice.get("/findings?limit=0"), 400)
    err(alice.get("/findings?cursor=garbage"), 400)


def test_finding_patch_status(alice, bob):
    fid = alice.get("/findings?limit=1").json()["findings"][0]["id"]
    r = alice.req("PATCH", f"/findings/{fid}", json={"status": "suppressed"})
    assert r.status_code == 200 and r.json()["status"] == "suppressed"
    assert alice.get(f"/findings/{fid}").json()["status"] == "suppressed"
    r = alice.req("PATCH", f"/findings/{fid}", json={"status": "resolved"})
    assert r.json()["resolved_at"]
    assert alice.get("/findings?status=resolved").json()["findings"][0]["id"] == fid
    assert "open, resolved or suppressed" in err(
        alice.req("PATCH", f"/findings/{fid}", json={"status": "fixed"}), 400)
    err(alice.req("PATCH", f"/findings/{fid}", json={}), 400)
    err(bob.req("PATCH", f"/findings/{fid}", json={"status": "open"}), 404)
    err(bob.get(f"/findings/{fid}"), 404)


# --------------------------------------------------------------------------- webhooks, email

def test_webhooks(env, alice, bob):
    r = alice.post("/webhooks", json={"url": "http://127.0.0.1:9/hook"})
    assert r.status_code == 201, r.text
    hook = r.json()
    assert len(hook["secret"]) == 43  # 32 random bytes, base64url
    SECRETS["keys"].append(hook["secret"])
    sealed = env.psql_value("SELECT secret FROM webhooks WHERE id = %s", [hook["id"]])
    assert sealed.startswith("v1:") and hook["secret"] not in sealed
    given = "my-own-webhook-secret-123"
    SECRETS["keys"].append(given)
    r2 = alice.post("/webhooks", json={"url": "http://127.0.0.1:9/other", "secret": given})
    assert r2.status_code == 201 and r2.json()["secret"] == given
    err(alice.post("/webhooks", json={"url": "http://127.0.0.1:9/hook"}), 409)
    err(alice.post("/webhooks", json={"url": "ftp://x"}), 400)
    err(alice.post("/webhooks", json={"url": "http://h.example", "secret": "short"}), 400)
    listed = alice.get("/webhooks").json()["webhooks"]
    assert len(listed) == 2 and all("secret" not in w for w in listed)
    assert bob.get("/webhooks").json()["webhooks"] == []
    r = alice.post(f"/webhooks/{hook['id']}/test")
    assert r.status_code == 202
    msgs = env.consume("vigil.commands", match=lambda m: m["value"]["type"] == "webhook.test")
    assert msgs and msgs[0]["value"]["data"] == {"webhook_id": hook["id"]}
    assert msgs[0]["key"] == alice.tenant_id
    err(bob.post(f"/webhooks/{hook['id']}/test"), 404)
    err(bob.req("DELETE", f"/webhooks/{hook['id']}"), 404)
    assert alice.req("DELETE", f"/webhooks/{r2.json()['id']}").status_code == 204
    err(alice.req("DELETE", f"/webhooks/{r2.json()['id']}"), 404)


def test_email_recipients(alice, bob):
    r = alice.post("/email-recipients", json={"email": "Sec@Example.com"})
    assert r.status_code == 201 and r.json()["email"] == "sec@example.com"
    rid = r.json()["id"]
    err(alice.post("/email-recipients", json={"email": "sec@example.com"}), 409)
    err(alice.post("/email-recipients", json={"email": "not an email"}), 400)
    assert [x["id"] for x in alice.get("/email-recipients").json()["recipients"]] == [rid]
    assert bob.get("/email-recipients").json()["recipients"] == []
    err(bob.req("DELETE", f"/email-recipients/{rid}"), 404)
    err(alice.req("DELETE", "/email-recipients"), 400)
    assert alice.req("DELETE", f"/email-recipients/{rid}").status_code == 204


# --------------------------------------------------------------------------- fuzz jobs

def test_fuzz_job_created_sealed_and_published(env, alice, bob):
    body = {"base_url": "http://127.0.0.1:18099/api",
            "identities": [{"name": "user1", "headers": {"Authorization": "Bearer tok-user-1"}},
                           {"name": "user2", "headers": {"X-Api-Key": "tok-user-2"}}],
            "categories": ["API1", "injection"], "allow_unsafe_methods": False}
    SECRETS["keys"] += ["tok-user-1", "tok-user-2"]
    r = alice.post("/fuzz-jobs", json=body)  # dev mode: 127.0.0.1:18099 is named by a spec
    assert r.status_code == 202, r.text
    job = r.json()["job_id"]
    req = json.loads(env.psql_value("SELECT request FROM fuzz_jobs WHERE id = %s", [job]))
    assert req["categories"] == ["API1", "INJ"]
    sealed = req["identities"][0]["headers"]["Authorization"]
    assert sealed.startswith("v1:") and "tok-user-1" not in json.dumps(req)
    msgs = env.consume("vigil.commands", match=lambda m: m["value"]["type"] == "fuzz.run"
                       and m["value"]["data"] == {"job_id": job})
    assert msgs and msgs[0]["value"]["tenant_id"] == alice.tenant_id
    got = alice.get(f"/fuzz-jobs/{job}").json()
    assert got["status"] == "queued" and got["progress"] == {"done": 0, "total": 0}
    assert got["findings"] == []
    err(bob.get(f"/fuzz-jobs/{job}"), 404)
    assert [j["job_id"] for j in alice.get("/fuzz-jobs").json()["jobs"]] == [job]


def test_fuzz_job_target_policy(alice, bob):
    ident = [{"name": "u", "headers": {}}]
    # a service of alice's cluster (learned endpoint host) is hers; legacy is uncontrolled
    r = bob.post("/fuzz-jobs", json={"base_url": "http://127.0.0.1:18099/", "identities": ident})
    assert "not a service of one of your clusters" in err(r, 403, "target_not_owned")
    r = alice.post("/fuzz-jobs", json={"base_url": "http://legacy.shop.svc.cluster.local/",
                                       "identities": ident})
    assert "uncontrolled" in err(r, 402, "plan_limit")
    r = alice.post("/fuzz-jobs", json={"base_url": "http://203.0.113.7/", "identities": ident})
    err(r, 403, "target_not_owned")
    r = alice.post("/fuzz-jobs", json={"base_url": "http://127.0.0.1:18099/", "identities": ident,
                                       "api_ids": [APIS["bob"][0]]})
    assert "not yours" in err(r, 400)


def test_target_domain_proof_makes_a_host_fuzzable(bob, alice, tmp_path, free_port):
    import subprocess
    import sys
    port = free_port()
    srv = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                            str(port), "--directory", str(tmp_path)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        host = f"127.0.0.1:{port}"
        job = {"base_url": f"http://{host}/", "identities": [{"name": "u", "headers": {}}]}
        assert "verified target domain" in err(bob.post("/fuzz-jobs", json=job), 403)
        r = bob.post("/target-domains", json={"host": host})
        assert r.status_code == 201, r.text
        dom = r.json()
        assert dom["verified"] is False and dom["challenge_path"].endswith(dom["id"])
        err(bob.post("/target-domains", json={"host": host}), 409)
        err(bob.post("/target-domains", json={"host": "bad host!"}), 400)
        time.sleep(0.3)  # http.server start
        assert "404" in err(bob.post(f"/target-domains/{dom['id']}/verify"), 400,
                            "challenge_failed")
        challenge = tmp_path / ".well-known" / "vigil-challenge"
        challenge.mkdir(parents=True)
        (challenge / dom["id"]).write_text("wrong")
        assert "does not contain" in err(bob.post(f"/target-domains/{dom['id']}/verify"), 400)
        (challenge / dom["id"]).write_text(dom["token"] + "\n")
        err(alice.post(f"/target-domains/{dom['id']}/verify"), 404)
        r = bob.post(f"/target-domains/{dom['id']}/verify")
        assert r.status_code == 200 and r.json()["verified"] is True, r.text
        assert bob.get("/target-domains").json()["domains"][0]["verified"] is True
        assert alice.get("/target-domains").json()["domains"] == []
        assert bob.post("/fuzz-jobs", json=job).status_code == 202
        err(alice.req("DELETE", f"/target-domains/{dom['id']}"), 404)
        assert bob.req("DELETE", f"/target-domains/{dom['id']}").status_code == 204
        err(bob.post("/fuzz-jobs", json=job), 403)
    finally:
        srv.terminate()
        srv.wait(5)


@pytest.mark.parametrize("body,words", [
    ({"identities": [{"name": "u", "headers": {}}]}, "base_url"),
    ({"base_url": "ftp://x/", "identities": [{"name": "u", "headers": {}}]}, "base_url"),
    ({"base_url": "http://127.0.0.1:18099/"}, "identities"),
    ({"base_url": "http://127.0.0.1:18099/", "identities": [{"name": "u"}]}, "identities[0]"),
    ({"base_url": "http://127.0.0.1:18099/", "identities": [{"name": "u", "headers": {
        "Bad Header": "x"}}]}, "header name"),
    ({"base_url": "http://127.0.0.1:18099/", "identities": [{"name": "u", "headers": {
        "X": "a\nb"}}]}, "line breaks"),
    ({"base_url": "http://127.0.0.1:18099/", "identities": [{"name": "u", "headers": {}}],
      "categories": ["API11"]}, "categories[0]"),
    ({"base_url": "http://127.0.0.1:18099/", "identities": [{"name": "u", "headers": {}}],
      "api_ids": ["x"]}, "api_ids[0]"),
    ({"base_url": "http://127.0.0.1:18099/", "identities": [{"name": "u", "headers": {}}],
      "allow_unsafe_methods": "yes"}, "allow_unsafe_methods"),
])
def test_fuzz_job_bad_input(alice, body, words):
    assert words in err(alice.post("/fuzz-jobs", json=body), 400, "invalid_job")


# --------------------------------------------------------------------------- usage, report

def test_usage(alice, env):
    u = alice.get("/usage").json()
    assert u["plan"] == "free" and u["workload_limit"] == 25
    assert u["controlled_workloads"] == 1 and u["uncontrolled_workloads"] == 1
    assert u["clusters"] == 1
    env.psql("UPDATE tenants SET workload_limit = 40 WHERE id = %s", [alice.tenant_id])
    assert alice.get("/usage").json()["workload_limit"] == 40


def test_report_404_until_generated(alice, bob, env):
    assert "no report" in err(alice.get("/report"), 404, "no_report")
    err(alice.get("/report.html"), 404)
    env.psql("INSERT INTO tenant_reports (tenant_id, data, html) VALUES (%s, %s, %s)",
             [alice.tenant_id, {"open": 25}, "<h1>Alice report</h1>"])
    r = alice.get("/report")
    assert r.status_code == 200 and r.json()["data"] == {"open": 25}
    h = alice.get("/report.html")
    assert h.headers["Content-Type"].startswith("text/html") and "Alice report" in h.text
    err(bob.get("/report"), 404)


# --------------------------------------------------------------------------- static files

def test_static_files(portal):
    r = portal.get("/")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert portal.get("/static/app.js").headers["Content-Type"].startswith("text/javascript")
    assert portal.get("/static/style.css").headers["Content-Type"].startswith("text/css")
    assert portal.get("/static/img/logo.svg").headers["Content-Type"] == "image/svg+xml"
    for bad in ("/static/../outside.txt", "/static/%2e%2e/outside.txt", "/static/.hidden",
                "/static/img/..%2f..%2foutside.txt", "/static/nope.js", "/static/img",
                "/static/%2e%2e%2foutside.txt"):
        raw = requests.get(portal.url + bad, timeout=5)
        assert raw.status_code == 404, bad
        assert "outside" not in raw.text


# --------------------------------------------------------------------------- isolation, logs

def test_rls_holds_for_the_portal_role(env, alice):
    """Even a query without a tenant filter sees only the transaction's tenant."""
    rows = env.psql(
        "BEGIN; SET LOCAL ROLE vigil_portal; "
        "SELECT set_config('vigil.tenant_id', %s, true); "
        "SELECT count(*) FROM clusters; SELECT count(*) FROM findings; "
        "SELECT count(*) FROM portal_sessions WHERE tenant_id <> %s; COMMIT;",
        [alice.tenant_id, alice.tenant_id])
    counts = [r[0] for r in rows if r and r[0] and r[0].isdigit()]
    assert counts == ["1", "25", "0"], rows


def test_log_has_no_secrets(portal):
    portal.get("/healthz")
    text = portal.log_text()
    assert "tenant signed up" in text and "cluster connected" in text
    leaked = [s for group in SECRETS.values() for s in group if s and s in text]
    assert leaked == [], f"secrets in {portal.log_path}"
