#!/usr/bin/env python3
"""Benchmark: a deadline rush of N vendors submitting a 1 MB attachment in the last minute before closing.

Usage (from the repo root, PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres, Redis on
127.0.0.1:6379):
    python bench/deadline_rush.py [--vendors 200] [--window 60] [--late-fraction 0.05] [--concurrency 16]
                                  [--workers 4] [--threads 4] [--worker-class gthread] [--quick]

Self-contained and loopback only. It
  1. drops and re-creates the scratch database `tenderbox_bench`, runs the migrations (`flask db upgrade`),
     picks an empty Redis database no client is using (Celery broker and rate-limit store; another run's
     broker is never flushed or fed);
  2. creates through the real operations one officer, N verified vendors, two published EOI exercises with one
     section that requires an attachment (A for the rush, B for the throughput ratio) and every vendor's draft
     answers in both;
  3. starts gunicorn (wsgi:app, production configuration from the environment, BENCH_ROUTES=1 for the bare
     upload endpoint of app/bench_routes.py) on a free 127.0.0.1 port;
  4. signs every vendor in through the login form (real CSRF tokens, one cookie jar each) and opens its
     proposal pages;
  5. ratio phase: with --concurrency clients, N bare uploads (POST /_bench/upload, streamed and hashed, no
     database), then N full vendor submissions in exercise B (upload -> proposal page -> submit -> receipt);
     ratio = full submissions per second / bare uploads per second;
  6. the rush: exercise A's closing time is moved to now + lead + window (a harness shortcut: the app itself only
     moves closing through addenda); each vendor starts at a random moment of the last `window` seconds (up to
     1 s before closing) and does upload -> proposal page -> submit -> receipt, like a browser; a
     --late-fraction of the vendors starts 1-2 s after closing and must be refused;
  7. cross-checks every outcome against the database (submitted version whose manifest and stored file on disk
     carry the SHA-256 the client sent; a LateAttempt row for every refusal; nothing half-saved), verifies the
     audit chain, measures the gunicorn workers' RSS (before/after the rush, and around one 25 MB upload);
  8. stops gunicorn, drops the database, flushes its Redis database, removes its temporary directory (also on Ctrl-C/error).

Receipt PDFs are queued in Redis and NOT rendered during the run: no Celery worker drains the queue, as on a
production set-up where the workers run on other machines.

Ends with exactly one line:
    deadline-rush: vendors=<n> accepted=<n> refused_late=<n> lost=<n> p50_ms=<x> p99_ms=<x> ratio=<x> rss_growth_mb=<x>
Exit status 1 when a vendor was lost (or the set-up/verification failed).
"""
from __future__ import annotations

import argparse
import hashlib
import html
import http.client
import json
import logging
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PLAINTEXT = False  # --plaintext: encryption replaced by pass-throughs (bench/plaintext_crypto.py)
MB = 1024 * 1024
PASSWORD = "Deadline-rush-bench-2006"
REFUSED = "Refused: received at"  # eoi.operations.submissions.require_open (vendors use English)
RUSH_REF, RATIO_REF = "BENCH/RUSH/01", "BENCH/RATIO/01"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- arguments and environment ------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--vendors", type=int, default=200)
    p.add_argument("--window", type=float, default=60.0, help="seconds before closing in which vendors start")
    p.add_argument("--lead", type=float, default=10.0, help="seconds between moving the closing time and the window")
    p.add_argument("--late-fraction", type=float, default=0.05, help="vendors starting 1-2 s after closing")
    p.add_argument("--concurrency", type=int, default=16, help="clients in the ratio phase")
    p.add_argument("--size-mb", type=float, default=1.0, help="attachment size")
    p.add_argument("--big-mb", type=int, default=25, help="size of the one streaming check upload")
    # 4 x 4 gthread measured better than 3 x 8 on 2 cores: fewer threads per process means the thread holding the
    # audit chain's lock waits less for its process's GIL, and every write waits for that lock (see README).
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--worker-class", default="gthread")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="server URL, trust auth")
    p.add_argument("--db-name", default="tenderbox_bench")
    p.add_argument("--redis", default="redis://127.0.0.1:6379",
                   help="Redis server (the bench picks an empty database nobody is connected to, and flushes only "
                        "that one); a URL ending in /<db> names the database, which must be empty and unused")
    p.add_argument("--seed", type=int, default=2006)
    p.add_argument("--quick", action="store_true", help="smoke run: 20 vendors, 10 s window")
    p.add_argument("--keep", action="store_true", help="keep the database and temp dir (debugging)")
    p.add_argument("--plaintext", action="store_true",
                   help="measure without encryption: eoi.crypto's ciphers replaced by pass-throughs in this process "
                        "and in gunicorn's workers (bench/plaintext_crypto.py; never in the application)")
    p.add_argument("--floor", action="store_true",
                   help="also measure the framework floor: the same four signed-in requests against the benchmark's "
                        "minimal routes (app/bench_routes.py: upload with one row and one audit event, a page, a "
                        "submit with one audit event, a receipt page; no exercise, sealing, version or receipt), and "
                        "print its ratio to bare uploads")
    p.add_argument("--compare-encryption", action="store_true",
                   help="run twice, encrypted then --plaintext, and print both lines and the throughput encryption "
                        "costs (issue 9: at most 15 %%)")
    args = p.parse_args()
    if args.quick:
        args.vendors, args.window, args.lead = min(args.vendors, 20), min(args.window, 10.0), min(args.lead, 4.0)
    if args.vendors < 2 or args.window < 2:
        p.error("need at least 2 vendors and a 2 s window")
    return args


def database_urls(args) -> tuple[str, str]:
    """(psycopg DSN of the maintenance database, SQLAlchemy URL of the scratch database)."""
    base = args.pg.rstrip("/").replace("postgresql+psycopg://", "postgresql://")
    return f"{base}/postgres", f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{args.db_name}"


def bench_env(args, tmp: Path) -> dict[str, str]:
    _admin, url = database_urls(args)
    return {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": args.redis,  # receipts are queued, not rendered in the request
        "RATELIMIT_STORAGE_URI": args.redis,
        # Every vendor signs in from 127.0.0.1: lift the sign-in throttles (existing settings, no code switch).
        "LOGIN_IP_RATE_LIMIT": "100000 per minute",
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "STORAGE_DIR": str(tmp / "storage"),
        "OUTBOX_DIR": str(tmp / "outbox"),
        "TENDERBOX_INSTANCE": str(tmp / "instance"),
        "SECRET_KEY": secrets.token_hex(32),
        "PUBLIC_URL": "http://127.0.0.1",
        "BENCH_ROUTES": "1",
        "FLASK_APP": "wsgi",
    }


# --- database, Redis --------------------------------------------------------------------------------

def recreate_database(args) -> None:
    import psycopg
    admin, _url = database_urls(args)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.db_name}"')


def drop_database(args) -> None:
    import psycopg
    admin, _url = database_urls(args)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')


def redis_client(args):
    import redis
    return redis.Redis.from_url(args.redis)


def pick_redis_db(args) -> None:
    """Choose a Redis database that holds no keys and has no client (another test run's broker, say), so the
    bench never flushes or feeds someone else's queue. Sets args.redis to its URL."""
    import redis
    base, _, tail = args.redis.rstrip("/").rpartition("/")
    explicit = tail.isdigit() and base.startswith("redis")
    server = redis.Redis.from_url(base if explicit else args.redis)
    in_use = {int(c.get("db", 0)) for c in server.client_list()} - {0}  # our own probe connection is on db 0
    candidates = [int(tail)] if explicit else [12, 11, 10, 9, 8, 6, 5, 4, 3, 2, 1, 15]
    for db in candidates:
        if db not in in_use and redis.Redis.from_url(f"{base if explicit else args.redis}/{db}").dbsize() == 0:
            args.redis = f"{base if explicit else args.redis}/{db}"
            return
    raise RuntimeError(f"no empty, unused Redis database among {candidates} (in use: {sorted(in_use)})")


def migrate(env: dict) -> None:
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                         env={**os.environ, **env}, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{run.stdout}\n{run.stderr}")


# --- data, created through the real operations ----------------------------------------------------------

@dataclass
class Vendor:
    index: int
    email: str
    vendor_id: int
    browser: "Browser | None" = None
    csrf: str = ""
    draft_version: dict[int, int] = field(default_factory=dict)  # exercise id -> draft_version on its page


@dataclass
class Seeded:
    vendors: list[Vendor]
    rush_id: int
    rush_section: int
    ratio_id: int
    ratio_section: int


def tiny_pdf(title: str) -> bytes:
    return (b"%PDF-1.4\n% " + title.encode() + b"\n" + os.urandom(2048).hex().encode() + b"\n%%EOF\n")


def seed(flask_app, n: int) -> Seeded:
    import io

    from argon2 import PasswordHasher

    from app.auth.models import Role
    from app.auth.operations import create_staff_user, mark_email_verified, register_vendor
    from app.db import now_utc
    from app.extensions import db
    from app.storage import save_upload
    from eoi import operations as ops
    from eoi.models import Exercise, ServiceCluster
    from eoi.operations.setup import add_section
    from eoi.states import ExerciseKind

    # Registration hashes cheaply (ARGON2_FAST in the set-up app); the stored hash is a production-cost one,
    # so sign-in on the server verifies at the real cost and does not rehash.
    production_hash = PasswordHasher().hash(PASSWORD)
    cluster = ServiceCluster(code="BENCH", name_en="Bench cluster", name_zh="測試群組")
    db.session.add(cluster)
    officer, *_ = openers = [create_staff_user(name=f"Bench Officer {k}", email=f"officer{k or ''}@bench.example",
                                               password=PASSWORD, role=Role.officer, actor="bench") for k in range(3)]
    for opener in openers:  # only an officer with an opening passphrase can be named to open (issue 9)
        ops.set_opening_passphrase(opener, f"bench opening passphrase {opener.id}")
    db.session.commit()
    vendors = []
    for i in range(n):
        user = register_vendor(name_en=f"Rush Vendor {i:04d} Limited", name_zh=f"衝刺供應商{i:04d}有限公司",
                               br_number=f"9{i:07d}", address=f"{i} Bench Road, Hong Kong", contact_name=f"Contact {i}",
                               contact_phone=f"2{i:07d}", name=f"Contact {i}", email=f"rush{i:04d}@vendors.example",
                               password=PASSWORD, locale="en")
        mark_email_verified(user, actor=user)
        user.password_hash = production_hash
        vendors.append((user, i))
        if i % 50 == 49:
            db.session.commit()
    db.session.commit()

    now = now_utc()
    exercises = []
    for ref in (RUSH_REF, RATIO_REF):
        exercise = ops.create_exercise(
            actor=officer, kind=ExerciseKind.eoi, reference=ref, title_en=f"Deadline rush bench {ref}",
            title_zh=f"截止前提交測試 {ref}", description_en="Benchmark exercise.", description_zh="基準測試。",
            clusters=[cluster], publication_at=now - timedelta(hours=1),
            clarification_deadline=now - timedelta(minutes=1), closes_at=now + timedelta(days=1),
            validity_until=now + timedelta(days=90))
        section = add_section(exercise, actor=officer, title_en="Technical proposal", title_zh="技術建議書",
                              guidance_en="Attach your proposal (PDF).", guidance_zh="請附上建議書（PDF）。",
                              word_limit=None, answer_required=True, attachment_required=True)
        upload = save_upload(io.BytesIO(tiny_pdf("invitation")), "invitation.pdf", max_bytes=MB)
        ops.add_exercise_document(exercise, upload, title="Invitation", actor=officer)
        ops.publish_exercise(exercise, actor=officer, opening_officers=openers)
        db.session.commit()
        exercises.append((exercise.id, section.id))

    for user, i in vendors:
        for exercise_id, section_id in exercises:
            exercise = db.session.get(Exercise, exercise_id)
            submission = ops.get_or_create_submission(exercise, actor=user)
            ops.save_draft(submission, actor=user, answers={section_id: f"Proposal of vendor {i}: see the attachment."})
        if i % 50 == 49:
            db.session.commit()
    db.session.commit()
    result = Seeded([Vendor(i, user.email, user.vendor_id) for user, i in vendors],
                    exercises[0][0], exercises[0][1], exercises[1][0], exercises[1][1])
    db.session.remove()
    return result


def set_closing(flask_app, exercise_id: int, closes_at: datetime) -> None:
    import sqlalchemy as sa

    from app.extensions import db
    from eoi.models import Exercise
    with flask_app.app_context():
        db.session.execute(sa.update(Exercise).where(Exercise.id == exercise_id).values(closes_at=closes_at))
        db.session.commit()
        db.session.remove()


# --- gunicorn -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, args, env: dict, tmp: Path):
        self.args, self.env, self.tmp = args, env, tmp
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = tmp / "gunicorn.log"

    @property
    def shape(self) -> str:
        a = self.args
        return f"-w {a.workers} -k {a.worker_class}" + (f" --threads {a.threads}" if a.worker_class == "gthread" else "")

    def start(self) -> None:
        exe = Path(sys.executable).parent / "gunicorn"
        gunicorn = str(exe) if exe.exists() else shutil.which("gunicorn")
        if not gunicorn:
            raise RuntimeError("gunicorn not found next to the Python interpreter or on PATH")
        cmd = [gunicorn, "-w", str(self.args.workers), "-k", self.args.worker_class, "-b", f"{HOST}:{self.port}",
               "--timeout", "120", "--graceful-timeout", "5", "--log-level", "warning"]
        if self.args.worker_class == "gthread":
            cmd += ["--threads", str(self.args.threads)]
        if getattr(self.args, "plaintext", False):
            cmd += ["-c", str(Path(__file__).with_name("plaintext_crypto.py"))]
        cmd.append("wsgi:app")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **self.env}, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            try:
                status = Browser(self.port).request("GET", "/login").status
                if status == 200 and len(self.workers()) == self.args.workers:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not become ready:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def workers(self) -> list[int]:
        if self.proc is None:
            return []
        pids = []
        for children in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            try:
                pids += [int(p) for p in children.read_text().split()]
            except OSError:
                pass
        return sorted(set(pids))

    def rss_kb(self) -> dict[int, int]:
        out = {}
        for pid in self.workers():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        out[pid] = int(line.split()[1])
            except OSError:
                pass
        return out

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # SIGTERM to the master (by pid): workers finish and exit
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._log.close()


class RssSampler:
    """Peak RSS per worker while running (a background thread reading /proc)."""

    def __init__(self, server: Server, interval: float = 0.05):
        self.server, self.interval = server, interval
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid, kb in self.server.rss_kb().items():
                self.peak[pid] = max(self.peak.get(pid, 0), kb)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class LockSampler:
    """Samples the bench database's backends: who waits for / holds the audit chain's advisory lock
    (app/audit.py serialises appends with pg_advisory_xact_lock), other lock waits, active backends."""

    def __init__(self, dsn: str, interval: float = 0.05):
        self.dsn, self.interval = dsn, interval
        self.samples: list[tuple[int, int, int, int]] = []  # advisory waiting, advisory held, other waiting, active
        self.seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psycopg
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            start = time.perf_counter()
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE l.locktype = 'advisory' AND NOT l.granted),"
                    " count(*) FILTER (WHERE l.locktype = 'advisory' AND l.granted),"
                    " count(*) FILTER (WHERE l.locktype <> 'advisory' AND NOT l.granted),"
                    " (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'"
                    "  AND pid <> pg_backend_pid())"
                    " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE a.datname = current_database()").fetchone()
                self.samples.append(tuple(row))
                self._stop.wait(self.interval)
            self.seconds = time.perf_counter() - start

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def summary(self, lock_transactions: int) -> str:
        """lock_transactions: how many transactions took the audit lock during the sampling (Little's law
        turns mean waiters and the held fraction into a mean wait and a mean hold per transaction)."""
        if not self.samples:
            return "no samples"
        waiting = statistics.mean(s[0] for s in self.samples)
        held = sum(1 for s in self.samples if s[1]) / len(self.samples)
        rate = lock_transactions / self.seconds if self.seconds else 0
        per_txn = (f", i.e. per writing transaction ~{held / rate * 1000:.0f} ms holding and "
                   f"~{waiting / rate * 1000:.0f} ms waiting ({rate:.1f} transactions/s)") if rate else ""
        return (f"audit-chain lock held {held:.0%} of the time, waiters mean {waiting:.2f} max "
                f"{max(s[0] for s in self.samples)}{per_txn}; row-lock waiters max {max(s[2] for s in self.samples)}; "
                f"active backends mean {statistics.mean(s[3] for s in self.samples):.1f}")


class CpuMeter:
    """CPU seconds used by gunicorn (master + workers), PostgreSQL (all its processes), this client, and the
    machine's busy fraction, between enter and exit."""

    def __init__(self, server: "Server", db_name: str):
        self.server, self.db_name = server, db_name
        self.tick = os.sysconf("SC_CLK_TCK")

    def _proc_cpu(self, pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / self.tick
        except (OSError, IndexError, ValueError):
            return 0.0

    def _postgres(self) -> dict[int, float]:
        """The backends serving the bench database (other databases on the server are someone else's)."""
        found = {}
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                text = cmdline.read_bytes().decode(errors="replace")
            except OSError:
                continue
            if text.startswith("postgres:") and f" {self.db_name} " in text:
                found[int(cmdline.parent.name)] = self._proc_cpu(int(cmdline.parent.name))
        return found

    def _machine(self) -> tuple[float, float]:
        values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    def snapshot(self) -> dict:
        pids = [self.server.proc.pid] + self.server.workers() if self.server.proc else []
        busy, total = self._machine()
        usage = os.times()
        return {"gunicorn": {pid: self._proc_cpu(pid) for pid in pids}, "postgres": self._postgres(),
                "client": usage.user + usage.system, "busy": busy, "total": total, "wall": time.perf_counter()}

    def __enter__(self):
        self.start = self.snapshot()
        return self

    def __exit__(self, *exc):
        self.end = self.snapshot()

    def summary(self) -> str:
        a, b = self.start, self.end
        wall = b["wall"] - a["wall"]
        gunicorn = sum(v - a["gunicorn"].get(pid, 0.0) for pid, v in b["gunicorn"].items())
        postgres = sum(v - a["postgres"].get(pid, 0.0) for pid, v in b["postgres"].items())
        client = b["client"] - a["client"]
        busy = (b["busy"] - a["busy"]) / max(1, b["total"] - a["total"])
        machine = (b["busy"] - a["busy"]) / self.tick
        others = max(0.0, machine - gunicorn - postgres - client)
        return (f"CPU over {wall:.1f} s on {os.cpu_count()} cores: machine {busy:.0%} busy; gunicorn {gunicorn:.1f} s, "
                f"PostgreSQL (bench backends) {postgres:.1f} s, bench client {client:.1f} s, "
                f"everything else on the machine {others:.1f} s")


def machine_busy(seconds: float) -> float:
    def read():
        values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(values) - values[3] - values[4], sum(values)
    busy0, total0 = read()
    time.sleep(seconds)
    busy1, total1 = read()
    return (busy1 - busy0) / max(1, total1 - total0)


# --- a minimal browser ----------------------------------------------------------------------------------

@dataclass
class Response:
    status: int
    location: str
    text: str
    seconds: float


_INPUT = re.compile(r"<input\b[^>]*>", re.I)
_ATTR = re.compile(r'([\w:-]+)\s*=\s*"([^"]*)"')
_TAGS = re.compile(r"<[^>]+>")


def hidden_inputs(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in _INPUT.findall(text):
        attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(tag)}
        if attrs.get("type", "").lower() == "hidden" and "name" in attrs:
            found.setdefault(attrs["name"], attrs.get("value", ""))
    return found


def page_text(text: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", text)).split())


def multipart(fields: dict, filename: str, content: bytes, field_name: str = "file",
              content_type: str = "application/pdf") -> tuple[bytes, str]:
    boundary = f"----tenderbox-bench-{uuid.uuid4().hex}"
    head = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in fields.items())
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; filename="{filename}"\r\n'
             f"Content-Type: {content_type}\r\n\r\n").encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def pdf_bytes(size: int) -> bytes:
    """Random bytes in a PDF envelope, so the upload's content check (magic bytes) accepts it."""
    head, tail = b"%PDF-1.4\n", b"\n%%EOF\n"
    return head + os.urandom(max(0, size - len(head) - len(tail))) + tail


class Browser:
    """One vendor's cookie jar; a new loopback connection per request (no ambiguous keep-alive retries)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                timeout: float = 120) -> Response:
        headers = {"Connection": "close", "Accept": "text/html", "User-Agent": "tenderbox-deadline-rush",
                   "Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        start = time.perf_counter()
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            for header in resp.headers.get_all("Set-Cookie") or []:
                pair, _, attrs = header.partition(";")
                name, _, value = pair.strip().partition("=")
                lowered = attrs.lower()
                if "max-age=0" in lowered or "01 jan 1970" in lowered or "01-jan-1970" in lowered:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
            return Response(resp.status, resp.getheader("Location") or "", data.decode("utf-8", "replace"),
                            time.perf_counter() - start)
        finally:
            conn.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict) -> Response:
        return self.request("POST", path, urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def follow(self, response: Response) -> Response:
        """GET the redirect target, as a browser does after a POST."""
        target = urlsplit(response.location)
        return self.get(target.path + (f"?{target.query}" if target.query else ""))


# --- vendor flows -----------------------------------------------------------------------------------------

def sign_in(vendor: Vendor, port: int, exercise_ids: tuple[int, ...]) -> None:
    b = Browser(port)
    page = b.get("/login")
    token = hidden_inputs(page.text).get("csrf_token")
    if page.status != 200 or not token:
        raise RuntimeError(f"{vendor.email}: no sign-in form ({page.status})")
    r = b.post_form("/login", {"csrf_token": token, "email": vendor.email, "password": PASSWORD})
    if r.status != 302 or "/login" in r.location:
        raise RuntimeError(f"{vendor.email}: sign-in failed ({r.status}): {page_text(r.text)[:300]}")
    for exercise_id in exercise_ids:
        page = b.get(f"/exercises/{exercise_id}/submission")
        fields = hidden_inputs(page.text)
        if page.status != 200 or "csrf_token" not in fields or "draft_version" not in fields:
            raise RuntimeError(f"{vendor.email}: proposal page of exercise {exercise_id} has no form "
                               f"({page.status}): {page_text(page.text)[:300]}")
        vendor.csrf, vendor.draft_version[exercise_id] = fields["csrf_token"], int(fields["draft_version"])
    vendor.browser = b


@dataclass
class Outcome:
    vendor: Vendor
    scheduled: float = 0.0          # seconds relative to closing (negative = before)
    started_at: float = 0.0         # wall clock
    kind: str = "pending"           # accepted | refused | error
    detail: str = ""
    receipt: str = ""
    sha256: str = ""
    upload_refused: bool = False
    seconds: float = 0.0            # the whole flow: upload, proposal page, submit, receipt page
    steps: list[float] = field(default_factory=list)


def submission_flow(vendor: Vendor, exercise_id: int, reference: str, body: bytes, content_type: str,
                    sha: str, outcome: Outcome) -> Outcome:
    """Upload -> (redirect) proposal page -> submit -> (redirect) receipt, as the vendor's browser does."""
    b = vendor.browser
    base = f"/exercises/{exercise_id}/submission"
    outcome.sha256, outcome.started_at = sha, time.time()
    start = time.perf_counter()
    try:
        up = b.request("POST", f"{base}/files", body, content_type)
        outcome.steps.append(up.seconds)
        if up.status == 400 and REFUSED in up.text:
            # Refused after closing: the proposal page comes back with the refusal at the file input (no redirect)
            page = up
            outcome.steps.append(0.0)
        elif up.status != 302:
            outcome.kind, outcome.detail = "error", f"upload answered {up.status}: {page_text(up.text)[:200]}"
            return outcome
        else:
            page = b.follow(up)
            outcome.steps.append(page.seconds)
        if page.status != (400 if page is up else 200):
            outcome.kind, outcome.detail = "error", f"proposal page answered {page.status}"
            return outcome
        if REFUSED in page.text:
            outcome.upload_refused = True
        elif sha not in page.text:
            outcome.kind, outcome.detail = "error", f"upload not confirmed: {page_text(page.text)[:200]}"
            return outcome
        draft_version = hidden_inputs(page.text).get("draft_version")
        if not draft_version:  # closed: the page has no forms any more (or an empty one); send the version we had
            draft_version = vendor.draft_version[exercise_id]
        sub = b.post_form(f"{base}/submit", {"csrf_token": vendor.csrf, "draft_version": draft_version})
        outcome.steps.append(sub.seconds)
        if sub.status == 409 and REFUSED in sub.text:  # refused after closing: the page again, with the refusal
            outcome.kind = "refused"
            return outcome
        if sub.status != 302:
            outcome.kind, outcome.detail = "error", f"submit answered {sub.status}: {page_text(sub.text)[:200]}"
            return outcome
        final = b.follow(sub)
        outcome.steps.append(final.seconds)
        if urlsplit(sub.location).path.endswith("/submission/receipt"):
            match = re.search(re.escape(reference) + r"-R\d{4}-\d{2}", final.text)
            if final.status == 200 and match:
                outcome.kind, outcome.receipt = "accepted", match.group(0)
            else:
                outcome.kind, outcome.detail = "error", f"receipt page without a receipt number ({final.status})"
        elif REFUSED in final.text:
            outcome.kind = "refused"
        else:
            outcome.kind, outcome.detail = "error", f"submit not accepted: {page_text(final.text)[:300]}"
        return outcome
    except (OSError, http.client.HTTPException) as exc:
        outcome.kind, outcome.detail = "error", f"{type(exc).__name__}: {exc}"
        return outcome
    finally:
        outcome.seconds = time.perf_counter() - start


def prepare_upload(vendor: Vendor, section_id: int, size: int) -> tuple[bytes, str, str]:
    content = pdf_bytes(size)
    body, ctype = multipart({"csrf_token": vendor.csrf, "section_id": section_id}, f"proposal-{vendor.index:04d}.pdf",
                            content)
    return body, ctype, hashlib.sha256(content).hexdigest()


# --- checks against the database ----------------------------------------------------------------------------

def sealed_size(size: int) -> int:
    """Bytes on disk of a file of size plain bytes, encrypted by eoi.crypto.EncryptingWriter (header, then chunks of
    FILE_CHUNK bytes with a 16-byte tag each; the last chunk is always written, even empty)."""
    from eoi import crypto
    chunks = max(1, math.ceil(size / crypto.FILE_CHUNK))
    return len(crypto.FILE_MAGIC) + 7 + size + 16 * chunks


def close_as_the_beat_does(flask_app) -> int:
    """Run the periodic closing task in this process (no Celery beat runs during the bench): every exercise whose
    closing time has passed is closed and its proposals' draft keys are destroyed, as in production."""
    from app.extensions import db
    from eoi.operations.opening import close_due_exercises
    with flask_app.app_context():
        closed = close_due_exercises()
        db.session.commit()
        db.session.remove()
    return closed


def verify(flask_app, exercise_id: int, outcomes: list[Outcome]) -> tuple[list[str], dict]:
    """Every accepted vendor has a submitted version (before closing) with the receipt's number whose manifest and
    stored file carry the client's SHA-256; every refused one a LateAttempt after closing and no submitted version;
    nothing half-saved. Returns (problems, facts).

    While the server can still decrypt the proposal (before closing) the manifest is decrypted and checked against
    the SHA-256 on the receipt and the file is decrypted and hashed again. After closing the server holds no key
    (only two opening officers together can decrypt), so what is checked is what is true then: the stored file's
    SHA-256 and size (kept in clear with the sealed file), the encrypted file on disk with the size its encryption
    gives, the version and receipt number, and that the content really is unreadable to the server."""
    import sqlalchemy as sa

    from app.auth.models import User
    from app.extensions import db
    from app.storage import StoredFile, files_root, stored_path
    from eoi import crypto, sealed
    from eoi.models import Exercise, LateAttempt, Submission
    from eoi.states import SubmissionState

    problems: list[str] = []
    facts = {"decrypted": 0, "sealed": 0}
    with flask_app.app_context():
        exercise = db.session.get(Exercise, exercise_id)
        closes = exercise.closes_at
        for o in outcomes:
            v = o.vendor
            sub = db.session.scalar(sa.select(Submission).where(Submission.exercise_id == exercise_id,
                                                                Submission.vendor_id == v.vendor_id))
            late = db.session.scalars(sa.select(LateAttempt).where(LateAttempt.exercise_id == exercise_id,
                                                                   LateAttempt.vendor_id == v.vendor_id)).all()
            readable = True
            files = []
            if sub is not None:
                try:
                    files = sealed.content_for_system(sub, purpose="benchmark check").files
                except sealed.SealedContent:  # closed: the files as their vendor sees them (hash and size only)
                    readable = False
                    user = db.session.scalar(sa.select(User).where(User.email == v.email))
                    files = sealed.technical_content_for(user, sub).files
            if o.kind == "accepted":
                version = sub.current_version if sub else None
                if sub is None or sub.state != SubmissionState.submitted or version is None:
                    problems.append(f"{v.email}: receipt {o.receipt} but no submitted version in the database")
                    o.kind = "error"
                    continue
                stored = [f for f in files if f.sha256 == o.sha256]
                on_disk, listed, manifest_ok = None, bool(stored), bool(version.sha256)
                if readable:
                    facts["decrypted"] += 1
                    manifest = sealed.manifest_for_system(version, purpose="benchmark check")
                    listed = any(f["sha256"] == o.sha256 for f in manifest["files"])
                    manifest_ok = sealed.manifest_matches_hash(version)
                    if stored:
                        on_disk = "missing"
                        if stream := sealed.open_file_for_system(sub, stored[0].id, purpose="benchmark check"):
                            with stream:
                                on_disk = hashlib.sha256(stream.read()).hexdigest()
                    disk_ok = on_disk == o.sha256
                else:
                    facts["sealed"] += 1
                    disk_ok = False
                    if stored:
                        row = db.session.get(StoredFile, stored[0].file_id)
                        path = stored_path(row.storage_key)
                        if path.is_file():
                            with open(path, "rb") as raw:  # encrypted: the sealed file's header, not the PDF's
                                head = raw.read(4)
                            if PLAINTEXT:  # --plaintext: the PDF itself
                                disk_ok = head == b"%PDF" and path.stat().st_size == row.size
                            else:
                                disk_ok = head == crypto.FILE_MAGIC and path.stat().st_size == sealed_size(row.size)
                if version.receipt_number != o.receipt or not listed or not stored or not disk_ok \
                        or not version.submitted_at < closes or not manifest_ok:
                    problems.append(f"{v.email}: database does not match the receipt (receipt {version.receipt_number} vs "
                                    f"{o.receipt}, manifest lists file: {listed}, stored: {bool(stored)}, "
                                    f"file on disk ok: {disk_ok}, manifest hash ok: {manifest_ok}, "
                                    f"before closing: {version.submitted_at < closes}, decryptable: {readable})")
                    o.kind = "error"
            elif o.kind == "refused":
                if not late or any(a.received_at < closes for a in late):
                    problems.append(f"{v.email}: refused but no LateAttempt after closing recorded")
                    o.kind = "error"
                elif sub is not None and sub.state == SubmissionState.submitted:
                    problems.append(f"{v.email}: refused, yet the submission is submitted")
                    o.kind = "error"
                elif o.upload_refused and files:
                    problems.append(f"{v.email}: upload refused, yet a file was attached (half-saved)")
                    o.kind = "error"
        leftovers = list((files_root() / "tmp").glob("*"))
        if leftovers:
            problems.append(f"{len(leftovers)} temporary upload file(s) left behind in storage/tmp")
        facts.update({"late_attempts": db.session.scalar(sa.select(sa.func.count(LateAttempt.id))
                                                         .where(LateAttempt.exercise_id == exercise_id)),
                      "closes_at": closes})
        db.session.remove()
    return problems, facts


def audit_chain(flask_app) -> str:
    from app.audit import verify_chain
    from app.extensions import db
    with flask_app.app_context():
        report = verify_chain()
        db.session.remove()
    return f"audit chain: {report.checked} events, " + ("verifies end to end" if report.ok else
                                                        f"BROKEN at {report.broken_at}: {report.reason}")


# --- statistics ------------------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def step_summary(outcomes: list[Outcome]) -> str:
    names = ("upload POST", "proposal page", "submit POST", "receipt page")
    parts = []
    for i, name in enumerate(names):
        values = [o.steps[i] for o in outcomes if o.kind == "accepted" and len(o.steps) > i]
        parts.append(f"{name} p50 {ms(pct(values, 50))} / p99 {ms(pct(values, 99))} ms")
    return "; ".join(parts)


def mb(kb: float) -> float:
    return kb / 1024


# --- phases -----------------------------------------------------------------------------------------------

def bare_upload(port: int, body: bytes, ctype: str, sha: str) -> tuple[bool, float]:
    r = Browser(port).request("POST", "/_bench/upload", body, ctype)
    ok = r.status == 200 and json.loads(r.text).get("sha256") == sha
    return ok, r.seconds


def ratio_phase(args, server: Server, seeded: Seeded, size: int) -> tuple[float, float, float, list[Outcome], list[str]]:
    """(bare uploads/s, full submissions/s, ratio, outcomes of the full path, report lines)."""
    n, conc = len(seeded.vendors), args.concurrency
    bare_n = max(4 * n, 200)  # the bare endpoint is fast: more requests for a stable rate
    contents = [pdf_bytes(size) for _ in range(conc)]
    bodies = [(*multipart({}, f"bare-{i}.pdf", c), hashlib.sha256(c).hexdigest()) for i, c in enumerate(contents)]
    for body, ctype, sha in bodies[:4]:  # warm-up
        bare_upload(server.port, body, ctype, sha)
    with CpuMeter(server, args.db_name) as bare_cpu:
        start = time.perf_counter()
        with ThreadPoolExecutor(conc) as pool:
            bare = list(pool.map(lambda i: bare_upload(server.port, *bodies[i % conc]), range(bare_n)))
        bare_elapsed = time.perf_counter() - start
    bare_failed = sum(1 for ok, _s in bare if not ok)
    if bare_failed:
        raise RuntimeError(f"{bare_failed} bare uploads failed")
    bare_rate = bare_n / bare_elapsed
    lines = []
    lines.append(f"bare upload: {bare_n} x {size / MB:g} MB with {conc} clients in {bare_elapsed:.1f} s = {bare_rate:.1f}/s, "
        f"p50 {ms(pct([s for _o, s in bare], 50))} ms, p99 {ms(pct([s for _o, s in bare], 99))} ms")
    lines.append(f"  {bare_cpu.summary()}")

    prepared = {v.index: prepare_upload(v, seeded.ratio_section, size) for v in seeded.vendors}
    outcomes = [Outcome(v) for v in seeded.vendors]

    def full(o: Outcome) -> Outcome:
        body, ctype, sha = prepared[o.vendor.index]
        return submission_flow(o.vendor, seeded.ratio_id, RATIO_REF, body, ctype, sha, o)

    admin, url = database_urls(args)
    with LockSampler(url.replace("postgresql+psycopg://", "postgresql://")) as locks, CpuMeter(server, args.db_name) as full_cpu:
        start = time.perf_counter()
        with ThreadPoolExecutor(conc) as pool:
            list(pool.map(full, outcomes))
        full_elapsed = time.perf_counter() - start
    full_rate = n / full_elapsed
    accepted = [o for o in outcomes if o.kind == "accepted"]
    lines.append(f"full submission (upload, page, submit, receipt): {n} vendors with {conc} clients in {full_elapsed:.1f} s "
        f"= {full_rate:.1f}/s, accepted {len(accepted)}, p50 {ms(pct([o.seconds for o in accepted], 50))} ms, "
        f"p99 {ms(pct([o.seconds for o in accepted], 99))} ms")
    lines.append(f"  steps: {step_summary(outcomes)}")
    lines.append(f"  {full_cpu.summary()}")
    lines.append(f"  {locks.summary(2 * n)}")  # two writing transactions per vendor: upload, submit
    for line in lines:
        log(line)
    return bare_rate, full_rate, full_rate / bare_rate, outcomes, lines


def floor_flow(vendor: Vendor, body: bytes, content_type: str, sha: str, outcome: Outcome) -> Outcome:
    """The framework floor of a submission (app/bench_routes.py): upload -> page -> submit -> receipt, signed in."""
    b = vendor.browser
    outcome.sha256, outcome.started_at = sha, time.time()
    start = time.perf_counter()
    try:
        up = b.request("POST", "/_bench/floor/files", body, content_type)
        page = b.follow(up) if up.status == 302 else up
        sub = b.post_form("/_bench/floor/submit", {"csrf_token": vendor.csrf}) if sha in page.text else page
        final = b.follow(sub) if sub.status == 302 else sub
        outcome.steps = [up.seconds, page.seconds, sub.seconds, final.seconds]
        if final.status == 200 and "FLOOR-R" in final.text:
            outcome.kind = "accepted"
        else:
            outcome.kind, outcome.detail = "error", f"floor flow: {up.status} {page.status} {sub.status} {final.status}"
    except (OSError, http.client.HTTPException) as exc:
        outcome.kind, outcome.detail = "error", f"{type(exc).__name__}: {exc}"
    outcome.seconds = time.perf_counter() - start
    return outcome


def floor_phase(args, server: Server, seeded: Seeded, size: int, bare_rate: float) -> tuple[float, list[str]]:
    """(floor flows per second, report lines), with the ratio phase's clients and attachment size."""
    n = len(seeded.vendors)
    prepared = {v.index: prepare_upload(v, seeded.ratio_section, size) for v in seeded.vendors}
    outcomes = [Outcome(v) for v in seeded.vendors]
    with CpuMeter(server, args.db_name) as cpu:
        start = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(lambda o: floor_flow(o.vendor, *prepared[o.vendor.index], o), outcomes))
        elapsed = time.perf_counter() - start
    failed = [o for o in outcomes if o.kind != "accepted"]
    if failed:
        raise RuntimeError(f"{len(failed)} floor flows failed; first: {failed[0].detail}")
    rate = n / elapsed
    lines = [f"framework floor (same four requests, minimal routes): {n} vendors with {args.concurrency} clients in "
             f"{elapsed:.1f} s = {rate:.1f}/s, ratio to bare uploads {rate / bare_rate:.3f}",
             f"  steps: {step_summary(outcomes)}", f"  {cpu.summary()}"]
    for line in lines:
        log(line)
    return rate, lines


def rush_phase(args, flask_app, server: Server, seeded: Seeded, size: int) -> tuple[list[Outcome], datetime, list[str]]:
    rng = random.Random(args.seed)
    vendors = list(seeded.vendors)
    rng.shuffle(vendors)
    n_late = min(len(vendors) - 1, round(len(vendors) * args.late_fraction))
    outcomes = []
    for i, v in enumerate(vendors):
        offset = rng.uniform(1.0, 2.0) if i < n_late else rng.uniform(-args.window, -1.0)
        outcomes.append(Outcome(v, scheduled=offset))
    prepared = {v.index: prepare_upload(v, seeded.rush_section, size) for v in vendors}

    closes_wall = time.time() + args.lead + args.window
    closes_at = datetime.fromtimestamp(closes_wall, timezone.utc).replace(microsecond=0)
    closes_wall = closes_at.timestamp()
    set_closing(flask_app, seeded.rush_id, closes_at)
    closes_mono = time.monotonic() + (closes_wall - time.time())
    log(f"rush: exercise {RUSH_REF} now closes at {closes_at:%H:%M:%S} UTC (in {closes_wall - time.time():.0f} s); "
        f"{len(vendors) - n_late} vendors start in the last {args.window:g} s, {n_late} start 1-2 s after closing")

    def run(o: Outcome) -> None:
        delay = closes_mono + o.scheduled - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body, ctype, sha = prepared[o.vendor.index]
        submission_flow(o.vendor, seeded.rush_id, RUSH_REF, body, ctype, sha, o)

    threads = [threading.Thread(target=run, args=(o,), daemon=True) for o in outcomes]
    admin, url = database_urls(args)
    with LockSampler(url.replace("postgresql+psycopg://", "postgresql://")) as locks, CpuMeter(server, args.db_name) as cpu:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1.0, closes_mono + 300 - time.monotonic()))
    for o in outcomes:
        if o.kind == "pending":
            o.kind, o.detail = "error", "did not finish within 5 minutes after closing"
    # every vendor makes two writing transactions (upload, submit), whether accepted or refused (LateAttempt)
    return outcomes, closes_at, [cpu.summary(), locks.summary(2 * len(outcomes))]


def streaming_check(server: Server, megabytes: int) -> tuple[float, float, float]:
    """One big upload through the bare endpoint: (peak worker growth MB, lasting growth MB, seconds)."""
    content = pdf_bytes(megabytes * MB)
    body, ctype = multipart({}, "big.pdf", content)
    sha = hashlib.sha256(content).hexdigest()
    before = server.rss_kb()
    with RssSampler(server, 0.01) as sampler:
        ok, seconds = bare_upload(server.port, body, ctype, sha)
    after = server.rss_kb()
    if not ok:
        raise RuntimeError(f"the {megabytes} MB upload failed")
    peak = max(sampler.peak.get(pid, 0) - kb for pid, kb in before.items())
    lasting = max(after.get(pid, kb) - kb for pid, kb in before.items())
    return mb(peak), mb(lasting), seconds


# --- main -------------------------------------------------------------------------------------------------

class Cleanup:
    def __init__(self, args, tmp: Path):
        self.args, self.tmp = args, tmp
        self.server: Server | None = None
        self.flask_app = None
        self.db_created = False

    def run(self) -> None:
        if self.server is not None:
            self.server.stop()
        if self.flask_app is not None:
            try:
                from app.extensions import db
                with self.flask_app.app_context():
                    db.engine.dispose()
            except Exception as exc:  # noqa: BLE001 - best effort
                log(f"cleanup: engine dispose failed: {exc}")
        if self.args.keep:
            log(f"--keep: database {self.args.db_name} and {self.tmp} kept")
            return
        if self.db_created:
            try:
                drop_database(self.args)
            except Exception as exc:  # noqa: BLE001
                log(f"cleanup: could not drop {self.args.db_name}: {exc}")
        try:
            redis_client(self.args).flushdb()
        except Exception as exc:  # noqa: BLE001
            log(f"cleanup: could not flush Redis: {exc}")
        shutil.rmtree(self.tmp, ignore_errors=True)


def run(args, tmp: Path, env: dict, cleanup: Cleanup) -> int:
    size = int(args.size_mb * MB)
    n = args.vendors
    log(f"deadline rush: {n} vendors, {args.size_mb:g} MB each, window {args.window:g} s, "
        f"late fraction {args.late_fraction:g}; Python {sys.executable}")

    busy = machine_busy(2.0)
    log(f"machine before start: {busy:.0%} CPU busy with other work"
        + (" - WARNING: figures will be pessimistic, the bench shares the CPU" if busy > 0.2 else ""))
    recreate_database(args)
    cleanup.db_created = True
    t = time.perf_counter()
    migrate(env)
    log(f"database {args.db_name} created and migrated in {time.perf_counter() - t:.1f} s")

    os.environ.update(env)  # app.config reads the environment at import time
    sys.path.insert(0, str(ROOT))
    if args.plaintext:
        from plaintext_crypto import install  # bench/ is this script's directory
        install()
    from app import create_app
    logging.getLogger("alembic").setLevel(logging.WARNING)
    flask_app = create_app({"ARGON2_FAST": True})
    logging.getLogger().setLevel(logging.WARNING)  # create_app configures INFO; keep the report readable
    cleanup.flask_app = flask_app
    t = time.perf_counter()
    with flask_app.app_context():
        seeded = seed(flask_app, n)
    log(f"seeded 1 officer, {n} verified vendors, 2 published exercises, {2 * n} drafts in {time.perf_counter() - t:.1f} s")

    server = Server(args, env, tmp)
    cleanup.server = server
    server.start()
    log(f"gunicorn {server.shape} on {HOST}:{server.port}, workers {server.workers()}")

    t = time.perf_counter()
    errors = []

    def _sign_in(v: Vendor):
        try:
            sign_in(v, server.port, (seeded.rush_id, seeded.ratio_id))
        except Exception as exc:  # noqa: BLE001
            errors.append(str(exc))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(_sign_in, seeded.vendors))
    if errors:
        raise RuntimeError(f"{len(errors)} vendors could not sign in; first: {errors[0]}")
    log(f"signed in {n} vendors (Argon2 at production cost) and opened their proposal pages in "
        f"{time.perf_counter() - t:.1f} s")

    rss_start = server.rss_kb()
    bare_rate, full_rate, ratio, ratio_outcomes, ratio_lines = ratio_phase(args, server, seeded, size)
    ratio_problems, _facts = verify(flask_app, seeded.ratio_id, ratio_outcomes)
    floor_rate, floor_lines = floor_phase(args, server, seeded, size, bare_rate) if args.floor else (None, [])
    ratio_errors = [o for o in ratio_outcomes if o.kind != "accepted"]

    rss_before = server.rss_kb()
    with RssSampler(server, 0.25) as rush_rss:
        outcomes, closes_at, rush_locks = rush_phase(args, flask_app, server, seeded, size)
    rss_after = server.rss_kb()
    closed = close_as_the_beat_does(flask_app)
    problems, facts = verify(flask_app, seeded.rush_id, outcomes)
    big_peak, big_lasting, big_seconds = streaming_check(server, args.big_mb)
    chain = audit_chain(flask_app)
    queued = redis_client(args).llen("celery")
    worker_log = server.log_tail(15)
    server.stop()

    # figures
    closes_wall = closes_at.timestamp()
    accepted = [o for o in outcomes if o.kind == "accepted"]
    refused = [o for o in outcomes if o.kind == "refused"]
    errors = [o for o in outcomes if o.kind == "error"]
    late_sched = [o for o in outcomes if o.scheduled > 0]
    straddled = [o for o in refused if o.scheduled < 0]
    accepted_late = [o for o in accepted if o.scheduled > 0]
    # lost: sent before closing, and neither a verified receipt nor a verified refusal.
    lost = [o for o in errors if o.started_at < closes_wall] + accepted_late
    lat = [o.seconds for o in accepted]
    growth = {pid: rss_after.get(pid, kb) - kb for pid, kb in rss_before.items()}
    rss_growth = max(0.0, mb(max(growth.values(), default=0)))
    peak_growth = mb(max((rush_rss.peak.get(pid, kb) - kb for pid, kb in rss_before.items()), default=0))
    total_growth = mb(max((rss_after.get(pid, kb) - kb for pid, kb in rss_start.items()), default=0))

    print()
    print(f"gunicorn {server.shape} (wsgi:app), PostgreSQL database {args.db_name}, Redis {args.redis} as Celery broker "
          f"(receipt renders queued, no worker drains them during the run: {queued} messages left in the queue)")
    print(f"rush: {n} vendors x {args.size_mb:g} MB, {len(outcomes) - len(late_sched)} starting in the last "
          f"{args.window:g} s before closing, {len(late_sched)} starting 1-2 s after")
    print(f"  accepted {len(accepted)} (every one checked against the database and the disk; {closed} exercise closed as "
          f"the beat does, so {facts['sealed']} checked sealed: receipt, version before closing, stored file with the "
          f"client's SHA-256 and size, encrypted file on disk; {facts['decrypted']} decrypted: manifest against the "
          f"receipt's SHA-256, file hashed again)")
    print(f"  refused late {len(refused)} ({len(refused) - len(straddled)} started after closing, {len(straddled)} "
          f"started before closing but reached submit after it); LateAttempt rows: {facts['late_attempts']}")
    print(f"  lost {len(lost)}; other errors after closing {len(errors) - len([o for o in errors if o.started_at < closes_wall])}")
    for o in (errors + accepted_late)[:10]:
        print(f"    {o.vendor.email} at {o.scheduled:+.2f} s: {o.kind} {o.detail}")
    for p in problems[:10]:
        print(f"    check: {p}")
    print(f"  latency of an accepted vendor (upload POST, proposal page, submit POST, receipt page): "
          f"p50 {ms(pct(lat, 50))} ms, p99 {ms(pct(lat, 99))} ms, max {ms(max(lat, default=0))} ms")
    print(f"    steps: {step_summary(outcomes)}")
    for line in rush_locks:
        print(f"  {line}")
    print(f"ratio phase ({args.concurrency} clients): bare upload {bare_rate:.1f}/s, full vendor submission "
          f"{full_rate:.1f}/s, ratio {ratio:.3f}; full-path failures {len(ratio_errors)}")
    for line in ratio_lines:
        print(f"  {line}")
    for o in ratio_errors[:5]:
        print(f"    {o.vendor.email}: {o.detail}")
    for p in ratio_problems[:5]:
        print(f"    check: {p}")
    for line in floor_lines:
        print(f"  {line}")
    if floor_rate:
        print(f"deadline-rush-floor: bare_rps={bare_rate:.1f} floor_rps={floor_rate:.1f} full_rps={full_rate:.1f} "
              f"floor_ratio={floor_rate / bare_rate:.3f} ratio={ratio:.3f}")
    print(f"worker RSS (MB) before rush {sorted(round(mb(v)) for v in rss_before.values())}, after "
          f"{sorted(round(mb(v)) for v in rss_after.values())}: growth max {rss_growth:.1f} MB "
          f"(peak during rush +{peak_growth:.1f} MB; since sign-in +{total_growth:.1f} MB)")
    print(f"streaming: one {args.big_mb} MB upload through the bare endpoint ({big_seconds * 1000:.0f} ms) grew a worker "
          f"by at most {big_peak:.1f} MB while running, {big_lasting:.1f} MB after")
    print(chain)
    if "Traceback" in worker_log or "CRITICAL" in worker_log:
        print(f"gunicorn log tail:\n{worker_log}")
    print(f"deadline-rush: vendors={n} accepted={len(accepted)} refused_late={len(refused)} lost={len(lost)} "
          f"p50_ms={ms(pct(lat, 50))} p99_ms={ms(pct(lat, 99))} ratio={ratio:.3f} rss_growth_mb={rss_growth:.1f}",
          flush=True)
    return 1 if lost or errors or ratio_errors or ratio_problems or problems or "BROKEN" in chain else 0


def compare_encryption() -> int:
    """The same benchmark twice on this machine, encrypted then without encryption, one after the other: both
    summary lines, then how much of the full-submission throughput encryption costs (measured on the ratio to bare
    uploads, which neither run encrypts, so that the machine's drift between the two runs cancels out)."""
    argv = [a for a in sys.argv[1:] if a != "--compare-encryption"]
    lines, codes = {}, []
    for mode, extra in (("encrypted", []), ("plaintext", ["--plaintext"])):
        log(f"=== {mode} run ===")
        proc = subprocess.Popen([sys.executable, __file__, *argv, *extra], stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith("deadline-rush:"):
                lines[mode] = line.strip()
        codes.append(proc.wait())
    if len(lines) != 2:
        log("failed: a run gave no summary line")
        return 1
    ratio = {m: float(re.search(r"ratio=([0-9.]+)", line).group(1)) for m, line in lines.items()}
    lost = {m: int(re.search(r"lost=(\d+)", line).group(1)) for m, line in lines.items()}
    loss = 1 - ratio["encrypted"] / ratio["plaintext"] if ratio["plaintext"] else float("nan")
    print(f"deadline-rush encrypted: {lines['encrypted']}")
    print(f"deadline-rush plaintext: {lines['plaintext']}")
    print(f"deadline-rush-sealing: encrypted_ratio={ratio['encrypted']:.3f} plaintext_ratio={ratio['plaintext']:.3f} "
          f"throughput_loss={loss:.1%} lost_encrypted={lost['encrypted']} lost_plaintext={lost['plaintext']}",
          flush=True)
    return max(codes)


def main() -> int:
    if "--compare-encryption" in sys.argv[1:]:
        return compare_encryption()
    args = parse_args()
    global PLAINTEXT
    PLAINTEXT = args.plaintext
    try:
        pick_redis_db(args)
    except Exception as exc:  # noqa: BLE001
        log(f"failed: Redis: {exc}")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="tenderbox-rush-"))
    env = bench_env(args, tmp)
    cleanup = Cleanup(args, tmp)

    def _terminate(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(args, tmp, env, cleanup)
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    except Exception as exc:  # noqa: BLE001 - report, clean up, fail
        log(f"failed: {type(exc).__name__}: {exc}")
        if cleanup.server is not None:
            print(cleanup.server.log_tail(), file=sys.stderr)
        return 1
    finally:
        cleanup.run()


if __name__ == "__main__":
    sys.exit(main())
