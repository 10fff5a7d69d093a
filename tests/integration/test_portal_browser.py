"""Browser test of the portal's web page (issue 3): playwright-core driving Debian's Chromium.

Starts the portal (serving services/portal/www) and the stand-in Kubernetes API, then runs
tests/browser/portal.spec.mjs with node. The script checks the keyboard order and labels of
the sign-up form, signs up, logs out, checks the duplicate-account and wrong-password
messages, logs in, opens "Connect a cluster", sees the manifest, gets an over-privileged
token refused, connects the stand-in cluster with the scoped token and sees the ingest token
and the Fluent Bit snippet, then the clusters list, an OpenAPI spec upload, the findings
(written for the tenant as the report service would; filtered, paged, one resolved through
the page), the API inventory, an active test, webhooks and email recipients, usage and every
view at phone width. Each step saves tests/artifacts/screenshots/portal-NN-<step>.png; the
test fails when any step fails, a screenshot is missing, or the portal's log holds a secret
the run used. docs/portal-web.md describes the steps. The page's node unit tests
(tests/browser/*.test.mjs) run here too.
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PSQL
from kubeapi import SCOPED_TOKEN, ADMIN_TOKEN, KubeApi

REPO = Path(__file__).resolve().parents[2]
BROWSER_DIR = REPO / "tests" / "browser"
SCRIPT = BROWSER_DIR / "portal.spec.mjs"
SHOTS = REPO / "tests" / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
STEPS = [
    "signup-keyboard", "signup-api-key", "logout", "signup-duplicate", "wrong-password", "login",
    "connect-manifest", "connect-over-privileged", "connect-ingest-token", "clusters",
    "openapi-spec", "findings", "api-inventory", "active-test", "notifications", "usage",
    "topology", "report", "phone-connect",
]


def _node() -> str:
    node = shutil.which("node")
    assert node, "node is not installed (apt-get install nodejs)"
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is missing (apt-get install chromium)"
    assert (BROWSER_DIR / "node_modules" / "playwright-core").is_dir(), \
        "playwright-core is not installed: run `npm ci` in tests/browser"
    return node


@pytest.fixture(scope="module")
def kube(tmp_path_factory):
    work = tmp_path_factory.mktemp("kubeapi")
    data = work / "data"
    data.mkdir()
    api = KubeApi(str(data), str(work / "server"))
    yield api
    api.stop()


@pytest.fixture(scope="module")
def portal(start_service):
    return start_service("portal", {"VIGIL_PORTAL_WWW": str(REPO / "services/portal/www")})


@pytest.mark.parametrize("script, summary", [
    ("snippets.test.mjs", "snippets: 9 tests passed"),
    ("client.test.mjs", "client: 12 tests passed"),
])
def test_page_modules_unit(script, summary):
    """Node unit tests of the page's modules: the Fluent Bit / Istio / APIClarity snippets,
    and the API client (CSRF header, retry, errors) with its text helpers."""
    node = shutil.which("node")
    assert node, "node is not installed (apt-get install nodejs)"
    proc = subprocess.run([node, str(BROWSER_DIR / script)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert summary in proc.stdout, proc.stdout


def test_static_page_served(portal):
    index = portal.get("/")
    assert index.status_code == 200
    assert index.headers["Content-Type"].startswith("text/html")
    assert '<script type="module" src="/static/app.js">' in index.text
    assert '<link rel="stylesheet" href="/static/style.css">' in index.text
    assets = {"app.js": "javascript", "api.js": "javascript", "ui.js": "javascript",
              "topology.js": "javascript", "report.js": "javascript", "yaml.js": "javascript",
              "snippets.js": "javascript", "style.css": "text/css", "favicon.svg": "image/svg"}
    for asset, kind in assets.items():
        r = portal.get(f"/static/{asset}")
        assert r.status_code == 200, asset
        assert kind in r.headers["Content-Type"], (asset, r.headers["Content-Type"])
        # no third-party origin: everything the page loads comes from the portal itself
        assert not re.search(r"(src|href|from|import|url)\s*\(?\s*['\"]?https?://", r.text), asset
    # no inline script or style (the page's CSP is default-src 'self')
    assert not re.search(r"<script(?![^>]*\bsrc=)", index.text)
    assert "style=" not in index.text and "<style" not in index.text
    assert "default-src 'self'" in index.headers.get("Content-Security-Policy", "")
    assert not re.search(r"(src|href)=\"https?://", index.text)


def test_browser_flow(env, portal, kube, tmp_path):
    node = _node()
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("portal-*.png"):
        old.unlink()
    ca_file = tmp_path / "kube-ca.pem"
    ca_file.write_text(kube.ca_pem)
    node_env = dict(os.environ)
    node_env.update({
        "PORTAL_URL": portal.url,
        "KUBE_URL": kube.url,
        "KUBE_CA_FILE": str(ca_file),
        "KUBE_TOKEN": SCOPED_TOKEN,
        "KUBE_BAD_TOKEN": ADMIN_TOKEN,
        "SCREENSHOT_DIR": str(SHOTS),
        "CHROMIUM": CHROMIUM,
        # the findings and API endpoints the report and inventory services would write
        "SEED_DATABASE_URL": env.database_url,
        "PSQL": PSQL,
        "SECRETS_FILE": str(tmp_path / "secrets.json"),
    })
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        node_env.pop(proxy, None)
    proc = subprocess.run([node, str(SCRIPT)], cwd=BROWSER_DIR, env=node_env, capture_output=True,
                          text=True, timeout=150)
    output = proc.stdout + proc.stderr
    log = REPO / "tests" / "artifacts" / "logs" / "portal-browser.txt"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(output)
    assert proc.returncode == 0, f"browser test failed:\n{output}\nportal log tail:\n" + \
        "\n".join(portal.log_text().splitlines()[-20:])
    assert "browser test passed" in output
    shots = sorted(p.name for p in SHOTS.glob("portal-[0-9]*.png"))
    for number, step in enumerate(STEPS, 1):
        name = f"portal-{number:02d}-{step}.png"
        assert name in shots, f"missing screenshot {name}; have {shots}"
        assert (SHOTS / name).stat().st_size > 5000, f"{name} is suspiciously small"
    # no secret the browser sent or saw is in the portal's log
    seen = json.loads((tmp_path / "secrets.json").read_text())
    assert seen["api_key"].startswith("vgk_") and seen["ingest_token"].startswith("vgi_")
    log_text = portal.log_text()
    for name, value in [*seen.items(), ("cluster token", SCOPED_TOKEN),
                        ("admin token", ADMIN_TOKEN)]:
        assert value and value not in log_text, f"the portal log holds the {name}"
        assert value not in output, f"the browser test output holds the {name}"
    # the page really verified the credential against the stand-in API server
    reviews = [r for r in kube.requests() if "selfsubjectrulesreviews" in r.get("path", "")]
    assert len(reviews) >= 2, f"expected two SelfSubjectRulesReviews, saw {kube.requests()}"
