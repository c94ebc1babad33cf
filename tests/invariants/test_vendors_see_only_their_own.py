"""Invariant 8 (vendors see only their own): every route that takes the id of something a vendor company owns
answers another vendor with 404 (never 403, so ids are not confirmed) and its owner with the page. The
objects and routes come from the access table in tests/app/test_access.py (VENDOR_OBJECTS, ROUTE_ACCESS)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.auth.operations import invite_vendor_user
from app.extensions import db
from eoi.models import SubmissionFile, SubmissionVersion
from eoi.states import SubmissionState
from tests.app.test_access import (AUTHENTICATED, NOT_VENDOR_OWNED, PUBLIC, ROUTE_ACCESS, VENDOR, VENDOR_OBJECTS,
                                   _methods, _rules, build, is_login_redirect, who_may)
from tests.eoi.test_vendor_views import _ready_to_submit, _start, _submission, _submit, _url
from tests.factories import create_published_exercise, create_vendor_user, create_vendor_with_document


@pytest.fixture
def vendor():
    return create_vendor_user()


def _vendor_with_objects() -> User:
    """Vendor A with one of each object a vendor owns: its registration confirmation, a submission with a file."""
    from tests.factories import create_published, create_submission
    user = create_vendor_with_document()
    create_submission(create_published(), user, file_name="proposal.pdf")
    invite_vendor_user(user.vendor, name="A Colleague", email="colleague@vendor-a.example", actor=user)
    from scoring.models import InterestKind
    from scoring.operations import add_interest
    add_interest(actor=user, kind=InterestKind.director, name="Ms A Director", vendor_id=user.vendor_id)
    _contract_with_queried_report(user)
    _letter_for(user)
    db.session.commit()
    for arg, provider in VENDOR_OBJECTS.items():
        assert provider(user), f"vendor A has no object for {arg}: extend _vendor_with_objects()"
    return user


def _contract_with_queried_report(user: User) -> None:
    """An active contract of vendor A with an issued version, a KPI report the officer queried (so A may file it
    again) and its first year's performance report."""
    from datetime import date
    from decimal import Decimal
    from contracts import operations as cops
    from tests.factories import create_contract
    contract = create_contract(user, state="active")
    report = cops.file_kpi_report(contract, actor=user, period_start=date(contract.starts_on.year, 1, 1),
                                  figures={k.id: Decimal("99.9") for k in contract.kpis})
    officer = db.session.get(User, contract.created_by_id)
    cops.query_kpi_report(report, actor=officer, note="Please check.")
    cops.request_performance_report(contract, actor=officer, year=1)


def _letter_for(user: User) -> None:
    """A letter to vendor A about the exercise its contract came from (rows written directly: issuing letters
    through contracts.letters needs a scored panel, tested in tests/contracts/test_letters.py)."""
    from app.documents.service import queue_document
    from contracts.letter_models import Letter, LetterBatch, LetterKind
    from contracts.models import Contract
    contract = db.session.scalar(sa.select(Contract).where(Contract.vendor_id == user.vendor_id))
    batch = LetterBatch(exercise_id=contract.exercise_id, reference="A-LETTERS/L", issued_by_id=contract.created_by_id)
    letter = Letter(batch=batch, exercise_id=contract.exercise_id, vendor_id=user.vendor_id, number=1,
                    kind=LetterKind.regret, language="en", content_sha256="0" * 64)
    db.session.add_all([batch, letter])
    db.session.flush()
    letter.document_id = queue_document("letter", letter, language="en", vendor_id=user.vendor_id, actor=None).id


def _id_arguments(rule) -> list[str]:
    return [name for name, conv in rule._converters.items()
            if type(conv).__name__ in ("IntegerConverter", "UUIDConverter")]


def _vendor_reachable(rule, method) -> bool:
    if rule.endpoint not in ROUTE_ACCESS:
        return True  # undecided routes are treated as reachable (test_every_route_has_... names them)
    who = who_may(rule.endpoint, method)
    return who in (PUBLIC, AUTHENTICATED) or VENDOR in who


def test_every_id_argument_on_a_vendor_route_has_an_ownership_decision(app):
    undecided = sorted({f"{arg} (in {rule.endpoint} {rule.rule})" for rule in _rules(app) for method in _methods(rule)
                        if _vendor_reachable(rule, method) for arg in _id_arguments(rule)
                        if arg not in VENDOR_OBJECTS and arg not in NOT_VENDOR_OWNED})
    assert not undecided, ("id arguments on routes a vendor can reach, with no decision: add them to VENDOR_OBJECTS "
                           "or NOT_VENDOR_OWNED in tests/app/test_access.py: " + ", ".join(undecided))


def test_vendor_b_gets_404_for_every_object_of_vendor_a(app, login):
    vendor_a = _vendor_with_objects()
    vendor_b = create_vendor_user()
    client_a, client_b = login(vendor_a), login(vendor_b)
    failures, checked = [], []
    for rule in sorted(_rules(app), key=lambda r: r.endpoint):
        owned = [arg for arg in rule.arguments if arg in VENDOR_OBJECTS]
        for method in _methods(rule):
            if not owned or not _vendor_reachable(rule, method):
                continue
            for arg in owned:
                for values in VENDOR_OBJECTS[arg](vendor_a):
                    if not set(rule.arguments) <= set(values):
                        continue
                    url = build(app, rule, {k: values[k] for k in rule.arguments}, method)
                    as_b = client_b.open(url, method=method, data={})
                    if as_b.status_code != 404:
                        failures.append(f"{method} {url} ({rule.endpoint}) as vendor B: {as_b.status_code}, expected 404")
                    as_a = client_a.open(url, method=method, data={})
                    if as_a.status_code in (403, 404) or is_login_redirect(as_a):
                        failures.append(f"{method} {url} ({rule.endpoint}) as its owner vendor A: {as_a.status_code}")
                    checked.append((arg, url))
    assert not failures, "\n".join(failures)
    unexercised = set(VENDOR_OBJECTS) - {arg for arg, _url in checked}
    assert not unexercised, f"no vendor-reachable route was tried with vendor A's {sorted(unexercised)}"


def test_another_vendor_guessing_submission_file_and_receipt_urls_gets_404(login, vendor):
    exercise = create_published_exercise()
    owner = login(vendor)
    _ready_to_submit(owner, exercise, vendor)
    _submit(owner, exercise, vendor)
    item_id = db.session.scalar(sa.select(SubmissionFile.id))
    doc_id = db.session.scalar(sa.select(SubmissionVersion.receipt_document_id))

    other_user = create_vendor_user()
    other = login(other_user)
    for url in (_url(exercise, f"/files/{item_id}"), _url(exercise, "/receipt"), f"/documents/{doc_id}"):
        assert other.get(url).status_code == 404, url
    for url in (_url(exercise, f"/files/{item_id}/remove"), _url(exercise, "/withdraw"), _url(exercise, "/submit"),
                _url(exercise, "/prices"), _url(exercise, "/reconfirm")):
        assert other.post(url, data={"confirm": "y", "draft_version": "1"}).status_code == 404, url
    # with a draft of its own on the same exercise, the other company still cannot reach this company's file
    assert _start(other, exercise).status_code == 302 and _submission(exercise, other_user) is not None
    assert other.get(_url(exercise, f"/files/{item_id}")).status_code == 404
    assert other.post(_url(exercise, f"/files/{item_id}/remove")).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(SubmissionFile.id))) == 1
    assert _submission(exercise, vendor).state == SubmissionState.submitted
    # the owner still reaches them
    assert owner.get(_url(exercise, f"/files/{item_id}")).status_code == 200
    assert owner.get(_url(exercise, "/receipt")).status_code == 200
