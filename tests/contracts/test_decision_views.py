"""Decision pages: the officer records from the recommendation, the approver's home lists what waits and approves;
an approver who evaluated is refused on the server with the reason (in Chinese too) and audited; the vendor pages
(own outcome, challenge during standstill, another company 404); the role matrix of the routes."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.auth.models import Role, User
from app.db import now_utc
from app.extensions import db
from contracts import decisions as dec
from contracts.models import Decision
from contracts.states import ChallengeState, DecisionState
from eoi.states import ExerciseKind
from tests.contracts.test_decisions import _evaluated, _vendor_user
from tests.factories import create_staff, create_vendor_user


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


@pytest.fixture
def tender(app):
    return _evaluated(ExerciseKind.tender)


def _post(client, url, data=None, page=None):
    token = _csrf(page or client.get("/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def test_officer_records_approver_approves_vendor_challenges(tender, login):
    e = tender
    first, failed, best = e["submissions"]
    officer = login(e["officer"])
    page = officer.get(f"/contracts/decisions/new/{e['exercise'].id}").get_data(as_text=True)
    assert f'value="{best.id}" checked' in page or f'checked id="submissions-' in page
    response = officer.post(f"/contracts/decisions/new/{e['exercise'].id}",
                            data={"csrf_token": _csrf(page), "submissions": [str(best.id)], "justification": ""})
    assert response.status_code == 400 and "This field is required" in response.get_data(as_text=True)
    response = officer.post(f"/contracts/decisions/new/{e['exercise'].id}",
                            data={"csrf_token": _csrf(page), "submissions": [str(best.id), str(first.id)],
                                  "justification": "x"})
    assert response.status_code == 400 and "An award goes to one tenderer" in response.get_data(as_text=True)
    response = officer.post(f"/contracts/decisions/new/{e['exercise'].id}",
                            data={"csrf_token": _csrf(page), "submissions": [str(best.id)],
                                  "justification": "Highest technical score."})
    assert response.status_code == 302
    decision = db.session.scalar(sa.select(Decision))
    # the approver's home lists it; a chair made approver sees the reason instead of the buttons
    approver = login(e["approver"])
    home = approver.get("/").get_data(as_text=True)
    assert "Decisions awaiting your approval" in home and e["exercise"].reference in home
    evaluator = create_staff(Role.approver)
    from scoring.models import PanelMember, PanelRole
    db.session.add(PanelMember(panel=e["panel"], user=evaluator, role=PanelRole.member))
    db.session.commit()
    evaluator_client = login(evaluator)
    assert "Your approval queue is empty" in evaluator_client.get("/").get_data(as_text=True)
    detail = evaluator_client.get(f"/contracts/decisions/{decision.id}").get_data(as_text=True)
    assert "took part in the evaluation" in detail and "Approve the decision" not in detail
    evaluator_client.post("/language/zh_Hant", data={"csrf_token": _csrf(detail)})
    response = _post(evaluator_client, f"/contracts/decisions/{decision.id}/approve", page=detail)
    assert response.status_code == 302
    flashed = evaluator_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "您曾參與此活動的評審" in flashed
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "decision.approval_refused")).all()
    assert [ev.actor_id for ev in events] == [evaluator.id]
    db.session.refresh(decision)
    assert decision.state == DecisionState.submitted
    # an officer may not reach the approval route at all
    assert _post(officer, f"/contracts/decisions/{decision.id}/approve").status_code == 403
    detail = approver.get(f"/contracts/decisions/{decision.id}").get_data(as_text=True)
    assert "Approve the decision" in detail
    letters_link = f'href="/contracts/letters/exercises/{e["exercise"].id}"'
    assert letters_link not in detail  # no letter before the approval
    assert _post(approver, f"/contracts/decisions/{decision.id}/approve", page=detail).status_code == 302
    db.session.refresh(decision)
    assert decision.state == DecisionState.approved
    # the standstill reads as one phrase in each language (the comma is the language's own)
    assert re.search(r"10 days, until \d+ \w{3} \d{4}, \d\d:\d\d",
                     approver.get(f"/contracts/decisions/{decision.id}").get_data(as_text=True))
    assert re.search(r"10 日，至 \d{4}年\d+月\d+日",
                     evaluator_client.get(f"/contracts/decisions/{decision.id}").get_data(as_text=True))
    # vendors: the loser sees its outcome and challenges; another company gets 404
    loser = login(_vendor_user(first))
    mine = loser.get("/contracts/decisions/mine").get_data(as_text=True)
    assert "Not successful" in mine and e["exercise"].reference in mine
    page = loser.get(f"/contracts/decisions/{decision.id}/challenge").get_data(as_text=True)
    assert "Challenge the award" in page and best.vendor.name_en not in page
    response = loser.post(f"/contracts/decisions/{decision.id}/challenge", data={"csrf_token": _csrf(page), "text": ""})
    assert response.status_code == 400
    response = loser.post(f"/contracts/decisions/{decision.id}/challenge",
                          data={"csrf_token": _csrf(page), "text": "Our plan met every service level."})
    assert response.status_code == 302
    outsider = create_vendor_user()
    stranger = login(outsider)
    assert stranger.get(f"/contracts/decisions/{decision.id}/challenge").status_code == 404
    # posting a challenge to the announced award anyway: refused with the reason, audited, nothing lodged
    response = _post(stranger, f"/contracts/decisions/{decision.id}/challenge", {"text": "Unfair"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/contracts/decisions/mine")
    assert "did not take part" in stranger.get(response.headers["Location"]).get_data(as_text=True)
    assert [ev.actor_id for ev in db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "decision.challenge_refused"))] == [outsider.id]
    assert stranger.get("/contracts/decisions").status_code == 403
    # officers answer, then after the standstill make it final and draw up the contract
    challenge = decision.challenges[0]
    detail = officer.get(f"/contracts/decisions/{decision.id}").get_data(as_text=True)
    assert "Our plan met every service level." in detail and "Make the award final" not in detail
    response = officer.post(f"/contracts/challenges/{challenge.id}/answer",
                            data={"csrf_token": _csrf(detail), f"c{challenge.id}-answer": "Scored 6 against 9."})
    assert response.status_code == 302
    db.session.refresh(challenge)
    assert challenge.state == ChallengeState.answered
    decision.standstill_ends_at = now_utc() - timedelta(minutes=1)  # the standstill is over (sessions stay valid)
    db.session.commit()
    detail = officer.get(f"/contracts/decisions/{decision.id}").get_data(as_text=True)
    assert "Make the award final" in detail
    assert _post(officer, f"/contracts/decisions/{decision.id}/final", page=detail).status_code == 302
    late = loser.post(f"/contracts/decisions/{decision.id}/challenge", data={"csrf_token": _csrf(page), "text": "Late"})
    assert late.status_code == 400 and "standstill period has ended" in late.get_data(as_text=True)
    db.session.refresh(decision)
    assert decision.state == DecisionState.final
    detail = officer.get(f"/contracts/decisions/{decision.id}").get_data(as_text=True)
    assert f"/contracts/new?submission={best.id}" in detail
    assert letters_link in detail  # the approved award's letters are one step away
    form = officer.get(f"/contracts/new?submission={best.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{best.id}">|<option value="{best.id}" selected>', form)


ROUTES = [  # (method, path template, roles that get through the role check)
    ("GET", "/contracts/decisions", {Role.officer, Role.approver, Role.admin}),
    ("GET", "/contracts/decisions/{d}", {Role.officer, Role.approver, Role.admin}),
    ("GET", "/contracts/decisions/mine", {Role.vendor}),
    ("POST", "/contracts/decisions/{d}/approve", {Role.approver}),
    ("POST", "/contracts/decisions/{d}/return", {Role.approver}),
    ("POST", "/contracts/decisions/{d}/final", {Role.officer}),
    ("POST", "/contracts/decisions/{d}/decline", {Role.officer}),
    ("GET", "/contracts/decisions/new/{x}", {Role.officer}),
]


def test_role_matrix_of_the_decision_routes(tender, login):
    e = tender
    decision = dec.record_decision(e["exercise"], actor=e["officer"], submission_ids=[e["submissions"][2].id],
                                   justification="Best.")
    db.session.commit()
    users = {Role.officer: e["officer"], Role.approver: e["approver"], Role.admin: create_staff(Role.admin),
             Role.panel: e["chair"], Role.vendor: _vendor_user(e["submissions"][0])}
    for role, user in users.items():
        client = login(user)
        token = _csrf(client.get("/account").get_data(as_text=True))
        for method, path, allowed in ROUTES:
            url = path.format(d=decision.id, x=e["exercise"].id)
            response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token})
            if role in allowed:
                assert response.status_code in (200, 302, 400), (role, url, response.status_code)
            else:
                assert response.status_code in (403, 404), (role, url, response.status_code)
    db.session.refresh(decision)
    # only the approver got through: it approved (the empty return that followed was refused at the field)
    assert decision.state == DecisionState.approved and decision.approved_by_id == e["approver"].id
