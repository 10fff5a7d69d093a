"""Foundation (issue 2): every service healthy, row-level security, migrations, readiness,
clean shutdown. Cross-service message paths are in test_foundation_messaging.py."""
import json
import signal
import subprocess
import time

import pytest

from conftest import BIN_DIR, DEV, wait_until

SERVICE_NAMES = ("portal", "ingest", "inventory", "fuzzer", "report")


@pytest.fixture(scope="module")
def services(env, start_service):
    return {name: start_service(name) for name in SERVICE_NAMES}


def test_every_service_is_healthy_and_ready(services):
    for name, svc in services.items():
        r = svc.get("/healthz")
        assert r.status_code == 200, name
        assert r.json() == {"status": "ok"}, name
        r = svc.get("/readyz")
        assert r.status_code == 200, (name, r.text)
        assert r.json()["checks"] == {"database": "ok", "kafka": "ok"}, name


def test_metrics_are_prometheus_text(services):
    svc = services["report"]
    svc.get("/healthz")
    text = svc.metrics()
    assert "# TYPE vigil_http_requests_total counter" in text
    assert 'route="/healthz"' in text
    assert "vigil_http_request_duration_seconds_bucket" in text


def test_unknown_route_is_a_json_404(services):
    r = services["inventory"].get("/no/such/thing")
    assert r.status_code == 404
    body = r.json()
    assert body["error"]["code"] and body["error"]["message"]
    assert r.headers.get("X-Request-Id")


def test_help_prints_the_config_table(bin_dir):
    out = subprocess.run([str(bin_dir / "vigil-report"), "--help"], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 0
    assert "VIGIL_DATABASE_URL" in out.stdout and "VIGIL_REPORT_ADDR" in out.stdout


def test_invalid_config_stops_startup_with_a_clear_message(env, bin_dir):
    run_env = env.service_env({"VIGIL_SHUTDOWN_TIMEOUT": "forever"})
    out = subprocess.run([str(bin_dir / "vigil-inventory")], env=run_env, capture_output=True,
                         text=True, timeout=20)
    assert out.returncode == 2
    assert "VIGIL_SHUTDOWN_TIMEOUT" in out.stderr and "integer" in out.stderr


def test_row_level_security_scopes_queries_without_where(env, bin_dir):
    env.vigilctl("migrate")
    out = subprocess.run([str(bin_dir / "fixture-dbprobe"), env.database_url, "rls"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    # tenant A owns 2 clusters and 2 keys, tenant B 3 and 3; every query had no WHERE clause
    assert seen["a_seen"] == 2 and seen["a_updated"] == 2
    assert seen["b_seen"] == 3 and seen["b_updated"] == 3
    assert seen["a_deleted"] == 2
    assert seen["a_keys_left"] == "0" and seen["b_keys_left"] == "3"
    assert seen["outside_seen"] == 0          # no tenant set: no rows at all
    assert seen["cross_insert_refused"] is True
    touched = env.psql_value(
        "SELECT count(*) FROM clusters WHERE status_message = 'touched' AND tenant_id = %s",
        [seen["tenant_b"]])
    assert touched == "3"


def test_migrations_twice_are_a_noop_and_concurrent_runs_do_not_collide(env):
    url = env.create_database("migr")
    procs = [subprocess.Popen([str(BIN_DIR / "vigilctl"), "migrate"],
                              env=env.service_env({"VIGIL_DATABASE_URL": url}),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
    assert all(rc == 0 for _, _, rc in results), results
    applied = sorted(int(out.split()[0]) for out, _, _ in results)
    files = env.psql_value("SELECT count(*) FROM schema_migrations", db=url.rsplit("/", 1)[1])
    assert applied == [0, 0, int(files)], applied
    again = env.vigilctl("migrate", extra_env={"VIGIL_DATABASE_URL": url})
    assert again.stdout.strip() == "0 migration(s) applied"


def test_sigterm_exits_zero_within_ten_seconds(env, start_service):
    svc = start_service("fuzzer")
    t0 = time.monotonic()
    assert svc.stop(signal.SIGTERM, timeout=15) == 0
    assert time.monotonic() - t0 < 10
    assert "drained, exiting" in svc.log_text()


def test_zz_readyz_follows_postgres(env, start_service):
    svc = start_service("report")
    assert svc.get("/readyz").status_code == 200
    subprocess.run([str(DEV / "pg.sh"), "stop"], check=True, capture_output=True, timeout=60)
    try:
        # a Response is falsy for 4xx/5xx: wrap it so wait_until sees a truthy value
        (r,) = wait_until(lambda: (lambda x: (x,) if x.status_code == 503 else None)(
            svc.get("/readyz")), timeout=15, message="readyz never turned 503 with PostgreSQL stopped")
        assert r.json()["checks"]["database"] == "unreachable"
        assert r.json()["error"]["message"]
    finally:
        subprocess.run([str(DEV / "pg.sh"), "start"], check=True, capture_output=True,
                       timeout=120)
    wait_until(lambda: svc.get("/readyz").status_code == 200, timeout=30,
               message="readyz did not come back to 200 after PostgreSQL restarted")


def test_vigilctl_lists_tenants_and_sets_a_plan(env):
    env.vigilctl("migrate")
    tid = env.psql_value("INSERT INTO tenants (name) VALUES ('Plan Co') RETURNING id")
    listed = env.vigilctl("tenants", "list").stdout
    assert tid in listed and "Plan Co" in listed and "free" in listed
    out = env.vigilctl("tenants", "set-plan", tid, "pro", "--workload-limit", "500").stdout
    assert "plan pro" in out
    assert env.psql("SELECT plan, workload_limit FROM tenants WHERE id = %s", [tid]) == \
        [("pro", "500")]
    bad = env.vigilctl("tenants", "set-plan", tid, "platinum", check=False)
    assert bad.returncode == 2 and "unknown plan" in bad.stderr
    missing = env.vigilctl("tenants", "set-plan", "00000000-0000-4000-8000-000000000000", "pro",
                           check=False)
    assert missing.returncode == 1 and "no tenant" in missing.stderr
