"""A private running instance for the fault tests: PostgreSQL (initdb + pg_ctl on a temporary directory and a free
port), Redis (its own port, no persistence), gunicorn (2 gthread workers) and a Celery worker and beat, all started
here so they can be killed and restarted without touching the machine's own PostgreSQL (5432) or Redis (6379).

Vendors are driven through HTTP like browsers (bench/deadline_rush.py's client: real CSRF tokens, cookie jars).
"""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.deadline_rush import Browser, hidden_inputs, multipart, page_text, pdf_bytes  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PASSWORD = "Fault-tests-password-2006"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found under /usr/lib/postgresql/*/bin")
    return found[-1]


class PrivatePostgres:
    def __init__(self, tmp: Path):
        self.dir = tmp / "pgdata"
        self.sockets = tmp / "pgsock"
        self.port = free_port()
        self.log = tmp / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/tenderbox"

    def init(self) -> None:
        for path in (self.dir, self.sockets):
            path.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir.parent, "postgres")
            for path in (self.dir, self.sockets):
                shutil.chown(path, "postgres")
        subprocess.run(_as_postgres([_pg_bin("initdb"), "-D", str(self.dir), "-U", "postgres", "-A", "trust",
                                     "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
        self.start()
        subprocess.run(_as_postgres([_pg_bin("createdb"), "-h", HOST, "-p", str(self.port), "-U", "postgres",
                                     "tenderbox"]), check=True, capture_output=True)

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses={HOST} -k {self.sockets} -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(self.dir), "-o", options, "-l", str(self.log),
                                     "-w", "-t", "60", "start"]), check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(self.dir), "-m", "fast", "-w", "stop"]),
                       capture_output=True)


class PrivateRedis:
    def __init__(self, tmp: Path):
        self.port = free_port()
        self.log = tmp / "redis.log"
        self.proc: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if not exe:
            raise RuntimeError("redis-server not found")
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"],
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_until(self._ping, 15):
            raise RuntimeError("private redis-server did not start")

    def _ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Process:
    """A child process started in its own session (so it and its children are killed by process group id)."""

    def __init__(self, name: str, cmd: list[str], env: dict, log: Path):
        self.name, self.cmd, self.env, self.log = name, cmd, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def children(self) -> list[int]:
        if self.proc is None:
            return []
        pids = []
        for children in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            try:
                pids += [int(p) for p in children.read_text().split()]
            except OSError:
                pass
        return sorted(set(pids))

    def kill_group(self) -> None:
        """kill -9 the process and everything it started (its process group: it was started in its own session)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                self.kill_group()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Vendor:
    email: str
    user_id: int
    vendor_id: int
    browser: Browser | None = None


@dataclass
class Stack:
    tmp: Path
    pg: PrivatePostgres
    redis: PrivateRedis
    env: dict
    web: Process | None = None
    worker: Process | None = None
    beat: Process | None = None
    web_port: int = 0
    flask_app: object = None
    exercise_id: int = 0
    section_id: int = 0
    vendors: list[Vendor] = field(default_factory=list)
    admin_email: str = ""
    storage_mounted: bool = False

    # --- processes ---------------------------------------------------------------------------------------
    def start_web(self) -> None:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.web = Process("gunicorn", [gunicorn, "-w", "2", "-k", "gthread", "--threads", "4", "-b",
                                        f"{HOST}:{self.web_port}", "--timeout", "60", "--graceful-timeout", "3",
                                        "--log-level", "warning", "wsgi:app"], self.env, self.tmp / "gunicorn.log")
        self.web.start()
        if not wait_until(lambda: self._web_ready(), 60, 0.3):
            raise RuntimeError(f"gunicorn did not start:\n{self.web.log_tail()}")

    def _web_ready(self) -> bool:
        try:
            return Browser(self.web_port).get("/healthz").status == 200 and len(self.web.children()) == 2
        except OSError:
            return False

    def start_worker(self) -> None:
        celery = str(Path(sys.executable).parent / "celery")
        self.worker = Process("celery", [celery, "-A", "wsgi.celery_app", "worker", "--concurrency=2",
                                         "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
                              self.env, self.tmp / "worker.log")
        self.worker.start()
        if not wait_until(lambda: len(self.worker.children()) >= 2, 60, 0.3):
            raise RuntimeError(f"the Celery worker did not start:\n{self.worker.log_tail()}")
        time.sleep(1.0)  # connected to the broker

    def start_beat(self) -> None:
        """Beat in its own process, as in production (README): it sends the relay and clean-up tasks."""
        celery = str(Path(sys.executable).parent / "celery")
        self.beat = Process("beat", [celery, "-A", "wsgi.celery_app", "beat", "--loglevel=WARNING",
                                     "-s", str(self.tmp / "beat-schedule")], self.env, self.tmp / "beat.log")
        self.beat.start()

    def supervise_worker(self):
        """What systemd (Restart=always) does in production: start the Celery worker (or beat) again when it exits. Celery
        5.7/kombu 5.7 may exit on a broker connection lost mid-acknowledgement ("Unrecoverable error:
        AttributeError ... 'hostname'"). Returns (stop event, list of restart times)."""
        stop, restarts = threading.Event(), []

        def watch():
            while not stop.wait(0.5):
                for process in (self.worker, self.beat):
                    if process.proc is not None and process.proc.poll() is not None:
                        restarts.append((process.name, time.monotonic()))
                        try:
                            os.killpg(process.proc.pid, signal.SIGKILL)  # its pool processes, if any are left
                        except ProcessLookupError:
                            pass
                        process.start()
        threading.Thread(target=watch, daemon=True).start()
        return stop, restarts

    def web_workers(self) -> list[int]:
        return self.web.children() if self.web else []

    def kill_web_workers(self) -> list[int]:
        """kill -9 every gunicorn worker (the master stays and starts new ones)."""
        killed = self.web_workers()
        for pid in killed:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return killed

    def wait_web_workers(self, old: list[int], timeout: float = 30) -> bool:
        return bool(wait_until(lambda: len([p for p in self.web_workers() if p not in old]) == 2
                               and self._web_ready(), timeout, 0.1))

    # --- vendors -----------------------------------------------------------------------------------------
    def browser_for(self, vendor: Vendor) -> Browser:
        """A browser signed in as vendor (through the sign-in form, real CSRF)."""
        b = Browser(self.web_port)
        page = b.get("/login")
        token = hidden_inputs(page.text).get("csrf_token")
        response = b.post_form("/login", {"csrf_token": token, "email": vendor.email, "password": PASSWORD})
        if response.status != 302 or "/login" in response.location:
            raise RuntimeError(f"{vendor.email}: sign-in answered {response.status}: {page_text(response.text)[:200]}")
        vendor.browser = b
        return b

    def proposal_fields(self, b: Browser) -> dict:
        page = b.get(f"/exercises/{self.exercise_id}/submission")
        if page.status != 200:
            raise RuntimeError(f"proposal page answered {page.status}: {page_text(page.text)[:200]}")
        return hidden_inputs(page.text)

    def upload(self, b: Browser, content: bytes, name: str = "proposal.pdf"):
        fields = self.proposal_fields(b)
        body, ctype = multipart({"csrf_token": fields["csrf_token"], "section_id": self.section_id}, name, content)
        return b.request("POST", f"/exercises/{self.exercise_id}/submission/files", body, ctype, timeout=30)

    def submit(self, b: Browser, timeout: float = 30):
        fields = self.proposal_fields(b)
        if "draft_version" not in fields:  # already submitted: the page shows the receipt link, no form
            return None
        return b.post_form(f"/exercises/{self.exercise_id}/submission/submit",
                           {"csrf_token": fields["csrf_token"], "draft_version": fields["draft_version"]})

    def receipt(self, b: Browser):
        return b.get(f"/exercises/{self.exercise_id}/submission/receipt")


def make_env(tmp: Path, pg: PrivatePostgres, redis: PrivateRedis) -> dict:
    keep = {k: v for k, v in os.environ.items()
            if k in {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "TZ"}}
    return {
        **keep,
        "DATABASE_URL": pg.url,
        "CELERY_BROKER_URL": redis.url(0),
        "RATELIMIT_STORAGE_URI": redis.url(1),
        "STORAGE_DIR": str(tmp / "storage"),
        "OUTBOX_DIR": str(tmp / "outbox"),
        "TENDERBOX_INSTANCE": str(tmp / "instance"),
        "AUDIT_SIGNING_KEY_FILE": str(tmp / "audit-signing.key"),
        "AUDIT_CHECKPOINT_FILE": str(tmp / "audit-checkpoints.log"),
        # The seeding app (in the test process) and gunicorn/Celery must seal and unseal with the same server key.
        "SEALING_KEY_FILE": str(tmp / "instance" / "sealing.key"),
        "SECRET_KEY": secrets.token_hex(32),
        "PUBLIC_URL": "http://127.0.0.1",
        "TENDERBOX_DEV": "1",  # plain http on loopback: cookies without Secure
        "FLASK_APP": "wsgi",
        # Every vendor signs in from 127.0.0.1: lift the sign-in throttles (existing settings).
        "LOGIN_IP_RATE_LIMIT": "100000 per minute", "LOGIN_RATE_LIMIT": "100000 per minute",
        # Recovery timings short enough for a test run (production defaults: README, app/config.py).
        "RENDER_LEASE_SECONDS": "8", "RENDER_RETRY_SECONDS": "2",
        "OUTBOX_GRACE_SECONDS": "3", "OUTBOX_RELAY_SECONDS": "1", "OUTBOX_BACKOFF_MAX_SECONDS": "8",
        "ORPHAN_MAX_AGE_SECONDS": "5", "CLEAN_ORPHANS_SECONDS": "2",
        "STORAGE_LOW_FREE_MB": "1",
    }


def migrate(env: dict) -> None:
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{run.stdout}\n{run.stderr}")


def seed(stack: Stack, vendors: int) -> None:
    """One admin, three officers, one published exercise (one section, attachment required) and `vendors` verified
    vendors with their draft answers saved, through the real operations."""
    import io

    from argon2 import PasswordHasher

    from app.auth.models import Role
    from app.auth.operations import create_staff_user, mark_email_verified, register_vendor
    from app.db import now_utc
    from app.extensions import db
    from app.storage import save_upload
    from eoi import operations as ops
    from eoi.models import ServiceCluster
    from eoi.operations.setup import add_section
    from eoi.states import ExerciseKind
    from datetime import timedelta

    with stack.flask_app.app_context():
        production_hash = PasswordHasher().hash(PASSWORD)
        cluster = ServiceCluster(code="FAULTS", name_en="Fault cluster", name_zh="故障測試群組")
        db.session.add(cluster)
        admin = create_staff_user(name="Fault Admin", email="admin@faults.example", password=PASSWORD,
                                  role=Role.admin, actor="faults")
        officer, *_ = openers = [create_staff_user(name=f"Fault Officer {k}", email=f"officer{k}@faults.example",
                                                   password=PASSWORD, role=Role.officer, actor="faults")
                                 for k in range(3)]
        admin.password_hash = production_hash
        db.session.commit()
        now = now_utc()
        exercise = ops.create_exercise(
            actor=officer, kind=ExerciseKind.eoi, reference="FAULTS/01", title_en="Fault tests",
            title_zh="故障測試", description_en="Fault tests.", description_zh="故障測試。", clusters=[cluster],
            publication_at=now - timedelta(hours=1), clarification_deadline=now - timedelta(minutes=1),
            closes_at=now + timedelta(days=1), validity_until=now + timedelta(days=90))
        section = add_section(exercise, actor=officer, title_en="Technical proposal", title_zh="技術建議書",
                              guidance_en="Attach it.", guidance_zh="請附上。", word_limit=None, answer_required=True,
                              attachment_required=True)
        upload = save_upload(io.BytesIO(pdf_bytes(4096)), "invitation.pdf", max_bytes=1024 * 1024)
        ops.add_exercise_document(exercise, upload, title="Invitation", actor=officer)
        for opener in openers:  # only an officer with an opening passphrase can be named to open (issue 9)
            ops.set_opening_passphrase(opener, f"fault opening passphrase {opener.id}")
        ops.publish_exercise(exercise, actor=officer, opening_officers=openers)
        db.session.commit()
        stack.exercise_id, stack.section_id, stack.admin_email = exercise.id, section.id, admin.email
        for i in range(vendors):
            user = register_vendor(name_en=f"Fault Vendor {i:03d} Limited", name_zh=f"故障供應商{i:03d}有限公司",
                                   br_number=f"7{i:07d}", address=f"{i} Fault Road", contact_name=f"Contact {i}",
                                   contact_phone=f"3{i:07d}", name=f"Contact {i}", email=f"v{i:03d}@faults.example",
                                   password=PASSWORD, locale="en")
            mark_email_verified(user, actor=user)
            user.password_hash = production_hash
            submission = ops.get_or_create_submission(exercise, actor=user)
            ops.save_draft(submission, actor=user, answers={section.id: f"Proposal of vendor {i}."})
            stack.vendors.append(Vendor(user.email, user.id, user.vendor_id))
        db.session.commit()
        db.session.remove()
