"""Start/stop the stand-in Kubernetes API server (tests/fixtures/kubeapi/server.py).

    from kubeapi import KubeApi
    api = KubeApi(data_dir, workdir)   # generates a CA-signed cert for 127.0.0.1/localhost
    api.url, api.ca_pem                # https://127.0.0.1:<port>, the CA certificate (PEM text)
    api.control("expire", resource="pods", times=1); api.control("revoke", token="...")
    api.requests()                     # what the server was asked
    api.stop()
Tokens (tests/fixtures/kubeapi/tokens.json): scoped-reader-token (accepted by Vigil),
cluster-admin-token, secrets-reader-token, pod-writer-token (over-privileged).
"""
import json
import os
import subprocess
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "fixtures", "kubeapi")
PYTHON = "/usr/bin/python3"

SCOPED_TOKEN = "scoped-reader-token"
ADMIN_TOKEN = "cluster-admin-token"
SECRETS_TOKEN = "secrets-reader-token"
WRITER_TOKEN = "pod-writer-token"


def make_ca_and_cert(workdir):
    """A CA and a server certificate for 127.0.0.1 signed by it; returns (ca, cert, key)."""
    ca_key, ca = os.path.join(workdir, "ca.key"), os.path.join(workdir, "ca.pem")
    key, csr, cert = (os.path.join(workdir, n) for n in ("srv.key", "srv.csr", "srv.pem"))
    ext = os.path.join(workdir, "srv.ext")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key,
        "-out", ca, "-days", "2", "-subj", "/CN=stand-in kubernetes CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=kube-apiserver")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


class KubeApi:
    def __init__(self, data_dir, workdir, tokens=None):
        os.makedirs(workdir, exist_ok=True)
        self.ca, cert, key = make_ca_and_cert(workdir)
        with open(self.ca) as f:
            self.ca_pem = f.read()
        port_file = os.path.join(workdir, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        tokens = tokens or os.path.join(FIXTURE, "tokens.json")
        self.log = open(os.path.join(workdir, "kubeapi.log"), "w")
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(FIXTURE, "server.py"), "--cert", cert, "--key", key,
             "--tokens", tokens, "--data", data_dir, "--port-file", port_file],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("stand-in kube API did not start; see " + self.log.name)
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())
        self.url = f"https://127.0.0.1:{self.port}"

    def _post(self, path, body):
        import ssl
        ctx = ssl.create_default_context(cafile=self.ca)
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return json.load(r)

    def control(self, what, **body):
        return self._post("/_stub/" + what, body)

    def requests(self):
        import ssl
        ctx = ssl.create_default_context(cafile=self.ca)
        with urllib.request.urlopen(self.url + "/_stub/requests", context=ctx, timeout=10) as r:
            return json.load(r)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
