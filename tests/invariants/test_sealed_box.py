"""Invariant 1 (sealed box): before opening, no route shows a submission's answers, files or price to anyone
but the vendor itself — officers and administrators included. Walks every registered GET route. And every
read and write of sealed content goes through eoi/sealed.py (an AST scan of the code and the templates)."""
from __future__ import annotations

import itertools
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.extensions import db
from eoi import operations as ops
from eoi.models import Submission
from eoi.states import ExerciseKind
from tests.factories import OPENING_PASSPHRASE, PASSWORD, create_published, create_staff, create_submission, create_vendor_user

ANSWER_MARKER = "Zebra-Quokka proprietary approach 7731"
FILE_NAME_MARKER = "secret-architecture-4419.pdf"
FILE_BYTES = b"%PDF-1.4\n% sealed file body Platypus-Sealed-9927\n%%EOF\n"
PRICE = Decimal("9876543.21")
PRICE_MARKERS = ("9876543.21", "9,876,543.21")


def build_world():
    """A published tender with a price envelope, one vendor's complete submission, and a spare pair of officers."""
    officer, second, admin = create_staff(Role.officer), create_staff(Role.officer), create_staff(Role.admin)
    vendor_user = create_vendor_user()
    exercise = create_published(officer, kind=ExerciseKind.tender, vendors=[vendor_user], price_envelope=True)
    submission = create_submission(exercise, vendor_user, answer=ANSWER_MARKER, file_name=FILE_NAME_MARKER,
                                   file_body=FILE_BYTES, price=PRICE)
    return exercise, submission, officer, second, admin, vendor_user


def _markers(submission: Submission) -> list[str]:
    import hashlib
    return [ANSWER_MARKER, FILE_NAME_MARKER, "Platypus-Sealed-9927", hashlib.sha256(FILE_BYTES).hexdigest(), *PRICE_MARKERS]


def _urls(app, max_id: int) -> list[str]:
    """Every GET route, with each int converter filled by every id up to max_id (ids overlap across tables)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        args = sorted(rule.arguments)
        choices = []
        for arg in args:
            converter = rule._converters[arg].__class__.__name__
            choices.append(range(1, max_id + 1) if converter == "IntegerConverter" else ["zh_Hant", "x"])
        for combo in itertools.product(*choices):
            try:
                with app.test_request_context():
                    from flask import url_for
                    urls.append(url_for(rule.endpoint, **dict(zip(args, combo))))
            except Exception:
                continue
    return sorted(set(urls))


def _leaks(body: bytes, markers: list[str]) -> list[str]:
    text = body.decode("utf-8", "replace")
    return [m for m in markers if m in text or m.encode() in body]


def _walk(client, urls, markers):
    leaks = {}
    for url in urls:
        response = client.get(url)
        found = _leaks(response.data, markers)
        if response.mimetype == "application/pdf":
            found += _pdf_leaks(response.data, markers)
        if found:
            leaks[url] = found
    return leaks


def _pdf_leaks(data: bytes, markers: list[str]) -> list[str]:
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        text = subprocess.run(["pdftotext", f.name, "-"], capture_output=True, text=True).stdout
    return [m for m in markers if m in re.sub(r"\s+", " ", text)]


@pytest.mark.parametrize("role", [Role.officer, Role.admin, Role.approver, Role.panel])
def test_no_route_reveals_sealed_content_before_opening(app, login, role):
    exercise, submission, officer, _second, admin, _vendor = build_world()
    viewer = {Role.officer: officer, Role.admin: admin}.get(role) or create_staff(role)
    client = login(viewer)
    max_id = max(8, db.session.scalar(sa.select(sa.func.max(Submission.id))) or 0)
    urls = _urls(app, max_id)
    assert len(urls) > 40, "the walk must cover the app's routes"
    assert _walk(client, urls, _markers(submission)) == {}


def test_the_walk_detects_content_once_opened(app, login):
    """Positive control: the same walk finds the answer after the two-officer opening, so it can fail."""
    exercise, submission, officer, second, _admin, vendor = build_world()
    from freezegun import freeze_time
    with freeze_time(exercise.closes_at + timedelta(seconds=1)):
        ops.start_opening(exercise, actor=officer, passphrase=OPENING_PASSPHRASE)
        ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)
        db.session.commit()
        leaks = _walk(login(officer), _urls(app, 8), [ANSWER_MARKER])
    assert any(ANSWER_MARKER in found for found in leaks.values())


def test_vendor_sees_its_own_content(app, login):
    _exercise, submission, *_rest, vendor = build_world()
    leaks = _walk(login(vendor), _urls(app, 8), [ANSWER_MARKER])
    assert leaks, "the vendor's own edit page shows its answer"


def test_audit_log_holds_no_sealed_content(app):
    build_world()
    from app.audit import AuditEvent
    details = " ".join(db.session.scalars(sa.select(AuditEvent.details)))
    assert not [m for m in (ANSWER_MARKER, FILE_NAME_MARKER, *PRICE_MARKERS) if m in details]


def test_after_opening_officers_read_only_standing_submissions(app, login):
    """A proposal withdrawn and left as a draft stays the vendor's own, even after the box is opened."""
    exercise, submission, officer, second, _admin, vendor = build_world()
    from freezegun import freeze_time
    ops.withdraw_submission(submission, actor=vendor)
    ops.save_draft(submission, actor=vendor, answers={exercise.sections[0].id: "Unsubmitted second thoughts 5512"})
    db.session.commit()
    with freeze_time(exercise.closes_at + timedelta(seconds=1)):
        ops.start_opening(exercise, actor=officer, passphrase=OPENING_PASSPHRASE)
        ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)
        db.session.commit()
        leaks = _walk(login(officer), _urls(app, 8), ["Unsubmitted second thoughts 5512", ANSWER_MARKER])
    assert leaks == {}


# --- one door: no module but eoi/sealed.py reads or writes sealed content -----------------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
#: The rows of sealed content (answers, attachments, price lines); their columns are reached only through them.
SEALED_MODELS = {"Answer", "PriceLine", "SubmissionFile"}
#: Sealed columns of rows that are not sealed as a whole (a version's manifest; a price line's amount, before and
#: after issue 9; a sealed file's encrypted name and key; a proposal's wrapped data keys).
SEALED_ATTRIBUTES = {"manifest", "unit_price", "sealed_amount", "sealed_meta", "draft_keys", "sealed_keys", "opened_keys"}
SEALED_SQL = re.compile(r"\b(from|join|into|update|table)\s*\(?\s*[\"']?(answers|price_lines|submission_files)\b",
                        re.IGNORECASE)
SCANNED = ("app", "eoi", "scoring", "contracts", "bench", "demo.py", "wsgi.py")
DOOR = "eoi/sealed.py"
EXEMPT = ("eoi/models/",)  # where the rows are declared (migrations are not scanned)


def sealed_accesses(source: str) -> list[str]:
    """Every reference to a sealed model, a sealed column, or a sealed table in SQL text, as 'line: what'."""
    import ast
    found = []
    tree = ast.parse(source)
    # A module's own class of the same name (bench/public_pages.py has an HTTP Answer) is not the sealed model.
    models = SEALED_MODELS - {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    for node in ast.walk(tree):
        what = None
        if isinstance(node, ast.Name) and node.id in models:
            what = node.id
        elif isinstance(node, ast.alias) and node.name.rpartition(".")[2] in SEALED_MODELS:
            what = f"import {node.name}"
        elif isinstance(node, ast.Attribute) and node.attr in SEALED_MODELS | SEALED_ATTRIBUTES:
            what = f".{node.attr}"
        elif isinstance(node, ast.keyword) and node.arg in SEALED_ATTRIBUTES:
            what = f"{node.arg}="
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SEALED_SQL.search(node.value):
            what = f"SQL {node.value[:40]!r}"
        if what:
            found.append((getattr(node, "lineno", 0), what))
    return [f"{line}: {what}" for line, what in sorted(found)]


def _scanned_files():
    for entry in SCANNED:
        path = ROOT / entry
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def test_only_the_sealed_module_touches_sealed_content():
    offenders = {}
    for path in _scanned_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel == DOOR or rel.startswith(EXEMPT):
            continue
        if hits := sealed_accesses(path.read_text(encoding="utf-8")):
            offenders[rel] = hits
    assert offenders == {}, f"sealed content touched outside {DOOR}: {offenders}"


def test_templates_get_sealed_content_only_from_the_door():
    """Templates receive plain values from eoi.sealed (SealedFile, dicts), never rows or manifests."""
    pattern = re.compile(r"\.manifest\b|unit_price|\.file\.original_name")
    allowed = {"eoi/officer/exercise_manage.html", "eoi/public/exercise_detail.html"}  # tender documents, public
    offenders = {p.relative_to(ROOT / "templates").as_posix(): pattern.findall(p.read_text(encoding="utf-8"))
                 for p in (ROOT / "templates").rglob("*.html")}
    assert {k: v for k, v in offenders.items() if v and k not in allowed} == {}


def test_the_door_scan_finds_sealed_access():
    """Positive controls: the scan reports each kind of access, in a sample and in the door itself."""
    sample = ("from eoi.models import Answer\n"
              "import eoi.models.submission.PriceLine\n"
              "x = version.manifest\n"
              "SubmissionVersion(manifest='{}')\n"
              "line.unit_price = 1\n"
              "rows = models.SubmissionFile\n"
              "db.session.execute(sa.text('SELECT text FROM answers'))\n"
              "title = 'Answers from vendors'\n")
    assert [hit.split(": ", 1)[1] for hit in sealed_accesses(sample)] == [
        "import Answer", "import eoi.models.submission.PriceLine", ".manifest", "manifest=",
        ".unit_price", ".SubmissionFile", "SQL 'SELECT text FROM answers'"]
    door = sealed_accesses((ROOT / DOOR).read_text(encoding="utf-8"))
    assert {"Answer", "PriceLine", "SubmissionFile", ".manifest", ".sealed_amount", ".sealed_meta", ".draft_keys",
            ".sealed_keys", ".opened_keys"} <= {h.split(": ", 1)[1] for h in door}


# --------------------------------------------------------------------------------------------------------------------
# The audit log before opening: activity on sealed submissions only as counts across vendors (finding 13)

def _audit_rows(page: str) -> list[tuple[int, str, str]]:
    """(id, who, action code) of every event row of the audit page (the code is shown under its label)."""
    return [(int(i), who, action) for i, who, action in
            re.findall(r'<tr><td>(\d+)</td><td>[^<]*</td><td>([^<]*)</td><td>[^<]*<code class="hint">([^<]*)</code></td>', page)]


def _sealed_counts(page: str) -> dict[tuple[str, str], tuple[int, int]]:
    rows = re.findall(r'<tr class="sealed-count"><td>([^<]*)</td><td>[^<]*<code class="hint">([^<]*)</code></td>'
                      r'<td>(\d+)</td><td>(\d+)</td></tr>', page)
    return {(label, action): (int(n), int(vendors)) for label, action, n, vendors in rows}


def _sealed_world():
    from tests.factories import wait_for
    from app.documents.models import Document, DocumentStatus
    officer, second, admin = create_staff(Role.officer), create_staff(Role.officer), create_staff(Role.admin)
    vendors = [create_vendor_user() for _ in range(3)]
    exercise = create_published(officer, kind=ExerciseKind.tender, vendors=vendors)
    for n, vendor in enumerate(vendors):
        submission = create_submission(exercise, vendor, answer=f"{ANSWER_MARKER} {n}")
        if n < 2:  # two vendors save again after submitting (a withdrawal and a new draft)
            ops.withdraw_submission(submission, actor=vendor)
            ops.save_draft(submission, actor=vendor, answers={exercise.sections[0].id: "Second thoughts"})
            ops.submit_submission(submission, actor=vendor, draft_version=submission.draft_version)
            db.session.commit()
    def all_ready():
        ready = db.session.scalars(sa.select(Document).where(Document.kind == "submission_receipt",
                                                             Document.status == DocumentStatus.ready)).all()
        return ready if len(ready) == 5 else None
    receipts = wait_for(all_ready)
    assert receipts, "five receipts (three submissions, two resubmissions) were rendered"
    return exercise, officer, second, admin, vendors, [r.sha256 for r in receipts]


def test_audit_log_shows_sealed_activity_only_as_counts_before_opening(app, login):
    exercise, officer, second, admin, vendors, receipt_hashes = _sealed_world()
    client = login(admin)
    page = client.get("/admin/audit").get_data(as_text=True)

    rows = _audit_rows(page)
    assert rows, "the page lists the other events"
    leaked = [(i, who, action) for i, who, action in rows if action.startswith("submission.")
              or (action.startswith("document.") and any(v.email == who for v in vendors))]
    assert leaked == [], "no per-vendor row about a sealed submission"
    assert not [h for h in receipt_hashes if h in page], "no receipt hash before opening"
    counts = _sealed_counts(page)
    assert counts[(exercise.reference, "submission.draft_saved")] == (5, 3)
    assert counts[(exercise.reference, "submission.submitted")] == (5, 3)
    assert counts[(exercise.reference, "submission.withdrawn")] == (2, 2)
    assert counts[(exercise.reference, "document.ready")] == (5, 3)

    # Choosing one vendor's account does not narrow the counts to that vendor.
    one = client.get(f"/admin/audit?actor={vendors[0].email}").get_data(as_text=True)
    assert _sealed_counts(one)[(exercise.reference, "submission.draft_saved")] == (5, 3)
    assert not [row for row in _audit_rows(one) if row[2].startswith("submission.")]


def test_audit_log_shows_full_detail_after_opening(app, login):
    """Positive control: once the box is opened the same page lists every event, by whom, with the receipts' hashes."""
    from freezegun import freeze_time
    exercise, officer, second, admin, vendors, receipt_hashes = _sealed_world()
    with freeze_time(exercise.closes_at + timedelta(seconds=1)):
        ops.start_opening(exercise, actor=officer, passphrase=OPENING_PASSPHRASE)
        ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)
        db.session.commit()
    client = login(admin)
    page = client.get("/admin/audit?action=submission.draft_saved").get_data(as_text=True)
    saves = [who for _i, who, action in _audit_rows(page) if action == "submission.draft_saved"]
    assert sorted(saves) == sorted([v.email for v in vendors] + [vendors[0].email, vendors[1].email])
    assert (exercise.reference, "submission.draft_saved") not in _sealed_counts(page)
    page = client.get("/admin/audit?action=document.ready").get_data(as_text=True)
    assert all(h in page for h in receipt_hashes)
