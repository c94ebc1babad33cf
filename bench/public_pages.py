#!/usr/bin/env python3
"""Benchmark: the public exercise list and an exercise's page under publication-day load, against a bare endpoint.

Usage (from the repo root, PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres; `wrk` installed,
Debian package `wrk`, which scripts/setup.sh installs):
    python bench/public_pages.py [--exercises 24] [--connections 16] [--seconds 8] [--rounds 3]
                                 [--workers 2] [--threads 4] [--worker-class gthread] [--db-name tenderbox_public_bench]

Self-contained and loopback only. It
  1. drops and re-creates the scratch database (`--db-name`), runs the migrations (`flask db upgrade`);
  2. creates demo-like data through the real operations: the seven service clusters, an officer, a vendor, and
     --exercises published exercises (more than a page of the list: 20), each with its tender document, one of
     them with evaluation criteria, addenda and published questions and answers, like the demo's EOI;
  3. starts gunicorn (wsgi:app, BENCH_ROUTES=1 for the bare GET /_bench/hello of app/bench_routes.py) on a free
     127.0.0.1 port: the bare endpoint and the pages are served by the same server in the same run;
  4. checks the pages (the list shows a full page, the exercise page its answers; an ETag, and 304 for a
     matching If-None-Match), warms every worker up, then with `wrk` (--connections connections, keep-alive,
     anonymous visitors that do not send If-None-Match: every answer is a full 200 page) measures, in
     --rounds interleaved rounds of --seconds each: GET /_bench/hello, GET /exercises, GET /exercises/<id>;
     then once each page with If-None-Match (browsers revalidating: 304s), for the summary;
  5. stops gunicorn, drops the database, removes its temporary directory (also on Ctrl-C/error).

Ends with exactly one line:
    public-pages: hello_rps=<x> list_rps=<x> detail_rps=<x> list_ratio=<x> detail_ratio=<x> p99_ms=<x>
rps are medians over the rounds; ratios are page rps / hello rps of the same rounds; p99_ms is the larger of the
list's and the page's median 99th-percentile latency. Exit status 1 when a check or a request failed.
"""
from __future__ import annotations

import argparse
import http.client
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PASSWORD = "Public-pages-bench-2006"
CLUSTERS = [("BIZ", "Business and Trade", "工商業"), ("HEALTH", "Health", "醫療衞生"),
            ("EDU", "Education", "教育"), ("TRANS", "Transport", "運輸"), ("HOUSE", "Housing", "房屋"),
            ("ENV", "Environment", "環境"), ("SOC", "Social Welfare", "社會福利")]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    p.add_argument("--exercises", type=int, default=24, help="published exercises (a page of the list is 20)")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--seconds", type=float, default=8.0, help="length of one wrk run")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds of hello, list, page")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--worker-class", default="gthread")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="server URL, trust auth")
    p.add_argument("--db-name", default="tenderbox_public_bench")
    p.add_argument("--keep", action="store_true", help="keep the database and temp dir (debugging)")
    args = p.parse_args()
    if args.exercises < 21:
        p.error("need more exercises than a page of the list (20)")
    return args


# --- database, server -----------------------------------------------------------------------------------------

def database_urls(args) -> tuple[str, str]:
    """(psycopg DSN of the maintenance database, SQLAlchemy URL of the scratch database)."""
    base = args.pg.rstrip("/").replace("postgresql+psycopg://", "postgresql://")
    return f"{base}/postgres", f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{args.db_name}"


def bench_env(args, tmp: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_urls(args)[1],
        "STORAGE_DIR": str(tmp / "storage"),
        "OUTBOX_DIR": str(tmp / "outbox"),
        "TENDERBOX_INSTANCE": str(tmp / "instance"),
        "SECRET_KEY": secrets.token_hex(32),
        "PUBLIC_URL": "http://127.0.0.1",
        "BENCH_ROUTES": "1",
        "FLASK_APP": "wsgi",
    }


def drop_database(args) -> None:
    import psycopg
    with psycopg.connect(database_urls(args)[0], autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')


def recreate_database(args, env: dict) -> None:
    import psycopg
    drop_database(args)
    with psycopg.connect(database_urls(args)[0], autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{args.db_name}"')
    run = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                         env={**os.environ, **env}, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{run.stdout}\n{run.stderr}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, args, env: dict, tmp: Path):
        self.args, self.env, self.port = args, env, free_port()
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
        cmd.append("wsgi:app")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **self.env}, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            try:
                if get(self.port, "/_bench/hello").status == 200:
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


@dataclass
class Answer:
    status: int
    headers: dict
    text: str


def get(port: int, path: str, **headers) -> Answer:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8", "replace"))
    finally:
        conn.close()


# --- data, created through the real operations ---------------------------------------------------------------

def tiny_pdf(title: str) -> bytes:
    return b"%PDF-1.4\n% " + title.encode() + b"\n" + os.urandom(1024).hex().encode() + b"\n%%EOF\n"


def seed(n: int) -> int:
    """Clusters, an officer, a vendor and n published exercises; returns the id of the busiest one."""
    import io

    from app.auth.models import Role
    from app.auth.operations import create_staff_user, mark_email_verified, register_vendor
    from app.db import now_utc
    from app.extensions import db
    from app.storage import save_upload
    from eoi import operations as ops
    from eoi.models import ServiceCluster
    from eoi.operations.setup import add_section
    from eoi.states import ExerciseKind
    from scoring.models import Envelope
    from scoring.operations import add_criterion

    clusters = [ServiceCluster(code=c, name_en=en, name_zh=zh) for c, en, zh in CLUSTERS]
    db.session.add_all(clusters)
    officer, *_ = openers = [create_staff_user(name=f"Bench Officer {k}", email=f"officer{k or ''}@bench.example",
                                               password=PASSWORD, role=Role.officer, actor="bench") for k in range(3)]
    for opener in openers:  # only an officer with an opening passphrase can be named to open (issue 9)
        ops.set_opening_passphrase(opener, f"bench opening passphrase {opener.id}")
    vendor = register_vendor(name_en="Bench Vendor Limited", name_zh="測試供應商有限公司", br_number="91234567",
                             address="1 Bench Road, Hong Kong", contact_name="Chan", contact_phone="21234567",
                             name="Chan", email="vendor@bench.example", password=PASSWORD, locale="en")
    mark_email_verified(vendor, actor=vendor)  # claims the BR number, as the emailed link does
    db.session.commit()
    now, busiest = now_utc(), None
    for i in range(n):
        kind = ExerciseKind.tender if i % 6 == 5 else ExerciseKind.eoi
        exercise = ops.create_exercise(
            actor=officer, kind=kind, reference=f"OSP/{kind.value.upper()}/{i + 1:03d}",
            title_en=f"Operation of the one-stop portal's service cluster {i + 1}",
            title_zh=f"一站式入口網站服務組別{i + 1}的營運",
            description_en="Operate, maintain and improve the cluster's online services.\n\nSecond paragraph.",
            description_zh="營運、維護及改善該組別的網上服務。", clusters=[clusters[i % 7], clusters[(i + 3) % 7]],
            publication_at=now - timedelta(days=1), clarification_deadline=now + timedelta(days=10 + i),
            closes_at=now + timedelta(days=20 + i), validity_until=now + timedelta(days=120))
        add_section(exercise, actor=officer, title_en="Approach", title_zh="方案", guidance_en="Describe it.",
                    guidance_zh="請說明。", word_limit=None, answer_required=True, attachment_required=False)
        if i == 0:
            for name_en, name_zh, weight in (("Technical approach", "技術方案", 60), ("Experience", "經驗", 40)):
                add_criterion(exercise, actor=officer, name_en=name_en, name_zh=name_zh, weight=Decimal(weight),
                              max_score=10, pass_mark=5, envelope=Envelope.technical)
        if kind == ExerciseKind.tender:
            ops.invite_vendors(exercise, [vendor.vendor], actor=officer)
        upload = save_upload(io.BytesIO(tiny_pdf(f"invitation {i}")), "invitation.pdf", max_bytes=1024 * 1024)
        ops.add_exercise_document(exercise, upload, title="Invitation for expressions of interest", actor=officer)
        ops.publish_exercise(exercise, actor=officer, opening_officers=openers)
        db.session.commit()
        if i == 0:
            busiest = exercise
    for k in range(2):
        ops.issue_addendum(busiest, actor=officer, text_en=f"Addendum {k + 1}: clarified section {k + 1}.",
                           text_zh=f"第{k + 1}號補充文件。", changes_requirements=False)
    for k in range(6):
        item = ops.ask_clarification(busiest, actor=vendor, question=f"Question {k + 1}?")
        ops.answer_clarification(item, actor=officer, question_en=f"Is requirement {k + 1} mandatory?",
                                 question_zh=f"要求{k + 1}是否必須？", answer_en=f"Yes, requirement {k + 1} is.",
                                 answer_zh=f"是，要求{k + 1}是必須的。")
    db.session.commit()
    return busiest.id


# --- load --------------------------------------------------------------------------------------------------------

@dataclass
class Run:
    rps: float
    p99_ms: float
    non2xx: int
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def wrk(args, port: int, path: str, seconds: float, headers: dict | None = None) -> Run:
    cmd = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections), "-d", f"{seconds:g}s", "--latency",
           "--timeout", "10s"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd + [f"http://{HOST}:{port}{path}"], capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr or out.stdout}")
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M).groups()
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return Run(rps, float(value) * _UNITS[unit], int(non2xx.group(1)) if non2xx else 0,
               sum(int(x) for x in socket_errors.groups()) if socket_errors else 0)


def check_pages(port: int, detail: str) -> list[str]:
    """The pages are the real ones (a full page of the list; the busy exercise with its answers) and revalidate."""
    problems = []
    hello = get(port, "/_bench/hello")
    if hello.status != 200 or hello.text != "hello":
        problems.append(f"/_bench/hello answered {hello.status}")
    listing, page = get(port, "/exercises"), get(port, detail)
    if listing.status != 200 or listing.text.count('href="/exercises/') < 20:
        problems.append(f"/exercises answered {listing.status} without a full page of exercises")
    if page.status != 200 or "Yes, requirement 6 is." not in page.text or "Technical approach" not in page.text:
        problems.append(f"{detail} answered {page.status} without its answers and criteria")
    for path, first in (("/exercises", listing), (detail, page)):
        etag = first.headers.get("etag")
        again = get(port, path, **{"If-None-Match": etag or '"none"'})
        if not etag or again.status != 304:
            problems.append(f"{path}: ETag {etag!r}, revalidation answered {again.status} (expected 304)")
        if "set-cookie" in first.headers:
            problems.append(f"{path} sets a cookie for an anonymous visitor")
    return problems


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- the run ------------------------------------------------------------------------------------------------------

def run(args, tmp: Path, env: dict, state: dict) -> int:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install wrk; scripts/setup.sh installs it)")
    log(f"public pages: {args.exercises} exercises, {args.connections} connections, {args.rounds} rounds of "
        f"{args.seconds:g} s; load average {load_average()} on {os.cpu_count()} CPUs")
    recreate_database(args, env)
    state["db"] = True
    os.environ.update(env)  # app.config reads the environment at import time
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from app.extensions import db
    logging.getLogger("alembic").setLevel(logging.WARNING)
    flask_app = create_app({"ARGON2_FAST": True})
    logging.getLogger().setLevel(logging.WARNING)
    with flask_app.app_context():
        detail = f"/exercises/{seed(args.exercises)}"
        db.session.remove()
        db.engine.dispose()
    log(f"database {args.db_name} migrated and seeded: {args.exercises} published exercises")

    server = Server(args, env, tmp)
    state["server"] = server
    server.start()
    log(f"gunicorn {server.shape} on {HOST}:{server.port}")
    if problems := check_pages(server.port, detail):
        raise RuntimeError("; ".join(problems))
    for path in ("/_bench/hello", "/exercises", detail):  # every worker and thread renders and caches its copy
        wrk(args, server.port, path, 2)

    runs: dict[str, list[Run]] = {"hello": [], "list": [], "detail": []}
    paths = {"hello": "/_bench/hello", "list": "/exercises", "detail": detail}
    for r in range(args.rounds):
        for name, path in paths.items():
            runs[name].append(wrk(args, server.port, path, args.seconds))
        log(f"round {r + 1}: " + ", ".join(f"{name} {runs[name][-1].rps:.0f}/s p99 {runs[name][-1].p99_ms:.1f} ms"
                                          for name in paths) + f"; load average {load_average()}")
    etags = {name: get(server.port, paths[name]).headers["etag"] for name in ("list", "detail")}
    revalidated = {name: wrk(args, server.port, paths[name], args.seconds, {"If-None-Match": etags[name]})
                   for name in etags}

    failed = sum(x.non2xx + x.errors for rs in runs.values() for x in rs)
    rps = {name: statistics.median(x.rps for x in rs) for name, rs in runs.items()}
    ratios = {name: statistics.median(p.rps / h.rps for p, h in zip(runs[name], runs["hello"]))
              for name in ("list", "detail")}
    p99 = max(statistics.median(x.p99_ms for x in runs[name]) for name in ("list", "detail"))
    print(f"gunicorn {server.shape} (wsgi:app), PostgreSQL database {args.db_name}, wrk -t{args.wrk_threads} "
          f"-c{args.connections}, {args.rounds} rounds x {args.seconds:g} s per URL, anonymous full GETs")
    for name, rs in runs.items():
        print(f"  {name:6s} {paths[name]}: " + ", ".join(
            f"{x.rps:.0f}/s p99 {x.p99_ms:.1f} ms" + (f" ({x.non2xx} non-2xx, {x.errors} socket errors)"
                                                      if x.non2xx or x.errors else "") for x in rs))
    for name, x in revalidated.items():
        print(f"  {name} revalidated (If-None-Match, 304): {x.rps:.0f}/s p99 {x.p99_ms:.1f} ms, "
              f"{x.rps / rps['hello']:.2f} of hello")
    print(f"  non-2xx/3xx answers or socket errors: {failed}; load average at the end {load_average()}")
    if failed:
        print(server.log_tail(20))
    print(f"public-pages: hello_rps={rps['hello']:.0f} list_rps={rps['list']:.0f} detail_rps={rps['detail']:.0f} "
          f"list_ratio={ratios['list']:.3f} detail_ratio={ratios['detail']:.3f} p99_ms={p99:.1f}", flush=True)
    return 1 if failed else 0


def main() -> int:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tenderbox-public-"))
    env = bench_env(args, tmp)
    state: dict = {}

    def _terminate(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(args, tmp, env, state)
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    except Exception as exc:  # noqa: BLE001 - report, clean up, fail
        log(f"failed: {type(exc).__name__}: {exc}")
        if state.get("server") is not None:
            print(state["server"].log_tail(), file=sys.stderr)
        return 1
    finally:
        if state.get("server") is not None:
            state["server"].stop()
        if not args.keep:
            if state.get("db"):
                try:
                    drop_database(args)
                except Exception as exc:  # noqa: BLE001
                    log(f"could not drop {args.db_name}: {exc}")
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept database {args.db_name} and {tmp}")


if __name__ == "__main__":
    sys.exit(main())
