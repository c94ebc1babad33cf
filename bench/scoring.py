"""Scoring at scale against PostgreSQL: the results and the moderation data of a big panel, autosave under 50
members saving at once through gunicorn, and the evaluation report PDF of 100 proposals through the render task.

    .venv/bin/python bench/scoring.py                 # 1,000 proposals x 20 criteria x 7 members, 50 savers
    .venv/bin/python bench/scoring.py --quick         # 100 x 20 x 7, 10 savers, report of 20 proposals (smoke run)

What it does:

1. drops and re-creates the scratch database `tenderbox_benchscoring`, migrates it (`flask db upgrade`), uses Redis
   database 15 (must be empty and unused; flushed at the end) and a temporary storage directory;
2. builds through the real operations (tests/factories.py: accounts, publication, sealed submissions, the
   two-officer opening, panels, declarations, a sheet saved and submitted) three opened exercises: the big one
   (20 criteria of weight 5, 7 scoring members), the report's (100 proposals), and the autosave one (one proposal,
   a panel of 50 scoring members who have all declared). Then, a harness shortcut, the big and the report's
   panels are filled in bulk in SQL: the two real proposals are cloned to 1,000 (new vendors, same sealed
   content), every proposal assigned to every member, every sheet submitted with a score (0-10, seeded) and a
   justification per criterion: 140,000 scores;
3. **results_ms** — `scoring.queries.results_of(panel)` in a fresh session (one query for the scores, NumPy for the
   totals, pass marks, ranking and the robustness analysis), best of --runs;
   **moderation_ms** — `scoring.queries.panel_moderation(panel)`: the moderation statistics (mean, median,
   range, spread, outliers) of every proposal and criterion at once, best of --runs;
4. **autosave_p95_ms** — gunicorn (`-w 4 -k gthread --threads 4`) on a free loopback port; each of the 50
   members signs in through the form and opens its sheet; then all 50 work at the same time, each saving --saves
   times as the page's autosave does (POST with autosave=1, the version from the previous answer), paced like the
   page: a save fires 0.8 s after typing stops or when a field is left, so a member waits 0.8-3 s between two
   saves (the 50 start within 1.5 s). autosave_p95_ms is the 95th percentile of those saves' latency. Then, the
   worst case, all 50 save once at the same instant: that burst's median and maximum are logged beside it (not in
   the summary line). Every answer must be 200 with the next version (exit 1 otherwise). Before timing results
   and moderation the database is ANALYZEd, as autovacuum does within a minute of the bulk load;
5. **report_ms** — the evaluation report of the 100-proposal panel queued (`queue_document`) and rendered by
   the render task's own function (`app.documents.tasks.render_document`, in this process: claim, build the
   context, pygal charts, WeasyPrint, store, hash); the PDF's pages are counted.

The last line:

    scoring: scores=<n> results_ms=<x> moderation_ms=<x> autosave_p95_ms=<x> report_ms=<x>

Targets (issue 10): results and moderation under 2,000 ms each, autosave p95 under 50 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
# This file's own folder comes first on sys.path and its name is the scoring package's: take the folder out, so
# `import scoring` is the package, and load the helpers of deadline_rush.py by path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))


def _load_rush():
    import importlib.util
    spec = importlib.util.spec_from_file_location("deadline_rush", ROOT / "bench" / "deadline_rush.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["deadline_rush"] = module
    spec.loader.exec_module(module)
    return module


rush = _load_rush()  # the scratch database, gunicorn and browser helpers

log = rush.log


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--proposals", type=int, default=1000)
    p.add_argument("--criteria", type=int, default=20)
    p.add_argument("--members", type=int, default=7)
    p.add_argument("--savers", type=int, default=50, help="members saving at once")
    p.add_argument("--saves", type=int, default=10, help="autosaves per member")
    p.add_argument("--report-proposals", type=int, default=100)
    p.add_argument("--report-criteria", type=int, default=10)
    p.add_argument("--report-members", type=int, default=5)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--worker-class", default="gthread")
    p.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    p.add_argument("--db-name", default="tenderbox_benchscoring")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.proposals, args.savers, args.saves, args.report_proposals = 100, 10, 5, 20
    return args


# --- data ------------------------------------------------------------------------------------------------

def _weights(n: int) -> list[tuple[Decimal, int]]:
    base, extra = divmod(10000, n)
    return [(Decimal(base + (1 if i < extra else 0)) / 100, 10) for i in range(n)]


def opened_panel(criteria: int, members: int, vendors: int = 2):
    """An opened EOI (real operations) with `criteria` technical criteria and a panel of `members` scoring members
    (the chair included) who have declared no conflict: (panel, officer, [scoring users])."""
    from tests.factories import create_opened_exercise, create_panel, declare_all
    exercise, _submissions, officer = create_opened_exercise(vendors=vendors, criteria=_weights(criteria))
    panel, chair, people, _clerk = create_panel(exercise, officer, members=members - 1, secretary=False)
    for user in (chair, *people):
        declare_all(panel, user)
    return panel, officer, [chair, *people]


def fill_in_bulk(panel, proposals: int, seed: int) -> int:
    """Harness shortcut: clone the panel's real proposals to `proposals` (new vendors, the same sealed content),
    assign all to every scoring member and submit every sheet with a score and justification per criterion."""
    import sqlalchemy as sa

    from app.auth.models import Vendor
    from app.db import now_utc
    from app.extensions import db
    from eoi.models import Submission
    from scoring.models import Assignment, Score, ScoreSheet
    from scoring.queries import proposals_of, scoring_members, technical_criteria_of
    from scoring.states import ScoreSheetState

    rnd = random.Random(seed)
    real = proposals_of(panel)
    vendor_cols = [c.key for c in Vendor.__table__.columns if c.key != "id"]
    sub_cols = [c.key for c in Submission.__table__.columns if c.key != "id"]
    template_vendor = db.session.execute(sa.select(Vendor.__table__).where(Vendor.id == real[0].vendor_id)).mappings().one()
    template_sub = db.session.execute(sa.select(Submission.__table__).where(Submission.id == real[0].id)).mappings().one()
    stamp = f"{panel.id:03d}"
    new_vendors = [{**{k: template_vendor[k] for k in vendor_cols}, "name_en": f"Bench Vendor {stamp}-{i:04d} Limited",
                    "name_zh": f"測試供應商{stamp}-{i:04d}有限公司", "br_number": f"9{stamp}{i:04d}"}
                   for i in range(proposals - len(real))]
    if new_vendors:
        vendor_ids = db.session.scalars(sa.insert(Vendor.__table__).returning(Vendor.__table__.c.id), new_vendors).all()
        db.session.execute(sa.insert(Submission.__table__), [
            {**{k: template_sub[k] for k in sub_cols}, "vendor_id": vid,
             "submitted_at": template_sub["submitted_at"] + timedelta(seconds=n + 1)}
            for n, vid in enumerate(vendor_ids)])
    db.session.flush()
    submissions = [s.id for s in proposals_of(panel)]
    members = scoring_members(panel)
    criteria = technical_criteria_of(panel.exercise)
    db.session.execute(sa.delete(Assignment.__table__).where(Assignment.member_id.in_([m.id for m in members])))
    now = now_utc()
    assignment_ids = db.session.scalars(sa.insert(Assignment.__table__).returning(Assignment.__table__.c.id), [
        {"member_id": m.id, "submission_id": sid, "assigned_at": now} for sid in submissions for m in members]).all()
    sheet_ids = db.session.scalars(sa.insert(ScoreSheet.__table__).returning(ScoreSheet.__table__.c.id), [
        {"assignment_id": aid, "state": ScoreSheetState.submitted.value, "version": 1, "updated_at": now,
         "submitted_at": now} for aid in assignment_ids]).all()
    quality = {sid: rnd.uniform(3, 8) for sid in submissions}
    rows = []
    for k, sheet_id in enumerate(sheet_ids):
        sid = submissions[k // len(members)]
        for c in criteria:
            value = max(0, min(c.max_score, round(rnd.gauss(quality[sid], 1.5))))
            rows.append({"sheet_id": sheet_id, "criterion_id": c.id, "value": value,
                         "justification": f"Score {value}: evidence in section {c.position} of the proposal."})
    for start in range(0, len(rows), 20000):
        db.session.execute(sa.insert(Score.__table__), rows[start:start + 20000])
    db.session.commit()
    return len(rows)


# --- measurements --------------------------------------------------------------------------------------------

def best_of(runs: int, fn) -> tuple[float, float]:
    """(best wall-clock ms, this process's CPU ms in that run): on a shared machine the CPU time tells how much of
    the wall time was this work (PostgreSQL's own time is in its backend, not here)."""
    from app.extensions import db
    best, cpu = float("inf"), float("inf")
    for _ in range(runs):
        db.session.expunge_all()  # a fresh session each time, as a request has
        start, proc = time.perf_counter(), time.process_time()
        fn()
        wall = time.perf_counter() - start
        if wall < best:
            best, cpu = wall, time.process_time() - proc
    return best * 1000, cpu * 1000


def render_report(panel_id: int, officer_id: int) -> tuple[float, int, int]:
    from app.auth.models import User
    from app.documents.models import Document
    from app.documents.service import document_path, queue_document
    from app.documents.tasks import render_document
    from app.extensions import db
    from scoring.models import Panel
    from scoring.report import REPORT_KIND

    panel, officer = db.session.get(Panel, panel_id), db.session.get(User, officer_id)
    doc = queue_document(REPORT_KIND, panel, language="en", vendor_id=None, actor=officer)
    db.session.commit()
    doc_id = doc.id
    db.session.expunge_all()
    start, proc = time.perf_counter(), time.process_time()
    render_document.run(doc_id)
    elapsed = (time.perf_counter() - start) * 1000
    log(f"report: CPU of this process {(time.process_time() - proc) * 1000:.0f} ms")
    doc = db.session.get(Document, doc_id)
    if not doc.is_ready:
        raise RuntimeError(f"the report did not render: {doc.failure_reason}")
    pages = 0
    if shutil.which("pdfinfo"):
        import subprocess
        info = subprocess.run(["pdfinfo", str(document_path(doc))], capture_output=True, text=True).stdout
        pages = int(next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), 0))
    return elapsed, doc.size, pages


def autosave_run(args, env: dict, tmp: Path, users: list[dict], criteria: list[int]) -> list[float]:
    server = rush.Server(SimpleNamespace(workers=args.workers, threads=args.threads, worker_class=args.worker_class),
                         env, tmp)
    server.start()
    log(f"gunicorn {server.shape} on port {server.port}")
    try:
        savers = []
        for user in users:
            b = rush.Browser(server.port)
            page = b.get("/login")
            r = b.post_form("/login", {"csrf_token": rush.hidden_inputs(page.text)["csrf_token"],
                                       "email": user["email"], "password": user["password"]})
            if r.status != 302 or "/login" in r.location:
                raise RuntimeError(f"{user['email']}: sign-in failed ({r.status})")
            sheet = b.get(f"/scoring/assignments/{user['assignment']}")
            fields = rush.hidden_inputs(sheet.text)
            if sheet.status != 200 or "version" not in fields:
                raise RuntimeError(f"{user['email']}: no score sheet ({sheet.status}): {rush.page_text(sheet.text)[:200]}")
            savers.append({"browser": b, "csrf": fields["csrf_token"], "version": int(fields["version"]),
                           "assignment": user["assignment"]})
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(len(savers))

        def save(n: int, k: int, saver: dict, rnd: random.Random, into: list) -> bool:
            form = {"csrf_token": saver["csrf"], "version": str(saver["version"]), "autosave": "1"}
            for cid in criteria:
                form[f"s{cid}"] = str(rnd.randint(0, 10))
                form[f"j{cid}"] = f"Member {n}, save {k}: the proposal shows evidence for this criterion."
            r = saver["browser"].post_form(f"/scoring/assignments/{saver['assignment']}", form)
            with lock:
                into.append(r.seconds * 1000)
            try:
                answer = json.loads(r.text)
            except ValueError:
                answer = {}
            if r.status != 200 or not answer.get("ok"):
                with lock:
                    failures.append(f"{r.status} {r.text[:200]}")
                return False
            saver["version"] = int(answer["version"])
            return True

        def paced(n: int, saver: dict) -> None:
            """What the page does: a save 0.8 s after typing stops (its debounce) or when a field is left; a member
            types or reads between two saves (here 0.8-3 s)."""
            rnd = random.Random(n)
            time.sleep(rnd.uniform(0, 1.5))
            for k in range(args.saves):
                if not save(n, k, saver, rnd, latencies):
                    return
                time.sleep(rnd.uniform(0.8, 3.0))

        def burst(n: int, saver: dict) -> None:
            """All members save at the same instant, once: the worst case, reported beside the paced figure."""
            barrier.wait()
            save(n, args.saves, saver, random.Random(-n), burst_latencies)

        burst_latencies: list[float] = []
        for target in (paced, burst):
            threads = [threading.Thread(target=target, args=(n, s)) for n, s in enumerate(savers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if failures:
            raise RuntimeError(f"{len(failures)} autosaves failed, e.g. {failures[0]}")
        burst_latencies.sort()
        log(f"autosave burst: {len(savers)} members saving at the same instant once: median "
            f"{statistics.median(burst_latencies):.0f} ms, max {burst_latencies[-1]:.0f} ms")
        return latencies
    finally:
        server.stop()


def main() -> int:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tenderbox-benchscoring-"))
    env_args = SimpleNamespace(pg=args.pg, db_name=args.db_name, redis=args.redis)
    env = rush.bench_env(env_args, tmp)
    server_redis = rush.redis_client(env_args)
    if server_redis.dbsize():
        raise SystemExit(f"Redis database {args.redis} is not empty: not ours to use")
    rush.recreate_database(env_args)
    try:
        log(f"migrating {args.db_name}")
        rush.migrate(env)
        os.environ.update(env)
        from app import create_app
        from app.config import config_from_environment
        app = create_app(config_from_environment())
        with app.app_context():
            from app.extensions import db
            from scoring.queries import assignment_for, panel_moderation, results_of, seat_of, technical_criteria_of

            log(f"seeding: {args.proposals} proposals x {args.criteria} criteria x {args.members} members")
            big, officer, _ = opened_panel(args.criteria, args.members)
            scores = fill_in_bulk(big, args.proposals, seed=10)
            report_panel, _o, _u = opened_panel(args.report_criteria, args.report_members)
            fill_in_bulk(report_panel, args.report_proposals, seed=11)
            save_panel, _o2, savers = opened_panel(args.criteria, args.savers, vendors=1)
            from tests.factories import PASSWORD
            from scoring.queries import proposals_of
            proposal = proposals_of(save_panel)[0]
            users = [{"email": u.email, "password": PASSWORD,
                      "assignment": assignment_for(seat_of(u, save_panel), proposal).id} for u in savers]
            save_criteria = [c.id for c in technical_criteria_of(save_panel.exercise)]
            big_id, report_id, officer_id = big.id, report_panel.id, officer.id
            db.session.commit()
            log(f"{scores} scores in the big panel")
            # Fresh planner statistics, as autovacuum gives a table within a minute of such a load: without them
            # PostgreSQL plans the moderation query with nested loops over 350,000 rows (1.5 s instead of 0.1 s).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE")

            from scoring.models import Panel

            def results():
                view = results_of(db.session.get(Panel, big_id))
                assert "error" not in view and len(view["results"]) == args.proposals, view.get("error")

            def moderation():
                stats = panel_moderation(db.session.get(Panel, big_id))
                assert len(stats) == args.proposals and all(len(v) == args.criteria for v in stats.values())

            results_ms, results_cpu = best_of(args.runs, results)
            log(f"results_of: {results_ms:.0f} ms (CPU of this process {results_cpu:.0f} ms)")
            moderation_ms, moderation_cpu = best_of(args.runs, moderation)
            log(f"panel_moderation: {moderation_ms:.0f} ms (CPU of this process {moderation_cpu:.0f} ms)")
            report_ms, size, pages = render_report(report_id, officer_id)
            log(f"report: {args.report_proposals} proposals x {args.report_criteria} criteria x {args.report_members} "
                f"members, {pages} pages, {size / 1e6:.1f} MB in {report_ms:.0f} ms")
            db.session.remove()
        latencies = autosave_run(args, env, tmp, users, save_criteria)
        latencies.sort()
        p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
        log(f"autosave: {len(latencies)} saves by {args.savers} members; median "
            f"{statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms")
        print(f"scoring: scores={scores} results_ms={results_ms:.0f} moderation_ms={moderation_ms:.0f} "
              f"autosave_p95_ms={p95:.0f} report_ms={report_ms:.0f}", flush=True)
        return 0
    finally:
        if not args.keep:
            try:
                server_redis.flushdb()
            except Exception:  # noqa: BLE001 - cleaning up
                pass
            rush.drop_database(env_args)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
