"""Vigil integration-test harness: the real PostgreSQL, Kafka, SMTP sink and our services.

Run with Debian's pytest (ENVIRONMENT.md: `python3` on PATH may lack Debian's modules):

    make integration                        # builds, starts the stack, runs everything here
    /usr/bin/python3 -m pytest -q tests/integration [-k name] [-x]

The session starts the dev stack with `deploy/dev/stack.sh up` (PostgreSQL 127.0.0.1:55432,
Kafka 127.0.0.1:9092, SMTP sink 127.0.0.1:2525; a no-op when it already runs). Each test module
gets its own database, its own Kafka topic prefix and its own SMTP sink, so modules never see
each other's data; tests inside one module share them (use unique names inside a module).

Fixtures
--------
stack            (session) `Stack`: .pg_port, .brokers, .admin_url (postgres database),
                 .smtp_dir (the dev stack's sink folder). Requested by `env`.
env              (module)  `TestEnv`, the module's isolated world:
    .name, .token            module name and its random token (hex)
    .database_url, .db_name  fresh database (dropped after the module), no migrations applied:
                             the services apply sql/ when they start
    .topic_prefix            e.g. "t1a2b3c4d." (VIGIL_TOPIC_PREFIX); the seven vigil.* topics
                             are created up front, 3 partitions each, deleted after the session
    .vars                    dict of the VIGIL_* variables every service gets (dev mode, private
                             targets allowed, a random VIGIL_MASTER_KEY, VIGIL_SQL_DIR=repo sql/,
                             VIGIL_SMTP_URL of the module's sink, ...); edit before starting
    .mail                    `Mailbox` of the module's own SMTP sink (also fixture `mailbox`)
    .topic(name) -> str      "vigil.findings" -> "<prefix>vigil.findings" (prefixed names kept)
    .psql(sql, params=None, *, db=None) -> list[tuple[str | None, ...]]
                             runs SQL with psql (-v ON_ERROR_STOP=1) as superuser postgres on the
                             module's database (or database `db`); placeholders %s (sequence)
                             or %(name)s (dict), %% for a literal %; every value comes back as
                             text, NULL as None; rows of all statements, in order; raises
                             PsqlError on any SQL error
    .psql_value(sql, params=None, *, db=None) -> str | None   first column of the first row
    .produce(topic, value, key=None, *, headers=None, partition=None)
                             one message with kcat; value: str, bytes, or anything JSON-able
                             (dict/list are json.dumps'ed); topic gets the prefix
    .consume(topic, count=1, timeout=10.0, *, key=None, match=None) -> list[dict]
                             reads the topic from the beginning (kcat -o beginning -e) until at
                             least `count` messages (those with `key` / for which `match(msg)` is
                             true) are there or the timeout passes; returns ALL such messages read
                             (fewer than count on timeout: assert on len), ordered by timestamp.
                             Each: {"topic", "partition", "offset", "key", "payload" (str),
                             "value" (payload parsed as JSON, or None), "headers" (dict), "ts"}
    .vigilctl(*args, extra_env=None, input=None, check=True, timeout=60) -> CompletedProcess
                             bin/vigilctl with the module's environment, text output captured
    .service_env(extra_env=None) -> dict   the full environment a service is started with
    .create_database(suffix) -> str   another empty database (URL), dropped after the module
    .unique_email(local="user") -> str     "user+<token>@example.com"
start_service    (module)  factory:
    start_service(name, extra_env=None, *, wait=True, timeout=60.0, args=(), binary=None,
                  addr_var=None) -> Service
                             runs bin/vigil-<name> (portal, ingest, inventory, fuzzer, report;
                             VIGIL_BIN_DIR overrides bin/) with env.vars + extra_env (a None
                             value removes a variable), listening on a free loopback port given
                             in VIGIL_<NAME>_ADDR, stdout+stderr to
                             tests/artifacts/logs/<module>-<name>[-N].log, and (wait=True) waits
                             until GET /readyz answers 200 (raises with the log tail if the
                             process exits or the timeout passes). `binary`/`addr_var` start
                             something else the same way (e.g. a fixture server from bin/).
                             At module teardown every service still running gets SIGTERM; the
                             module errors if one then exits non-zero, died on its own with a
                             non-zero code, or printed a sanitizer report.
    Service:
      .name .url ("http://127.0.0.1:PORT") .addr .port .pid .log_path .env .returncode
      .running -> bool
      .get/.post/.put/.patch/.delete(path, **requests_kwargs) -> requests.Response
      .request(method, path, **kw)  (timeout defaults to 10 s; proxies from the environment
                                    are ignored)
      .wait_ready(timeout=60.0, path="/readyz")
      .metrics() -> str;  .metric(name, **labels) -> float | None  (first matching sample)
      .log_text() -> str; .log_records() -> list[dict]  (JSON lines; other lines as {"raw": …})
      .wait_log(text_or_predicate, timeout=10.0) -> dict   first record containing the text /
                                                           for which predicate(record) is true
      .stop(sig=signal.SIGTERM, timeout=30.0) -> int   exit code (0 clean, -N killed by signal
                                                       N); SIGKILL after the timeout
      .kill() -> int                                   SIGKILL, returns -9
      .wait(timeout=30.0) -> int                       waits for it to exit by itself
      .restart(wait=True) -> Service                   stop (SIGTERM) and start on the same port
mailbox          (module)  env.mail: the module's own smtp-sink (postfix) on a free port.
    .url ("smtp://127.0.0.1:PORT")  .dir (Path of its dump folder)
    .messages() -> list[Mail]        all complete mails so far, oldest first
    .wait_for(count=1, timeout=15.0, *, rcpt=None, match=None) -> list[Mail]
                                     waits for >= count mails (to `rcpt` / matching), returns all
                                     of them; raises AssertionError on timeout
    .clear()                         deletes the mails received so far
    Mail: .mail_from .rcpt (list, envelope) .subject .headers (email.message.EmailMessage)
          .body (text/plain part, else text/html) .html .raw (bytes) .path
smtp_dir         (module)  Path of the module sink's dump folder (= mailbox.dir)
stack_smtp_dir   (session) Path of the dev stack's sink folder (.run/smtp)
bin_dir, repo    (session) Paths
free_port        (session) the function free_port() -> int (a free loopback TCP port)
wait_until       (session) the function wait_until(predicate, timeout=10.0, interval=0.1,
                           message="") -> the predicate's first truthy value; AssertionError on
                           timeout

The same helpers can be imported: `from conftest import wait_until, free_port, Service`.

Environment knobs: VIGIL_BIN_DIR (binaries, set by `make integration` / `make asan`),
VIGIL_TEST_KEEP=1 (keep the databases and topics for a look afterwards),
VIGIL_TEST_NO_STACK=1 (do not run stack.sh up: a stack is already there),
VIGIL_TEST_LOG_LEVEL (VIGIL_LOG_LEVEL of the services, default debug),
VIGIL_DEV_PG_PORT / VIGIL_DEV_KAFKA_PORT (where the stack listens).
A VIGIL_* variable of the caller's own environment is NOT passed to the services: tests
always get their module's settings.
"""

from __future__ import annotations

import base64
import email
import email.policy
import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("VIGIL_BIN_DIR") or REPO / "bin")
ARTIFACTS = REPO / "tests" / "artifacts"
DEV = REPO / "deploy" / "dev"
PG_PORT = int(os.environ.get("VIGIL_DEV_PG_PORT", "55432"))
KAFKA_BROKERS = "127.0.0.1:" + os.environ.get("VIGIL_DEV_KAFKA_PORT", "9092")
SMTP_SINK = "/usr/sbin/smtp-sink"
KEEP = os.environ.get("VIGIL_TEST_KEEP") == "1"

SERVICES = {
    "portal": "VIGIL_PORTAL_ADDR",
    "ingest": "VIGIL_INGEST_ADDR",
    "inventory": "VIGIL_INVENTORY_ADDR",
    "fuzzer": "VIGIL_FUZZER_ADDR",
    "report": "VIGIL_REPORT_ADDR",
}
TOPICS = (
    "vigil.traces",
    "vigil.inventory",
    "vigil.scans",
    "vigil.commands",
    "vigil.api-events",
    "vigil.findings",
    "vigil.dlq",
)
SANITIZER_MARKS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "WARNING: ThreadSanitizer",
    "runtime error:",
)


def _find_psql() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), key=_version_key)
    if found:
        return found[-1]
    return shutil.which("psql") or "psql"


def _version_key(path: str) -> tuple:
    return tuple(int(p) for p in re.findall(r"\d+", path))


PSQL = _find_psql()


# --------------------------------------------------------------------------- small helpers

_handed_out_ports: set[int] = set()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (never the same one twice in a session)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _handed_out_ports:
            _handed_out_ports.add(port)
            return port
    raise RuntimeError("no free port found")


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1,
               message: str = "") -> Any:
    """Polls predicate until it returns a truthy value, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting: {message or predicate}")
        time.sleep(interval)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _slug(text: str, limit: int) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")[:limit] or "x"


def _http_session():
    import requests  # python3-requests; imported here so test_compose needs none of this

    session = requests.Session()
    session.trust_env = False  # no proxies, no CA bundle from the environment for loopback
    return session


# --------------------------------------------------------------------------- PostgreSQL

class PsqlError(Exception):
    pass


_PARAM = re.compile(r"%%|%s|%\((\w+)\)s")
_NULL = "\x01NULL\x01"


def _sql_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def bind_params(sql: str, params: Any) -> tuple[str, dict[str, str]]:
    """Turns %s / %(name)s placeholders into psql variables :'vN' (quoted literals)."""
    if params is None:
        return sql, {}
    variables: dict[str, str] = {}
    position = iter(range(1 << 30))

    def replace(m: re.Match) -> str:
        if m.group(0) == "%%":
            return "%"
        value = params[m.group(1)] if m.group(1) else params[next(position)]
        if value is None:
            return "NULL"
        name = f"v{len(variables)}"
        variables[name] = _sql_text(value)
        return f":'{name}'"

    return _PARAM.sub(replace, sql), variables


def run_psql(sql: str, params: Any = None, *, db: str = "postgres") -> list[tuple]:
    """Runs SQL on the stack's PostgreSQL as postgres; see TestEnv.psql."""
    text, variables = bind_params(sql, params)
    cmd = [PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
           "-p", str(PG_PORT), "-U", "postgres", "-d", db, "-F", "\x1f", "-0",
           "-P", f"null={_NULL}"]
    for name, value in variables.items():
        cmd += ["-v", f"{name}={value}"]
    proc = subprocess.run(cmd, input=text, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise PsqlError(f"psql failed ({proc.returncode}) on {db}: {proc.stderr.strip()}\n"
                        f"SQL: {sql}")
    rows = []
    for record in proc.stdout.split("\0")[:-1]:
        rows.append(tuple(None if v == _NULL else v for v in record.split("\x1f")))
    return rows


# --------------------------------------------------------------------------- Kafka (kcat)

def kcat_produce(topic: str, value: Any, key: str | None = None, *,
                 headers: dict[str, str] | None = None, partition: int | None = None) -> None:
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, str):
        data = value.encode()
    else:
        data = json.dumps(value).encode()
    with tempfile.NamedTemporaryFile(prefix="vigil-msg-") as tmp:
        tmp.write(data)
        tmp.flush()
        # a file argument is sent as one message, newlines included
        cmd = ["kcat", "-P", "-b", KAFKA_BROKERS, "-t", topic]
        if key is not None:
            cmd += ["-k", key]
        if partition is not None:
            cmd += ["-p", str(partition)]
        for name, val in (headers or {}).items():
            cmd += ["-H", f"{name}={val}"]
        proc = subprocess.run(cmd + [tmp.name], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or "ERROR" in proc.stderr or "failed" in proc.stderr.lower():
        raise RuntimeError(f"kcat produce to {topic} failed: {proc.stderr.strip()}")


def kcat_read_all(topic: str) -> list[dict]:
    """Every message now in topic ([] when it does not exist yet)."""
    cmd = ["kcat", "-C", "-b", KAFKA_BROKERS, "-t", topic, "-o", "beginning", "-e", "-J", "-q",
           "-X", "fetch.wait.max.ms=10"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        if "Unknown topic" in proc.stderr or "not available" in proc.stderr:
            return []
        raise RuntimeError(f"kcat consume from {topic} failed: {proc.stderr.strip()}")
    messages = []
    for line in proc.stdout.splitlines():
        if not line.startswith("{"):
            continue
        raw = json.loads(line)
        payload = raw.get("payload")
        try:
            value = json.loads(payload) if payload is not None else None
        except ValueError:
            value = None
        hdrs = raw.get("headers") or []
        messages.append({
            "topic": raw.get("topic"),
            "partition": raw.get("partition"),
            "offset": raw.get("offset"),
            "ts": raw.get("ts"),
            "key": raw.get("key"),
            "payload": payload,
            "value": value,
            "headers": dict(zip(hdrs[0::2], hdrs[1::2])),
        })
    messages.sort(key=lambda m: (m["ts"] or 0, m["partition"], m["offset"]))
    return messages


def kcat_create_topics(topics: Iterable[str], timeout: float = 30.0) -> None:
    """Creates topics through the broker's auto-creation (a metadata request names them)."""
    pending = list(topics)
    deadline = time.monotonic() + timeout
    while pending:
        still = []
        for topic in pending:
            proc = subprocess.run(["kcat", "-b", KAFKA_BROKERS, "-L", "-J", "-m", "5", "-t", topic],
                                  capture_output=True, text=True, timeout=30)
            ok = False
            if proc.returncode == 0:
                for meta in json.loads(proc.stdout).get("topics", []):
                    parts = meta.get("partitions") or []
                    ok = (meta.get("topic") == topic and not meta.get("error") and parts
                          and all(p.get("leader", -1) >= 0 for p in parts))
            if not ok:
                still.append(topic)
        pending = still
        if pending:
            if time.monotonic() >= deadline:
                raise RuntimeError(f"topics not created within {timeout}s: {pending}")
            time.sleep(0.2)


# --------------------------------------------------------------------------- SMTP sink

@dataclass
class Mail:
    path: Path
    raw: bytes
    headers: email.message.EmailMessage
    mail_from: str
    rcpt: list[str]

    @property
    def subject(self) -> str:
        return str(self.headers.get("Subject", ""))

    def _part(self, *kinds: str) -> str:
        try:
            part = self.headers.get_body(preferencelist=kinds)
            return part.get_content() if part is not None else ""
        except (KeyError, LookupError, ValueError):
            payload = self.headers.get_payload(decode=True)
            return payload.decode(errors="replace") if isinstance(payload, bytes) else ""

    @property
    def body(self) -> str:
        return self._part("plain", "html")

    @property
    def html(self) -> str:
        return self._part("html")


def _envelope_addr(arg: str) -> str:
    # "X-Mail-Args: <a@b> SIZE=12" -> "a@b"
    first = arg.strip().split(" ")[0]
    return first.strip("<>")


class Mailbox:
    """An smtp-sink of our own, dumping every mail into a folder."""

    def __init__(self, name: str):
        self.name = name
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        # under /tmp: the postfix user must reach it, whatever the repo's parents allow
        self.dir = Path(tempfile.mkdtemp(prefix=f"vigil-smtp-{name}-"))
        cmd = [SMTP_SINK]
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postfix")
            cmd += ["-u", "postfix"]
        cmd += ["-d", f"{self.dir}/%Y%m%d%H%M%S.", f"127.0.0.1:{self.port}", "100"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        wait_until(self._answers, 10, 0.05, f"smtp-sink on {self.port}")

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"smtp-sink exited: {self.proc.stderr.read().decode()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), 1) as sock:
                return sock.recv(3) == b"220"
        except OSError:
            return False

    def messages(self) -> list[Mail]:
        mails = []
        now = time.time()
        for path in sorted(self.dir.iterdir()):
            try:
                # a dump still being written is left for the next look
                if now - path.stat().st_mtime < 0.3:
                    continue
                raw = path.read_bytes()
            except OSError:
                continue
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            mails.append(Mail(
                path=path, raw=raw, headers=msg,
                mail_from=_envelope_addr(str(msg.get("X-Mail-Args", ""))),
                rcpt=[_envelope_addr(str(v)) for v in msg.get_all("X-Rcpt-Args", [])],
            ))
        return mails

    def wait_for(self, count: int = 1, timeout: float = 15.0, *, rcpt: str | None = None,
                 match: Callable[[Mail], bool] | None = None) -> list[Mail]:
        def found():
            mails = [m for m in self.messages()
                     if (rcpt is None or rcpt in m.rcpt) and (match is None or match(m))]
            return mails if len(mails) >= count else None

        deadline = time.monotonic() + timeout
        while True:
            mails = found()
            if mails:
                return mails
            if time.monotonic() >= deadline:
                seen = [(m.rcpt, m.subject) for m in self.messages()]
                raise AssertionError(f"fewer than {count} mails (rcpt={rcpt}) after {timeout}s; "
                                     f"received: {seen}")
            time.sleep(0.2)

    def clear(self) -> None:
        for path in self.dir.iterdir():
            path.unlink(missing_ok=True)

    def close(self, keep_in: Path | None = None) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        if keep_in is not None and any(self.dir.iterdir()):
            shutil.rmtree(keep_in, ignore_errors=True)
            shutil.copytree(self.dir, keep_in)
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------- services

class Service:
    """A process started in the background with a log file and an HTTP address."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], addr: str,
                 log_path: Path, cwd: Path = REPO):
        self.name = name
        self.argv = argv
        self.env = env
        self.addr = addr
        self.host, port = addr.rsplit(":", 1)
        self.port = int(port)
        self.url = f"http://{addr}"
        self.log_path = log_path
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.handled = False  # the test stopped / waited for it: its exit code is its business
        self._http = None

    # lifecycle
    def start(self) -> "Service":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)
        self.handled = False
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def returncode(self) -> int | None:
        return self.proc.poll() if self.proc else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float = 60.0, path: str = "/readyz") -> "Service":
        deadline = time.monotonic() + timeout
        last = "no answer"
        while True:
            if not self.running:
                raise RuntimeError(f"{self.name} exited with {self.returncode} before it was "
                                   f"ready; log {self.log_path}:\n{_tail(self.log_path)}")
            try:
                r = self.request("GET", path, timeout=2)
                if r.status_code == 200:
                    return self
                last = f"{r.status_code} {r.text[:200]}"
            except Exception as e:  # connection refused while starting
                last = repr(e)
            if time.monotonic() >= deadline:
                raise RuntimeError(f"{self.name} not ready on {self.url}{path} after {timeout}s "
                                   f"(last: {last}); log {self.log_path}:\n{_tail(self.log_path)}")
            time.sleep(0.1)

    def wait(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        self.handled = True
        return self.proc.wait(timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.proc is not None
        self.handled = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                with open(self.log_path, "a") as log:
                    log.write(f'{{"harness":"{self.name} ignored signal {sig} for {timeout}s: '
                              f'SIGKILL"}}\n')
        return self.proc.returncode

    def kill(self) -> int:
        return self.stop(signal.SIGKILL, 10)

    def restart(self, wait: bool = True, timeout: float = 60.0) -> "Service":
        self.stop()
        self.start()
        return self.wait_ready(timeout) if wait else self

    # HTTP
    def request(self, method: str, path: str, **kw):
        if self._http is None:
            self._http = _http_session()
        kw.setdefault("timeout", 10)
        return self._http.request(method, self.url + path, **kw)

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw):
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw):
        return self.request("DELETE", path, **kw)

    def metrics(self) -> str:
        r = self.get("/metrics")
        r.raise_for_status()
        return r.text

    def metric(self, name: str, **labels: str) -> float | None:
        """Value of the first sample `name{labels...}` (labels: a subset to match)."""
        pattern = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)")
        for line in self.metrics().splitlines():
            m = pattern.match(line)
            if not m or m.group(1) != name:
                continue
            have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            if all(have.get(k) == str(v) for k, v in labels.items()):
                return float(m.group(4))
        return None

    # logs
    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_records(self) -> list[dict]:
        records = []
        for line in self.log_text().splitlines():
            try:
                rec = json.loads(line)
                records.append(rec if isinstance(rec, dict) else {"raw": line})
            except ValueError:
                records.append({"raw": line})
        return records

    def wait_log(self, what: str | Callable[[dict], bool], timeout: float = 10.0) -> dict:
        def find():
            for rec in self.log_records():
                if (what(rec) if callable(what) else what in json.dumps(rec)
                        or what in rec.get("raw", "")):
                    return rec
            return None

        return wait_until(find, timeout, 0.1, f"{self.name} log: {what}")

    def __repr__(self) -> str:
        return f"<Service {self.name} {self.url} pid={self.pid} rc={self.returncode}>"


# --------------------------------------------------------------------------- the test world

@dataclass
class Stack:
    pg_port: int = PG_PORT
    brokers: str = KAFKA_BROKERS
    admin_url: str = f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres"
    smtp_dir: Path = REPO / ".run" / "smtp"
    prefixes: list[str] = field(default_factory=list)  # topic prefixes handed out


class TestEnv:
    __test__ = False  # not a test class, whatever its name

    def __init__(self, name: str, stack: Stack):
        self.name = name
        self.stack = stack
        self.token = secrets.token_hex(4)
        self.topic_prefix = f"t{self.token}."
        self.db_name = f"vt_{_slug(name.removeprefix('test_'), 40)}_{self.token}"
        self.database_url = self._url(self.db_name)
        self._databases: list[str] = []
        self.mail: Mailbox | None = None
        self.vars: dict[str, str] = {}

    def _url(self, db: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.stack.pg_port}/{db}"

    def setup(self) -> None:
        self.create_database(None)
        self.stack.prefixes.append(self.topic_prefix)
        kcat_create_topics(self.topic(t) for t in TOPICS)
        self.mail = Mailbox(_slug(self.name, 30))
        self.vars = {
            "VIGIL_DATABASE_URL": self.database_url,
            "VIGIL_KAFKA_BROKERS": self.stack.brokers,
            "VIGIL_TOPIC_PREFIX": self.topic_prefix,
            "VIGIL_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "VIGIL_DEV_MODE": "1",
            "VIGIL_ALLOW_PRIVATE_TARGETS": "1",
            "VIGIL_SMTP_URL": self.mail.url,
            "VIGIL_MAIL_FROM": "vigil@localhost",
            "VIGIL_LOG_LEVEL": os.environ.get("VIGIL_TEST_LOG_LEVEL", "debug"),
            "VIGIL_SQL_DIR": str(REPO / "sql"),
        }

    def teardown(self) -> None:
        if self.mail:
            self.mail.close(keep_in=ARTIFACTS / "smtp" / self.name)
        if not KEEP:
            for db in reversed(self._databases):
                try:
                    run_psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                except PsqlError as e:
                    print(f"warning: {e}")

    def create_database(self, suffix: str | None) -> str:
        db = self.db_name if suffix is None else f"{self.db_name}_{_slug(suffix, 15)}"
        run_psql(f'CREATE DATABASE "{db}"')
        self._databases.append(db)
        return self._url(db)

    # environment
    def service_env(self, extra_env: dict[str, str | None] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
        env.update(self.vars)
        no_proxy = "127.0.0.1,localhost,::1"
        env["NO_PROXY"] = env["no_proxy"] = no_proxy
        for k, v in (extra_env or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        return env

    def unique_email(self, local: str = "user") -> str:
        return f"{local}+{self.token}@example.com"

    # PostgreSQL
    def psql(self, sql: str, params: Any = None, *, db: str | None = None) -> list[tuple]:
        return run_psql(sql, params, db=db or self.db_name)

    def psql_value(self, sql: str, params: Any = None, *, db: str | None = None) -> str | None:
        rows = self.psql(sql, params, db=db)
        return rows[0][0] if rows else None

    # Kafka
    def topic(self, name: str) -> str:
        return name if name.startswith(self.topic_prefix) else self.topic_prefix + name

    def produce(self, topic: str, value: Any, key: str | None = None, *,
                headers: dict[str, str] | None = None, partition: int | None = None) -> None:
        kcat_produce(self.topic(topic), value, key, headers=headers, partition=partition)

    def consume(self, topic: str, count: int = 1, timeout: float = 10.0, *,
                key: str | None = None,
                match: Callable[[dict], bool] | None = None) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            msgs = [m for m in kcat_read_all(self.topic(topic))
                    if (key is None or m["key"] == key) and (match is None or match(m))]
            if len(msgs) >= count or time.monotonic() >= deadline:
                return msgs
            time.sleep(0.2)

    # CLI
    def vigilctl(self, *args: str, extra_env: dict[str, str | None] | None = None,
                 input: str | None = None, check: bool = True,
                 timeout: float = 60) -> subprocess.CompletedProcess:
        exe = BIN_DIR / "vigilctl"
        proc = subprocess.run([str(exe), *args], env=self.service_env(extra_env), cwd=REPO,
                              input=input, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"vigilctl {' '.join(args)} exited {proc.returncode}\n"
                                 f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    return BIN_DIR


@pytest.fixture(scope="session", name="free_port")
def free_port_fixture():
    return free_port


@pytest.fixture(scope="session", name="wait_until")
def wait_until_fixture():
    return wait_until


@pytest.fixture(scope="session")
def stack():
    info = Stack()
    if os.environ.get("VIGIL_TEST_NO_STACK") != "1":
        started = time.monotonic()
        proc = subprocess.run([str(DEV / "stack.sh"), "up"], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"deploy/dev/stack.sh up failed ({proc.returncode}):\n"
                               f"{proc.stdout}{proc.stderr}")
        print(f"\n[harness] stack up in {time.monotonic() - started:.1f}s")
    smtp = subprocess.run([str(DEV / "smtp.sh"), "dir"], capture_output=True, text=True)
    if smtp.returncode == 0 and smtp.stdout.strip():
        info.smtp_dir = Path(smtp.stdout.strip())
    yield info
    if info.prefixes and not KEEP:
        regex = "^(" + "|".join(re.escape(p) for p in info.prefixes) + ")"
        proc = subprocess.run([str(DEV / "kafka.sh"), "delete-topics", regex],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            print(f"warning: deleting the test topics failed: {proc.stderr.strip()}")


@pytest.fixture(scope="session")
def stack_smtp_dir(stack) -> Path:
    return stack.smtp_dir


@pytest.fixture(scope="module")
def env(stack, request):
    world = TestEnv(request.module.__name__.rsplit(".", 1)[-1], stack)
    try:
        world.setup()
        yield world
    finally:
        world.teardown()


@pytest.fixture(scope="module")
def mailbox(env) -> Mailbox:
    return env.mail


@pytest.fixture(scope="module")
def smtp_dir(env) -> Path:
    return env.mail.dir


_log_names: set[str] = set()


def _log_path(module: str, name: str) -> Path:
    base = f"{module}-{name}"
    candidate, n = base, 1
    while candidate in _log_names:
        n += 1
        candidate = f"{base}-{n}"
    _log_names.add(candidate)
    path = ARTIFACTS / "logs" / f"{candidate}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    return path


@pytest.fixture(scope="module")
def start_service(env):
    started: list[Service] = []

    def start(name: str, extra_env: dict[str, str | None] | None = None, *, wait: bool = True,
              timeout: float = 60.0, args: Iterable[str] = (), binary: str | Path | None = None,
              addr_var: str | None = None) -> Service:
        exe = Path(binary) if binary else BIN_DIR / f"vigil-{name}"
        if not exe.is_absolute():
            exe = BIN_DIR / exe
        if not os.access(exe, os.X_OK):
            raise RuntimeError(f"{exe} not found or not executable: run make first")
        var = addr_var or SERVICES.get(name) or f"VIGIL_{_slug(name, 30).upper()}_ADDR"
        addr = f"127.0.0.1:{free_port()}"
        service_env = env.service_env({var: addr, **(extra_env or {})})
        addr = service_env.get(var, addr)
        svc = Service(name, [str(exe), *args], service_env, addr, _log_path(env.name, name))
        svc.start()
        started.append(svc)
        if wait:
            try:
                svc.wait_ready(timeout)
            except Exception:
                svc.stop()
                raise
        return svc

    yield start

    problems = []
    for svc in reversed(started):
        died_alone = not svc.running and not svc.handled
        if svc.running:
            rc = svc.stop()
            if rc != 0:
                problems.append(f"{svc.name} exited {rc} on SIGTERM at teardown")
        elif died_alone and svc.returncode != 0:
            problems.append(f"{svc.name} died during the tests with exit code {svc.returncode}")
        text = svc.log_text()
        marks = [m for m in SANITIZER_MARKS if m in text]
        if marks:
            problems.append(f"{svc.name} log has sanitizer reports ({', '.join(marks)})")
        if problems and problems[-1].startswith(svc.name):
            problems[-1] += f"; log {svc.log_path}:\n{_tail(svc.log_path, 30)}"
    if problems:
        pytest.fail("service problems at teardown:\n" + "\n".join(problems), pytrace=False)
