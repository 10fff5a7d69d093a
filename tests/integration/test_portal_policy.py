"""Portal policies that need their own configuration (issue 3): private targets refused when
VIGIL_ALLOW_PRIVATE_TARGETS=0, the master key required outside dev mode, spec hosts not
counting as the tenant's outside dev mode, login throttling per client address, and the
Secure cookie flag over TLS."""
import base64
import os
import subprocess
import time

import pytest
import requests

from conftest import wait_until
from kubeapi import SCOPED_TOKEN, KubeApi

PASSWORD = "another long password"


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    work = tmp_path_factory.mktemp("kubeapi")
    (work / "data").mkdir()
    api = KubeApi(str(work / "data"), str(work / "server"))
    yield api
    api.stop()


@pytest.fixture(scope="module")
def strict(start_service):
    return start_service("portal", {"VIGIL_ALLOW_PRIVATE_TARGETS": "0", "VIGIL_DEV_MODE": "0",
                                    "VIGIL_LOGIN_MAX_FAILURES_IP": "3", "VIGIL_PORTAL_WORKERS": "1"})


def signup(portal, email):
    r = requests.post(portal.url + "/api/v1/signup", timeout=10, json={
        "email": email, "password": PASSWORD, "organization": "Strict"})
    assert r.status_code == 201, r.text
    return r.json()["tenant_id"], {"Authorization": "Bearer " + r.json()["api_key"]}


def test_master_key_required_outside_dev_mode(env, bin_dir):
    run_env = env.service_env({"VIGIL_DEV_MODE": "0", "VIGIL_MASTER_KEY": None,
                               "VIGIL_PORTAL_ADDR": "127.0.0.1:0"})
    out = subprocess.run([str(bin_dir / "vigil-portal")], env=run_env, capture_output=True,
                         text=True, timeout=20)
    assert out.returncode == 2 and "VIGIL_MASTER_KEY" in out.stderr


def test_private_cluster_url_refused(strict, kube, env):
    _, h = signup(strict, env.unique_email("strict"))
    r = requests.post(strict.url + "/api/v1/clusters", headers=h, timeout=10, json={
        "name": "local", "server": kube.url, "ca_cert": kube.ca_pem, "token": SCOPED_TOKEN})
    assert r.status_code == 400
    assert "private address" in r.json()["error"]["message"]
    assert kube.requests() == [] or not any(
        "selfsubjectrulesreviews" in str(q) for q in kube.requests())
    r = requests.post(strict.url + "/api/v1/webhooks", headers=h, timeout=10,
                      json={"url": "http://10.1.2.3/hook"})
    assert r.status_code == 400 and "private" in r.json()["error"]["message"]


def test_spec_hosts_do_not_count_outside_dev_mode(strict, env):
    tenant, h = signup(strict, env.unique_email("specs"))
    cid = "22222222-2222-4222-8222-222222222222"
    env.psql("INSERT INTO clusters (id, tenant_id, name, server, ca_cert, credential, key_id, "
             "ingest_token_prefix, ingest_token_hash) VALUES (%s, %s, 'c', 'https://x', '-', '-', "
             "'-', 'vgi_y', 'h2')", [cid, tenant])
    spec = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\nservers: [{url: 'http://127.0.0.1:9'}]\npaths: {}\n"
    assert requests.post(strict.url + f"/api/v1/clusters/{cid}/specs", data=spec, headers=h,
                         timeout=10).status_code == 201
    r = requests.post(strict.url + "/api/v1/fuzz-jobs", headers=h, timeout=10, json={
        "base_url": "http://127.0.0.1:9/", "identities": [{"name": "u", "headers": {}}]})
    assert r.status_code == 403, r.text
    # a service of the cluster on a private address is the tenant's, but still refused
    env.psql("INSERT INTO api_endpoints (tenant_id, cluster_id, service, host, class, method, "
             "path_template) VALUES (%s, %s, 'loop.default', '127.0.0.1:9', 'internal', 'GET', '/')",
             [tenant, cid])
    r = requests.post(strict.url + "/api/v1/fuzz-jobs", headers=h, timeout=10, json={
        "base_url": "http://127.0.0.1:9/", "identities": [{"name": "u", "headers": {}}]})
    assert r.status_code == 403 and "private" in r.json()["error"]["message"], r.text


def test_login_throttled_per_client_address(strict, env):
    for i in range(3):
        r = requests.post(strict.url + "/api/v1/login", timeout=10, json={
            "email": env.unique_email(f"ip{i}"), "password": "whatever whatever"})
        assert r.status_code == 401
    r = requests.post(strict.url + "/api/v1/login", timeout=10, json={
        "email": env.unique_email("ip-last"), "password": "whatever whatever"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_secure_cookie_over_tls(env, start_service, tmp_path, free_port):
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    svc = start_service("portal", {"VIGIL_PORTAL_TLS_CERT": str(cert),
                                   "VIGIL_PORTAL_TLS_KEY": str(key)}, wait=False)
    url = "https://" + svc.addr

    def ready():
        try:
            return requests.get(url + "/readyz", verify=str(cert), timeout=2).status_code == 200
        except requests.RequestException:
            return False
    wait_until(ready, timeout=60, message="TLS portal ready")
    r = requests.post(url + "/api/v1/signup", verify=str(cert), timeout=10, json={
        "email": env.unique_email("tls"), "password": PASSWORD, "organization": "TLS"})
    assert r.status_code == 201, r.text
    cookie = r.headers["Set-Cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_busy_when_password_workers_are_taken(strict, env):
    """VIGIL_PORTAL_WORKERS=1: concurrent signups beyond the limit get 503 + Retry-After
    instead of piling up threads (each scrypt takes 32 MiB)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(i):
        return requests.post(strict.url + "/api/v1/signup", timeout=20, json={
            "email": env.unique_email(f"busy{i}"), "password": PASSWORD, "organization": "B"})
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(one, range(6)))
    codes = sorted(r.status_code for r in answers)
    assert 201 in codes and 503 in codes, codes
    busy = next(r for r in answers if r.status_code == 503)
    assert busy.headers["Retry-After"] == "1" and busy.json()["error"]["code"] == "busy"
    assert set(codes) <= {201, 503}
