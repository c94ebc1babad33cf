"""Who may use which route: the role x route matrix over the whole URL map, and vendor A vs vendor B.

Adding a route? Add ONE line to ROUTE_ACCESS below saying who may use it, e.g.
    "eoi.exercise_publish": {OFFICER},
    "eoi.exercise_publication_withdraw": {OFFICER},
    "eoi.exercise_list": PUBLIC,
    "eoi.submission_edit": {"GET": {VENDOR}, "POST": {VENDOR}},   # per HTTP method, when they differ
If the route takes the id of something a vendor company owns, also add a line to VENDOR_OBJECTS
(or name the argument in NOT_VENDOR_OWNED when it is not a vendor-owned object).
"""
from __future__ import annotations

import uuid
from typing import Callable, Union
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.auth.queries import pending_invitations
from app.documents.models import Document
from contracts.letter_models import Letter
from app.extensions import db
from tests.factories import create_staff, create_vendor_user

PUBLIC = "public"  # anyone, signed in or not
AUTHENTICATED = "authenticated"  # any signed-in user (object checks inside the view)
ADMIN, OFFICER, APPROVER, PANEL, VENDOR = Role.admin, Role.officer, Role.approver, Role.panel, Role.vendor
STAFF = frozenset({ADMIN, OFFICER, APPROVER, PANEL})

Who = Union[str, frozenset, set]
Access = Union[Who, dict]  # a Who for every method, or {"GET": Who, "POST": Who}

# endpoint -> who may use it. Every endpoint in app.url_map (except static) must be here.
ROUTE_ACCESS: dict[str, Access] = {
    # app/main.py
    "main.home": PUBLIC,
    "main.set_language": PUBLIC,
    "main.healthz": PUBLIC,
    "main.document_download": AUTHENTICATED,  # object check: other companies get 404
    "main.document_retry": AUTHENTICATED,  # object check: other companies get 404
    # app/auth/views.py
    "auth.register": PUBLIC,
    "auth.verify_email": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": AUTHENTICATED,
    "auth.forgot_password": PUBLIC,
    "auth.reset_password": PUBLIC,
    "auth.account": AUTHENTICATED,
    "auth.invite_user": {VENDOR},
    "auth.invitation_revoke": {VENDOR},  # object check: another company's invitation gives 404
    "auth.accept_invitation": PUBLIC,
    # app/admin/views.py
    "admin.users": {ADMIN},
    "admin.user_new": {ADMIN},
    "admin.user_toggle": {ADMIN},
    "admin.audit_log": {ADMIN},
    # eoi/views/public.py
    "eoi.exercise_list": PUBLIC,
    "eoi.exercise_detail": PUBLIC,  # published exercises only (drafts 404)
    "eoi.exercise_document_download": PUBLIC,
    # eoi/views/officer.py
    "eoi.manage_exercises": {OFFICER},
    "eoi.exercise_new": {OFFICER},
    "eoi.exercise_edit": {OFFICER},
    "eoi.exercise_manage": {OFFICER},
    "eoi.exercise_publish": {OFFICER},
    "eoi.exercise_publication_withdraw": {OFFICER},
    "eoi.exercise_cancel": {OFFICER},
    "eoi.section_new": {OFFICER},
    "eoi.section_edit": {OFFICER},
    "eoi.section_move": {OFFICER},
    "eoi.section_delete": {OFFICER},
    "eoi.price_item_new": {OFFICER},
    "eoi.price_item_delete": {OFFICER},
    "eoi.exercise_document_new": {OFFICER},
    "eoi.exercise_document_file": {OFFICER},
    "eoi.exercise_invitations": {OFFICER},
    "eoi.exercise_invite_from_eoi": {OFFICER},
    "eoi.manage_clarifications": {OFFICER},
    "eoi.clarification_answer": {OFFICER},
    "eoi.addendum_new": {OFFICER},
    "eoi.incident_new": {OFFICER},
    "eoi.incident_confirm": {OFFICER},
    "eoi.incident_decline": {OFFICER},
    "eoi.opening": {OFFICER},
    "eoi.opening_key": {OFFICER},
    "eoi.opening_start": {OFFICER},
    "eoi.opening_confirm": {OFFICER},
    "eoi.manage_submission": {OFFICER},
    "eoi.manage_submission_file": {OFFICER},
    # eoi/views/vendor.py
    "eoi.interest_register": {VENDOR},
    "eoi.clarification_ask": {VENDOR},
    "eoi.addendum_acknowledge": {VENDOR},
    "eoi.subscriptions": {VENDOR},
    "eoi.notifications": {VENDOR},
    "eoi.notifications_read": {VENDOR},
    "eoi.submission_start": {VENDOR},
    "eoi.submission_edit": {VENDOR},  # the company's own submission for that exercise
    "eoi.submission_save": {VENDOR},  # POST to the same URL: save the draft (autosave answers JSON)
    "eoi.submission_upload": {VENDOR},
    "eoi.submission_file_download": {VENDOR},  # object check: another company's file_id gives 404
    "eoi.submission_file_remove": {VENDOR},
    "eoi.submission_addendum_acknowledge": {VENDOR},
    "eoi.submission_prices": {VENDOR},
    "eoi.submission_submit": {VENDOR},
    "eoi.submission_receipt": {VENDOR},
    "eoi.submission_withdraw": {VENDOR},
    "eoi.submission_reconfirm": {VENDOR},
    # scoring/views/criteria.py
    "scoring.criteria": {OFFICER},
    "scoring.criterion_delete": {OFFICER},
    "scoring.evaluation_settings": {OFFICER},
    # scoring/views/panels.py
    "scoring.panel_manage": {OFFICER},
    "scoring.panel_member_add": {OFFICER},
    "scoring.panel_member_remove": {OFFICER},
    "scoring.panel_assign": {OFFICER},
    "scoring.panel_remind": {OFFICER, PANEL},  # object check: the chair or a managing officer (403 otherwise)
    "scoring.panel_work": {PANEL},  # object check: a seat on that panel (404 otherwise)
    "scoring.declare": {PANEL},
    "scoring.interests": {PANEL, VENDOR},
    "scoring.interest_delete": {PANEL, VENDOR},  # object check: another's interest gives 404
    # scoring/views/sheets.py
    "scoring.sheet": {PANEL},  # object check: the assigned member, declared clear of the vendor (404 otherwise)
    "scoring.sheet_save": {PANEL},
    "scoring.sheet_file": {PANEL},
    "scoring.moderation": {OFFICER, PANEL},  # object check: the clear chair or a managing officer (404 otherwise)
    "scoring.sheet_reopen": {OFFICER, PANEL},
    "scoring.consensus": {OFFICER, PANEL},
    "scoring.results": {OFFICER, PANEL},  # object check: a managing officer or a chair clear of every vendor
    # scoring/views/report.py (evaluation report, exports, moderation charts)
    "scoring.report": {OFFICER, APPROVER, PANEL},  # object check: can_read_report (a clear chair with its sheets in)
    "scoring.report_status": {OFFICER, APPROVER, PANEL},
    "scoring.report_prepare": {OFFICER, APPROVER, PANEL},
    "scoring.report_download": {OFFICER, APPROVER, PANEL},  # and the reader's kind (named or by letter)
    "scoring.scores_export": {OFFICER, APPROVER},  # object check: can_export_scores
    "scoring.moderation_chart": {OFFICER, PANEL},  # object check: as the moderation page (can_moderate)
    "scoring.sign_off": {OFFICER, PANEL},  # object check: as results; the operation lets only the chair sign off
    "scoring.price_opening": {OFFICER},  # object check: a managing officer, a tender opened (403 otherwise)
    "scoring.price_opening_start": {OFFICER, PANEL},  # a panel member's attempt is refused by the operation, audited
    "scoring.price_opening_confirm": {OFFICER, PANEL},
    "scoring.tender_prices": {OFFICER},  # object check: a compliant tender after the price opening (refused, audited)
    # contracts/ (decisions, awards, contracts, KPIs)
    # contracts/ (contracts, KPI reports, verification; decisions and awards later)
    "contracts.register": {OFFICER, APPROVER, ADMIN},
    "contracts.contract_new": {OFFICER},
    "contracts.my_contracts": {VENDOR},
    "contracts.contract_detail": AUTHENTICATED,  # object check: another company's contract gives 404
    "contracts.fee_add": {OFFICER},
    "contracts.milestone_add": {OFFICER},
    "contracts.kpi_add": {OFFICER},
    "contracts.kpi_edit": {OFFICER},
    "contracts.kpi_remove": {OFFICER},
    "contracts.risk_add": {OFFICER},
    "contracts.contract_preview": {OFFICER},
    "contracts.contract_issue": {OFFICER},
    "contracts.contract_sign": {OFFICER},
    "contracts.contract_activate": {OFFICER},
    "contracts.contract_complete": {OFFICER},
    "contracts.contract_terminate": {OFFICER},
    "contracts.milestone_paid": {OFFICER},
    "contracts.contract_vary": {OFFICER},
    "contracts.version_pdf": AUTHENTICATED,  # object check: another company's contract gives 404
    "contracts.kpi_chart": AUTHENTICATED,  # object check
    "contracts.performance_report_request": {OFFICER},
    "contracts.performance_report_pdf": AUTHENTICATED,  # object check: another company's report gives 404
    "contracts.report_new": {VENDOR},  # object check: only the contractor's users
    "contracts.report_detail": AUTHENTICATED,  # object check
    "contracts.report_accept": {OFFICER},
    "contracts.report_query": {OFFICER},
    "contracts.report_refile": {VENDOR},  # object check
    "contracts.verify": PUBLIC,
    "contracts.open_data": PUBLIC,
    "contracts.open_data_page": PUBLIC,
    "contracts.exercise_letters": {OFFICER, APPROVER, ADMIN},
    "contracts.issue_exercise_letters": {OFFICER},
    "contracts.my_letters": {VENDOR},
    "contracts.letter_pdf": AUTHENTICATED,  # object check: another company's letter gives 404
    "contracts.decisions": {OFFICER, APPROVER, ADMIN},
    "contracts.decision_detail": {OFFICER, APPROVER, ADMIN},
    "contracts.my_decisions": {VENDOR},
    "contracts.decision_new": {OFFICER},
    "contracts.decision_revise": {OFFICER},  # object check: only a returned decision
    "contracts.decision_approve": {APPROVER},  # object check: not one's own, not an exercise one evaluated (audited)
    "contracts.decision_return": {APPROVER},  # object check: as approve
    "contracts.decision_finalise": {OFFICER},
    "contracts.decision_decline": {OFFICER},
    "contracts.decision_invite": {OFFICER},
    "contracts.challenge_answer": {OFFICER},
    "contracts.decision_challenge": {VENDOR},  # object check: only a company that took part (others 404)
}

# URL argument naming an object a vendor company owns -> (vendor user -> list of URL values for that company's
# objects). Used by test_vendor_b_gets_404_for_every_object_of_vendor_a.
def _submission_files(user: User) -> list[dict]:
    from eoi.models import Submission, SubmissionFile
    rows = db.session.execute(sa.select(Submission.exercise_id, SubmissionFile.id).join(
        SubmissionFile, SubmissionFile.submission_id == Submission.id).where(Submission.vendor_id == user.vendor_id))
    return [{"exercise_id": exercise_id, "file_id": file_id} for exercise_id, file_id in rows]


def _vendor_interests(user: User):
    from scoring.queries import interests_of_vendor
    return interests_of_vendor(user.vendor_id)
def _contract_objects(user: User) -> list[dict]:
    """URL values naming the company's contracts: the contract, and its versions, KPIs and reports' pages."""
    from contracts.models import Contract
    values = []
    for contract in db.session.scalars(sa.select(Contract).where(Contract.vendor_id == user.vendor_id)):
        values.append({"contract_id": contract.id})
        values += [{"contract_id": contract.id, "number": v.number} for v in contract.versions]
        values += [{"contract_id": contract.id, "kpi_id": k.id} for k in contract.kpis]
        values += [{"contract_id": contract.id, "milestone_id": m.id} for m in contract.milestones]
    return values


def _report_objects(user: User) -> list[dict]:
    from contracts.models import Contract, KpiReport
    return [{"report_id": r} for r in db.session.scalars(sa.select(KpiReport.id).join(
        Contract, Contract.id == KpiReport.contract_id).where(Contract.vendor_id == user.vendor_id))]


def _performance_report_objects(user: User) -> list[dict]:
    from contracts.models import Contract, PerformanceReport
    return [{"performance_report_id": r} for r in db.session.scalars(sa.select(PerformanceReport.id).join(
        Contract, Contract.id == PerformanceReport.contract_id).where(Contract.vendor_id == user.vendor_id))]


VENDOR_OBJECTS: dict[str, Callable[[User], list[dict]]] = {
    "doc_id": lambda user: [{"doc_id": doc_id} for doc_id in db.session.scalars(
        sa.select(Document.id).where(Document.vendor_id == user.vendor_id))],
    "file_id": _submission_files,
    "invitation_id": lambda user: [{"invitation_id": i.id} for i in pending_invitations(user.vendor)],
    "interest_id": lambda user: [{"interest_id": i.id} for i in _vendor_interests(user)],
    "contract_id": lambda user: _contract_objects(user),
    "report_id": lambda user: _report_objects(user),
    "performance_report_id": lambda user: _performance_report_objects(user),
    "kpi_id": lambda user: [v for v in _contract_objects(user) if "kpi_id" in v],
    "number": lambda user: [v for v in _contract_objects(user) if "number" in v],
    "letter_id": lambda user: [{"letter_id": letter_id} for letter_id in db.session.scalars(
        sa.select(Letter.id).where(Letter.vendor_id == user.vendor_id))],
}
# id-like URL arguments on vendor-reachable routes that do not name a vendor-owned object.
NOT_VENDOR_OWNED: set[str] = {
    "exercise_id",  # a published exercise is public
    "document_id",  # an exercise's tender document (ExerciseDocument), public once published
    "addendum_id",  # addenda are published to everyone
    "decision_id",  # a decision is no company's object: the companies that took part see it once approved, others
                    # get 404 (tests/contracts/test_decision_views.py)
}

ROLES = [None, ADMIN, OFFICER, APPROVER, PANEL, VENDOR]  # None = anonymous
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DUMMY_ID = 987_654


def _rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def _methods(rule) -> list[str]:
    return sorted(m for m in rule.methods if m in METHODS)


def who_may(endpoint: str, method: str) -> Who:
    access = ROUTE_ACCESS[endpoint]
    return access[method] if isinstance(access, dict) else access


def allowed_role(endpoint: str, method: str) -> Role | None:
    """One role allowed to use the route (None = anonymous will do); for tests that need 'an allowed user'."""
    who = who_may(endpoint, method)
    if who == PUBLIC:
        return None
    if who == AUTHENTICATED:
        return VENDOR
    return sorted(who, key=lambda r: r.value)[0]


def expectation(endpoint: str, method: str, role: Role | None) -> str:
    who = who_may(endpoint, method)
    if who == PUBLIC:
        return "allowed"
    if role is None:
        return "login"
    if who == AUTHENTICATED or role in who:
        return "allowed"
    return "forbidden"


def dummy_values(rule) -> dict:
    """A value for every URL argument that the converter accepts; ids that exist are not needed."""
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if kind == "IntegerConverter":
            values[name] = DUMMY_ID
        elif kind == "FloatConverter":
            values[name] = 1.5
        elif kind == "UUIDConverter":
            values[name] = uuid.UUID(int=DUMMY_ID)
        elif kind == "AnyConverter":
            values[name] = sorted(converter.items)[0]
        else:  # string / path / custom
            values[name] = "x"
    return values


def build(app, rule, values: dict, method: str) -> str:
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method, force_external=False)


def is_login_redirect(response) -> bool:
    return response.status_code in (301, 302, 303, 307, 308) and \
        urlsplit(response.headers.get("Location", "")).path == "/login"


def verdict(response, expected: str) -> str | None:
    """None if the response matches the expectation, else what was wrong."""
    code = response.status_code
    if expected == "login":
        return None if is_login_redirect(response) else f"expected 302 to /login, got {code} {response.headers.get('Location', '')}"
    if expected == "forbidden":
        return None if code == 403 else f"expected 403, got {code} {response.headers.get('Location', '')}"
    if code == 403 or code == 401:
        return f"allowed role refused with {code}"
    if is_login_redirect(response):
        return "allowed role sent to sign-in"
    if code >= 500:
        return f"server error {code}"
    return None


# --------------------------------------------------------------------------------------------------------------------
# The table covers the URL map, exactly.

def test_every_route_has_an_access_decision(app):
    by_endpoint: dict[str, list] = {}
    for rule in _rules(app):
        by_endpoint.setdefault(rule.endpoint, []).append(rule)
    missing = sorted(set(by_endpoint) - set(ROUTE_ACCESS))
    assert not missing, (
        "routes with no access decision; add one line per endpoint to ROUTE_ACCESS in tests/app/test_access.py:\n"
        + "\n".join(f"    {e!r}: ...,  # {', '.join(f'{_methods(r)} {r.rule}' for r in by_endpoint[e])}" for e in missing))
    stale = sorted(set(ROUTE_ACCESS) - set(by_endpoint))
    assert not stale, f"ROUTE_ACCESS names endpoints that are not in the URL map (remove them): {stale}"


def test_access_table_entries_are_well_formed(app):
    problems = []
    methods_of = {}
    for rule in _rules(app):
        methods_of.setdefault(rule.endpoint, set()).update(_methods(rule))
    for endpoint, access in ROUTE_ACCESS.items():
        entries = access.items() if isinstance(access, dict) else [(m, access) for m in methods_of.get(endpoint, ())]
        if isinstance(access, dict) and endpoint in methods_of and set(access) != methods_of[endpoint]:
            problems.append(f"{endpoint}: per-method entry has {sorted(access)}, route has {sorted(methods_of[endpoint])}")
        for method, who in entries:
            if who in (PUBLIC, AUTHENTICATED):
                continue
            if not isinstance(who, (set, frozenset)) or not who or not all(isinstance(r, Role) for r in who):
                problems.append(f"{endpoint} {method}: {who!r} is not 'public', 'authenticated' or a set of Roles")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------------------------------------
# The matrix: every route x anonymous + each role. One app per role, many requests.

def _user_for(role: Role) -> User:
    return create_vendor_user() if role == VENDOR else create_staff(role)


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


@pytest.mark.parametrize("role", ROLES, ids=lambda r: "anonymous" if r is None else r.value)
def test_role_route_matrix(app, login, role):
    client = app.test_client() if role is None else login(_user_for(role))
    failures, checked = [], 0
    for rule in sorted(_rules(app), key=lambda r: (r.endpoint, r.rule)):
        if rule.endpoint not in ROUTE_ACCESS:
            continue  # test_every_route_has_an_access_decision names it
        for method in _methods(rule):
            expected = expectation(rule.endpoint, method, role)
            url = build(app, rule, dummy_values(rule), method)
            response = client.open(url, method=method, data={} if method != "GET" else None)
            checked += 1
            if problem := verdict(response, expected):
                failures.append(f"{method} {url} ({rule.endpoint}) as {role.value if role else 'anonymous'}: {problem}")
            if role is not None and method != "GET" and not _signed_in(client):
                client = login(_user_for(role))  # e.g. sign-out: carry on with a fresh session
    assert checked >= len(ROUTE_ACCESS) - len({r.endpoint for r in _rules(app)} ^ set(ROUTE_ACCESS))
    assert not failures, f"{len(failures)} access violation(s):\n" + "\n".join(failures)


def test_matrix_would_catch_a_route_that_forgets_its_role_check(app, login, monkeypatch):
    """Guard against a matrix that passes on anything: an unchecked admin view must be reported."""
    from app.admin import views
    monkeypatch.setitem(app.view_functions, "admin.users", views.users.__wrapped__)
    response = login(_user_for(VENDOR)).get("/admin/users")
    assert verdict(response, expectation("admin.users", "GET", VENDOR)) is not None
    assert verdict(app.test_client().get("/admin/users"), "login") is not None


# Vendor A's objects, asked for by vendor B, are tried by tests/invariants/test_vendors_see_only_their_own.py.
