"""Static checks of docker-compose.yml and deploy/Dockerfile against the code (no Docker engine
here, so the compose file is kept honest by these). Needs no running stack.

- every compose service has a healthcheck, and ours probe /healthz on the port they listen on;
- every VIGIL_* variable named in the compose file is read by the C code (common/ or services/);
- every port published for one of our services is the port of the default address the code
  gives that service's *_ADDR variable, and the service listens there in the container;
- the master key has no default; the image's SQL folder is the one the services are told.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
OUR_SERVICES = {
    "portal": "VIGIL_PORTAL_ADDR",
    "ingest": "VIGIL_INGEST_ADDR",
    "inventory": "VIGIL_INVENTORY_ADDR",
    "fuzzer": "VIGIL_FUZZER_ADDR",
    "report": "VIGIL_REPORT_ADDR",
}
VAR = re.compile(r"\bVIGIL_[A-Z0-9_]+\b")


# ------------------------------------------------------------------ helpers (also used on fakes)

def c_sources(root: Path) -> dict[Path, str]:
    """Text of every .c/.h file under root/common and root/services."""
    files = {}
    for sub in ("common", "services"):
        for path in sorted((root / sub).rglob("*")):
            if path.suffix in (".c", ".h") and path.is_file():
                files[path] = path.read_text(errors="replace")
    return files


def compose_vars(text: str) -> set[str]:
    """VIGIL_* names used anywhere in the compose text: keys and ${...} interpolations."""
    return set(VAR.findall(text))


def missing_vars(names: set[str], sources: dict[Path, str]) -> list[str]:
    blob = "\n".join(sources.values())
    return sorted(n for n in names if not re.search(rf"\b{re.escape(n)}\b", blob))


def code_default_ports(var: str, sources: dict[Path, str], window: int = 400) -> set[int]:
    """Ports of the "host:port" string literals written just after a mention of var in the code
    (the config tables give name and default side by side)."""
    ports = set()
    for text in sources.values():
        for m in re.finditer(rf'"{re.escape(var)}"', text):
            near = text[m.end():m.end() + window]
            # stop at the next variable name: its default is not ours
            nxt = VAR.search(near)
            if nxt:
                near = near[:nxt.start()]
            for lit in re.finditer(r'"(?:[0-9.]*|\[[0-9a-fA-F:]*\]|localhost)?:(\d{2,5})"', near):
                ports.add(int(lit.group(1)))
    return ports


def published_ports(service: dict) -> list[tuple[int, int]]:
    """(published, container) pairs of a compose service's ports, short or long syntax."""
    pairs = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            pairs.append((int(entry.get("published", entry["target"])), int(entry["target"])))
            continue
        spec = str(entry).split("/")[0]
        parts = spec.rsplit(":", 2) if spec.count(":") >= 2 else spec.split(":")
        if len(parts) == 1:
            pairs.append((int(parts[0]), int(parts[0])))
        else:
            pairs.append((int(parts[-2]), int(parts[-1])))
    return pairs


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: str(v) for k, v in env.items()}


def is_ours(service: dict) -> bool:
    build = service.get("build")
    if isinstance(build, dict):
        return Path(build.get("dockerfile", "Dockerfile")).as_posix() == "deploy/Dockerfile"
    return False


def check_compose(root: Path) -> list[str]:
    """Every problem found in root/docker-compose.yml against root's C code."""
    text = (root / "docker-compose.yml").read_text()
    doc = yaml.safe_load(text)
    services = doc.get("services") or {}
    sources = c_sources(root)
    problems = []
    if not sources:
        problems.append("no C sources under common/ or services/")

    for name, svc in services.items():
        hc = svc.get("healthcheck")
        if not hc or hc.get("disable") or not hc.get("test"):
            problems.append(f"{name}: no healthcheck")

    for var in missing_vars(compose_vars(text), sources):
        problems.append(f"{var} is set in docker-compose.yml but never read by the C code")

    ours = {n: s for n, s in services.items() if is_ours(s)}
    for name, var in OUR_SERVICES.items():
        if name not in ours:
            problems.append(f"service {name} missing or not built from deploy/Dockerfile")
    for name, svc in ours.items():
        var = OUR_SERVICES.get(name)
        if var is None:
            continue
        command = svc.get("command")
        command = command if isinstance(command, list) else str(command or "").split()
        if not command or command[0] != f"vigil-{name}":
            problems.append(f"{name}: command should be vigil-{name}, is {command}")
        env = env_of(svc)
        addr = env.get(var)
        if not addr or not re.fullmatch(r"0\.0\.0\.0:\d+", addr):
            problems.append(f"{name}: {var} must be 0.0.0.0:<port> in a container, is {addr}")
            continue
        listen = int(addr.rsplit(":", 1)[1])
        defaults = code_default_ports(var, sources)
        if listen not in defaults:
            problems.append(f"{name}: listens on {listen} but the code's default for {var} "
                            f"is {sorted(defaults) or 'not found'}")
        for published, target in published_ports(svc):
            if target != listen:
                problems.append(f"{name}: publishes container port {target}, listens on {listen}")
            if published not in defaults:
                problems.append(f"{name}: publishes {published}, not the code's default port "
                                f"for {var} ({sorted(defaults) or 'not found'})")
        test = " ".join(map(str, (svc.get("healthcheck") or {}).get("test") or []))
        if f":{listen}/healthz" not in test:
            problems.append(f"{name}: healthcheck does not probe /healthz on port {listen}")
        key = env.get("VIGIL_MASTER_KEY", "")
        if "${VIGIL_MASTER_KEY:?" not in text or ":-" in key:
            problems.append(f"{name}: VIGIL_MASTER_KEY must come from the environment, no default")
    return problems


# ------------------------------------------------------------------ the tests

def test_compose_parses_with_expected_services():
    doc = yaml.safe_load(COMPOSE.read_text())
    services = doc["services"]
    assert set(OUR_SERVICES) | {"postgres", "kafka", "mailpit"} <= set(services)
    assert re.fullmatch(r"postgres:1[5-9].*", services["postgres"]["image"])
    assert re.fullmatch(r"apache/kafka:4\..*", services["kafka"]["image"])
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    kafka_env = env_of(services["kafka"])
    assert "broker" in kafka_env["KAFKA_PROCESS_ROLES"]
    assert "controller" in kafka_env["KAFKA_PROCESS_ROLES"]


def test_compose_matches_code():
    problems = check_compose(REPO)
    assert not problems, "docker-compose.yml disagrees with the code:\n" + "\n".join(problems)


def test_dockerfile_sql_dir_matches_compose():
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM debian:bookworm\S* AS build", text, re.M)
    m = re.search(r"^ENV VIGIL_SQL_DIR=(\S+)", text, re.M)
    assert m, "deploy/Dockerfile must set VIGIL_SQL_DIR"
    assert f"/src/sql {m.group(1)}" in text, "the migrations must be copied to VIGIL_SQL_DIR"
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name in OUR_SERVICES:
        assert env_of(services[name]).get("VIGIL_SQL_DIR", m.group(1)) == m.group(1), name


# ------------------------------------------------------------------ the checker can fail

FAKE_CONFIG = """
static const vg_cfg_entry table[] = {
    VG_CFG_BASE_ENTRIES(struct portal_conf, "VIGIL_PORTAL_ADDR", "127.0.0.1:8080"),
    {"VIGIL_SMTP_URL", VG_CFG_STRING, NULL, 0, "smtp", 0, 0},
    {"VIGIL_MASTER_KEY", VG_CFG_SECRET, NULL, 0, "key", 0, 0},
};
"""


def _fake_tree(tmp_path: Path, compose: str, code: str) -> Path:
    (tmp_path / "common").mkdir()
    (tmp_path / "services" / "portal").mkdir(parents=True)
    (tmp_path / "services" / "portal" / "main.c").write_text(code)
    (tmp_path / "docker-compose.yml").write_text(compose)
    return tmp_path


FAKE_COMPOSE = """
services:
  portal:
    build: {context: ., dockerfile: deploy/Dockerfile}
    command: ["vigil-portal"]
    environment:
      VIGIL_PORTAL_ADDR: 0.0.0.0:%(listen)s
      VIGIL_MASTER_KEY: ${VIGIL_MASTER_KEY:?set it}
      %(extra)s
    ports: ["%(published)s:%(listen)s"]
    %(healthcheck)s
"""
GOOD_HC = 'healthcheck: {test: ["CMD", "curl", "-f", "http://127.0.0.1:8080/healthz"]}'


def _problems(tmp_path, **kw):
    values = {"listen": 8080, "published": 8080, "extra": "VIGIL_SMTP_URL: smtp://m:1025",
              "healthcheck": GOOD_HC}
    values.update(kw)
    root = _fake_tree(tmp_path, FAKE_COMPOSE % values, FAKE_CONFIG)
    return [p for p in check_compose(root) if not p.startswith("service ")]


def test_checker_accepts_a_consistent_tree(tmp_path):
    assert _problems(tmp_path) == []


def test_checker_finds_unknown_variable(tmp_path):
    problems = _problems(tmp_path, extra="VIGIL_NOT_IN_CODE: 1")
    assert any("VIGIL_NOT_IN_CODE" in p for p in problems), problems


def test_checker_finds_wrong_published_port(tmp_path):
    problems = _problems(tmp_path, published=9999)
    assert any("publishes 9999" in p for p in problems), problems


def test_checker_finds_wrong_listen_port(tmp_path):
    problems = _problems(tmp_path, listen=8090)
    assert any("listens on 8090" in p for p in problems), problems


def test_checker_finds_missing_healthcheck(tmp_path):
    problems = _problems(tmp_path, healthcheck="")
    assert any("no healthcheck" in p for p in problems), problems


@pytest.mark.parametrize("spec,expected", [
    ("8080:8080", [(8080, 8080)]),
    ("127.0.0.1:8025:8025", [(8025, 8025)]),
    ("9000:8080/tcp", [(9000, 8080)]),
    ({"target": 8080, "published": 80}, [(80, 8080)]),
])
def test_published_ports_syntaxes(spec, expected):
    assert published_ports({"ports": [spec]}) == expected
