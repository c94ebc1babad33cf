#!/usr/bin/env python3
"""Benchmark: a batch of letters to 500 vendors through Celery on Redis, with one worker process and with two, and
one signed award letter against WeasyPrint alone on the same HTML.

Usage (from the repo root; PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres, Redis on 127.0.0.1:6379):
    python bench/letters.py [--letters 500] [--runs 15] [--db-name tenderbox_benchletters] [--redis-db 14] [--keep]

Self-contained and loopback only. It
  1. drops and re-creates the scratch database (`tenderbox_benchletters`), runs the migrations, flushes its Redis
     database (14 by default; refused when another client uses it);
  2. creates an officer, N verified vendor companies with one user each (every other one saved Traditional
     Chinese, so half the letters are in Chinese) and two opened tenders, by direct inserts (a harness shortcut:
     registration and submission are measured by bench/deadline_rush.py);
  3. gives `contracts.letters` the exercise's results from the real aggregation (scoring.aggregation.build_table
     and technical_results over synthetic scores of two members on four criteria with pass marks; a harness
     shortcut in this process only: the panel's sheets are not created). The workers use nothing of it: every
     letter row carries its own debrief;
  4. for 1 and then 2 worker processes: starts `celery worker --concurrency=K` on the Redis database, waits until it
     is ready, issues the letters of one tender through `contracts.letters.issue_letters` (one award, N-1 regret
     letters with their debriefs; the render tasks and the vendors' notifications go through the outbox to the
     broker on commit) and times from the commit until every letter's document is ready (polled in the database),
     then stops the worker;
  5. checks every letter: one per vendor and no more, its document ready, the stored file's SHA-256 that of the
     record, and the PAdES signature of a sample (the award letter and the first ten) valid with pyHanko's
     validator;
  6. times, in this process, `build_pdf` of the award letter (template, WeasyPrint, pyHanko signature) against
     `render_pdf` alone on the same HTML, interleaved, --runs times each after a warm-up (medians);
  7. drops the database, flushes its Redis database, removes its temporary directory (also on error).
Ends with exactly one line:
    letters: letters=<n> one_worker_s=<x> two_workers_s=<x> speedup=<x> letter_ms=<x> bare_ms=<x> ratio=<x>
Exit status 1 when a check fails.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="letters batch benchmark")
    parser.add_argument("--letters", type=int, default=500)
    parser.add_argument("--runs", type=int, default=15, help="renders of the award letter for the ratio")
    parser.add_argument("--db-name", default="tenderbox_benchletters")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed per batch")
    parser.add_argument("--keep", action="store_true", help="keep the database and the temporary directory")
    return parser.parse_args()


# --- environment ----------------------------------------------------------------------------------------

def urls(args) -> tuple[str, str, str]:
    """(maintenance DSN, psycopg DSN of the scratch database, SQLAlchemy URL of it)."""
    base = args.pg.rstrip("/")
    return f"{base}/postgres", f"{base}/{args.db_name}", f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{args.db_name}"


def bench_env(args, tmp: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": urls(args)[2],
        "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "RATELIMIT_STORAGE_URI": "memory://",
        "STORAGE_DIR": str(tmp / "storage"),
        "OUTBOX_DIR": str(tmp / "outbox"),
        "TENDERBOX_INSTANCE": str(tmp / "instance"),
        "DOCUMENT_SIGNING_KEY_FILE": str(tmp / "instance" / "document-signing.key"),
        "DOCUMENT_SIGNING_CERT_FILE": str(tmp / "instance" / "document-signing.crt"),
        "AUDIT_SIGNING_KEY_FILE": str(tmp / "instance" / "audit-signing.key"),
        "AUDIT_CHECKPOINT_FILE": str(tmp / "instance" / "audit-checkpoints.log"),
        "SECRET_KEY": secrets.token_hex(32),
        "PUBLIC_URL": "https://tenderbox.example.gov",
        "FLASK_APP": "wsgi",
    }


def recreate_database(args) -> None:
    import psycopg
    with psycopg.connect(urls(args)[0], autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.db_name}"')


def drop_database(args) -> None:
    import psycopg
    with psycopg.connect(urls(args)[0], autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')


def redis_db(args):
    import redis
    return redis.Redis.from_url(f"redis://127.0.0.1:6379/{args.redis_db}")


def claim_redis(args) -> None:
    """Flush the bench's Redis database, unless another client is connected to it (someone else's broker)."""
    import redis
    server = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    in_use = {int(c.get("db", 0)) for c in server.client_list()} - {0}
    if args.redis_db in in_use:
        raise RuntimeError(f"Redis database {args.redis_db} has clients: choose another with --redis-db")
    redis_db(args).flushdb()


def migrate(env: dict) -> None:
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                         env={**os.environ, **env}, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{run.stdout}\n{run.stderr}")


# --- data -----------------------------------------------------------------------------------------------

CRITERIA = [  # (name_en, name_zh, weight, max, pass mark)
    ("Service design and e-service take-up", "服務設計及電子服務使用率", 35, 10, 5),
    ("Technical architecture and security", "技術架構及保安", 30, 10, 5),
    ("Implementation plan and experience", "推行計劃及經驗", 20, 5, 2),
    ("Business model and revenue sharing", "業務模式及收入分成", 15, 5, 2),
]


def seed(n: int) -> dict:
    """An officer, n vendors with one user each, two opened tenders; returns ids."""
    from app.auth.models import Role, User, Vendor
    from app.auth.operations import create_staff_user
    from app.db import now_utc
    from app.extensions import db
    from eoi.models import Exercise
    from eoi.states import ExerciseKind, ExerciseState

    officer = create_staff_user(name="Bench Officer", email="officer@bench.example", password="Bench-letters-2006",
                                role=Role.officer, actor="bench")
    now = now_utc()
    vendors = []
    for i in range(n):
        vendor = Vendor(name_en=f"Letter Vendor {i:04d} Limited", name_zh=f"信件供應商{i:04d}有限公司",
                        br_number=f"7{i:07d}", address=f"{i} Bench Road\nWan Chai\nHong Kong",
                        contact_name=f"Contact {i}", contact_phone=f"2{i:07d}", contact_email=f"l{i:04d}@vendors.example",
                        verified_at=now)
        db.session.add(vendor)
        db.session.add(User(email=f"l{i:04d}@vendors.example", name=f"Contact {i}", password_hash="!bench", role=Role.vendor,
                            vendor=vendor, locale="zh_Hant" if i % 2 else "en", email_verified_at=now))
        vendors.append(vendor)
    exercises = []
    for k in (1, 2):
        exercise = Exercise(kind=ExerciseKind.tender, reference=f"BENCH/T/LETTERS/{k:02d}",
                            title_en=f"Operation of the bench cluster ({k})", title_zh=f"測試服務群組營運（{k}）",
                            description_en="", description_zh="", state=ExerciseState.opened,
                            publication_at=now - timedelta(days=30), published_at=now - timedelta(days=30),
                            closes_at=now - timedelta(days=2), closed_at=now - timedelta(days=2),
                            opened_at=now - timedelta(days=1), created_by_id=officer.id)
        db.session.add(exercise)
        exercises.append(exercise)
    db.session.commit()
    return {"officer": officer.id, "vendors": [v.id for v in vendors], "exercises": [e.id for e in exercises]}


def synthetic_ranking(vendor_ids: list[int]):
    """The results of n proposals from the real aggregation (two members' scores per criterion, pass marks)."""
    import random
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from contracts.letters import Ranking
    from scoring.aggregation import CriterionSpec, MemberScore, ProposalSpec, build_table, technical_results

    rng = random.Random(2006)
    criteria = [SimpleNamespace(id=i + 1, name_en=en, name_zh=zh, weight=Decimal(w), max_score=mx, pass_mark=pm)
                for i, (en, zh, w, mx, pm) in enumerate(CRITERIA)]
    specs = [CriterionSpec(key=str(c.id), weight=c.weight, max_score=Decimal(c.max_score),
                           pass_mark=Decimal(c.pass_mark), position=c.id, name_en=c.name_en, name_zh=c.name_zh)
             for c in criteria]
    received = datetime(2026, 11, 1, tzinfo=timezone.utc)
    proposals = [ProposalSpec(str(v), received + timedelta(seconds=i)) for i, v in enumerate(vendor_ids)]
    scores = [MemberScore(str(v), str(c.id), member, Decimal(rng.randint(c.max_score // 3, c.max_score)))
              for v in vendor_ids for c in criteria for member in ("m1", "m2")]
    results = technical_results(build_table(specs, proposals, scores))
    return Ranking({int(r.proposal): r for r in results}, criteria)


# --- worker and batch -----------------------------------------------------------------------------------

class Worker:
    def __init__(self, env: dict, tmp: Path, concurrency: int):
        self.log_path = tmp / f"worker-{concurrency}.log"
        self.handle = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wsgi.celery_app", "worker", f"--concurrency={concurrency}",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"letters-bench-{os.getpid()}-{concurrency}@%h"],
            cwd=ROOT, env={**os.environ, **env}, stdout=self.handle, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{self.tail()}")
            if " ready." in self.log_path.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the worker was not ready in {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # warm shutdown: finishes the task in hand
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.handle.close()


def run_batch(args, flask_app, env, tmp, ids, ranking, exercise_id: int, concurrency: int) -> tuple[float, int]:
    """Issue one tender's letters with a worker of `concurrency` processes; seconds from commit to all ready."""
    import psycopg

    from app.auth.models import User
    from app.extensions import db
    from contracts.letters import default_outcomes, issue_letters
    from eoi.models import Exercise

    worker = Worker(env, tmp, concurrency)
    try:
        worker.wait_ready()
        with flask_app.app_context():
            exercise = db.session.get(Exercise, exercise_id)
            officer = db.session.get(User, ids["officer"])
            outcomes = default_outcomes(exercise, ranking)
            batch = issue_letters(exercise, outcomes, actor=officer, reference=f"{exercise.reference}/L")
            batch_id = batch.id
            start = time.perf_counter()
            db.session.commit()  # the render tasks and notifications are published on commit
        total = len(outcomes)
        deadline = time.monotonic() + args.timeout
        with psycopg.connect(urls(args)[1], autocommit=True) as conn:
            last = -1
            while True:
                ready, failed = conn.execute(
                    "SELECT count(*) FILTER (WHERE d.status = 'ready'), count(*) FILTER (WHERE d.status = 'failed') "
                    "FROM letters l JOIN documents d ON d.id = l.document_id WHERE l.batch_id = %s",
                    (batch_id,)).fetchone()
                if ready == total:
                    elapsed = time.perf_counter() - start
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{ready}/{total} letters ready after {args.timeout:.0f} s "
                                       f"({failed} failed):\n{worker.tail()}")
                if ready // 100 != last // 100:
                    log(f"  {concurrency} worker process(es): {ready}/{total} ready")
                    last = ready
                time.sleep(0.2)
        return elapsed, batch_id
    finally:
        worker.stop()


def check_batch(flask_app, batch_id: int, vendor_ids: list[int]) -> list[str]:
    import sqlalchemy as sa

    from app.documents.models import DocumentStatus
    from app.documents.service import document_path
    from app.documents.signing import check_signature
    from app.extensions import db
    from contracts.letter_models import Letter, LetterKind

    problems = []
    with flask_app.app_context():
        letters = db.session.scalars(sa.select(Letter).where(Letter.batch_id == batch_id).order_by(Letter.number)).all()
        if sorted(letter.vendor_id for letter in letters) != sorted(vendor_ids):
            problems.append(f"batch {batch_id}: {len(letters)} letters for {len(vendor_ids)} vendors")
        documents = db.session.scalar(sa.select(sa.func.count()).select_from(Letter).where(Letter.batch_id == batch_id,
                                                                                             Letter.document_id.is_not(None)))
        if documents != len(letters):
            problems.append(f"batch {batch_id}: {len(letters) - documents} letters without a document")
        awards = [letter for letter in letters if letter.kind == LetterKind.award]
        sample = {letter.id for letter in awards + letters[:10]}
        for letter in letters:
            doc = letter.document
            if doc.status != DocumentStatus.ready:
                problems.append(f"{letter.reference}: document {doc.status.value}")
                continue
            data = document_path(doc).read_bytes()
            if hashlib.sha256(data).hexdigest() != doc.sha256:
                problems.append(f"{letter.reference}: stored file does not match its SHA-256")
            if letter.id in sample and not check_signature(data).is_signed_original:
                problems.append(f"{letter.reference}: signature does not validate")
        if len(awards) != 1:
            problems.append(f"batch {batch_id}: {len(awards)} award letters")
    return problems


def ratio(args, flask_app, batch_id: int) -> tuple[float, float]:
    """(median ms of the signed award letter through build_pdf, median ms of render_pdf on the same HTML)."""
    import sqlalchemy as sa
    from flask import render_template
    from flask_babel import force_locale

    from app.documents.render import render_pdf
    from app.documents.service import build_pdf
    from app.extensions import db
    from app.hooks import hooks
    from contracts.letter_models import Letter, LetterKind

    with flask_app.app_context():
        letter = db.session.scalar(sa.select(Letter).where(Letter.batch_id == batch_id, Letter.kind == LetterKind.award))
        doc = letter.document
        spec = hooks().document_builders[doc.kind](doc)
        with force_locale(doc.language):
            html = render_template(spec.template, lang="zh-Hant" if doc.language == "zh_Hant" else "en", **spec.context)
        build_pdf(doc), render_pdf(html)  # warm-up: fonts, signer
        full, bare = [], []
        for _ in range(args.runs):  # interleaved, so a neighbour's burst hits both alike
            t = time.perf_counter()
            build_pdf(doc)
            full.append(time.perf_counter() - t)
            t = time.perf_counter()
            render_pdf(html)
            bare.append(time.perf_counter() - t)
    return statistics.median(full) * 1000, statistics.median(bare) * 1000


def machine_load() -> float:
    return os.getloadavg()[0]


def main() -> int:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tenderbox-letters-"))
    env = bench_env(args, tmp)
    flask_app = None
    created = False
    try:
        claim_redis(args)
        log(f"letters bench: {args.letters} letters; PostgreSQL {args.db_name}, Redis db {args.redis_db}; "
            f"{os.cpu_count()} CPUs, load average {machine_load():.1f}")
        recreate_database(args)
        created = True
        migrate(env)
        os.environ.update(env)
        import logging

        from app import create_app
        flask_app = create_app({"ARGON2_FAST": True})
        logging.getLogger().setLevel(logging.WARNING)
        for noisy in ("weasyprint", "fontTools", "alembic"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        with flask_app.app_context():
            ids = seed(args.letters)
            from app.documents.signing import _signer
            _signer()  # the self-signed certificate, created once before the workers start
        ranking = synthetic_ranking(ids["vendors"])
        import contracts.letters
        contracts.letters.ranking_of = lambda exercise: ranking  # harness shortcut (see the docstring, step 3)
        log(f"seeded {args.letters} vendors and 2 tenders; results of {len(ranking.results)} proposals aggregated")

        one_s, batch_one = run_batch(args, flask_app, env, tmp, ids, ranking, ids["exercises"][0], 1)
        log(f"one worker process: {args.letters} letters in {one_s:.1f} s (load average {machine_load():.1f})")
        two_s, batch_two = run_batch(args, flask_app, env, tmp, ids, ranking, ids["exercises"][1], 2)
        log(f"two worker processes: {args.letters} letters in {two_s:.1f} s (load average {machine_load():.1f})")
        problems = check_batch(flask_app, batch_one, ids["vendors"]) + check_batch(flask_app, batch_two, ids["vendors"])
        letter_ms, bare_ms = ratio(args, flask_app, batch_one)
        for problem in problems[:20]:
            print(f"letters: CHECK FAILED: {problem}", file=sys.stderr)
        print(f"one worker {one_s / args.letters * 1000:.0f} ms a letter; two workers {two_s / args.letters * 1000:.0f} "
              f"ms a letter; signing adds {letter_ms - bare_ms:.0f} ms to WeasyPrint's {bare_ms:.0f} ms")
        print(f"letters: letters={args.letters} one_worker_s={one_s:.1f} two_workers_s={two_s:.1f} "
              f"speedup={one_s / two_s:.2f} letter_ms={letter_ms:.1f} bare_ms={bare_ms:.1f} "
              f"ratio={letter_ms / bare_ms:.2f}", flush=True)
        return 1 if problems else 0
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    except Exception as exc:  # noqa: BLE001 - report, clean up, fail
        log(f"failed: {type(exc).__name__}: {exc}")
        return 1
    finally:
        if flask_app is not None:
            from app.extensions import db
            with flask_app.app_context():
                db.engine.dispose()
        if args.keep:
            log(f"--keep: database {args.db_name} and {tmp} kept")
        else:
            if created:
                try:
                    drop_database(args)
                except Exception as exc:  # noqa: BLE001
                    log(f"cleanup: could not drop {args.db_name}: {exc}")
            try:
                redis_db(args).flushdb()
            except Exception as exc:  # noqa: BLE001
                log(f"cleanup: could not flush Redis: {exc}")
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
