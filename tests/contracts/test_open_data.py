"""Open data (OCDS 1.1): the release package validates against the standard's schema (tests/data/ocds), holds every
published exercise and no draft, and publishes only what the public pages show: the number of proposals after the
opening (never a name or a price before the award notice), the award the notice names, signed contracts' committed
value in exact HKD."""
from __future__ import annotations

import copy
import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

from app.auth.models import Vendor
from app.db import now_utc, simulated_time
from app.extensions import db
from contracts.open_data import _amount
from eoi.models import Exercise
from tests.factories import create_draft, create_published_exercise, create_submission, create_vendor_user

SCHEMAS = Path(__file__).parents[1] / "data" / "ocds" / "1.1.5"
URL = "/contracts/open-data/releases.json"


def _errors(package: dict) -> list[str]:
    schemas = {name: json.loads((SCHEMAS / name).read_text()) for name in ("release-package-schema.json",
                                                                          "release-schema.json")}
    registry = Registry().with_resources((schema["id"], DRAFT4.create_resource(schema)) for schema in schemas.values())
    validator = Draft4Validator(schemas["release-package-schema.json"], registry=registry)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(package)]


def _strings(value):
    """Every string in a JSON document (Chinese arrives \\u-escaped in the text)."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _package(client) -> tuple[dict, str]:
    response = client.get(URL)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json(), response.get_data(as_text=True)


def test_the_demo_as_open_data_validates_and_names_only_the_awarded_company(app, client):
    from demo import seed_demo
    seed_demo()
    draft = create_draft()
    package, text = _package(client)
    assert _errors(package) == []
    # positive control: the validator is live (a status outside the closed codelist fails)
    broken = copy.deepcopy(package)
    broken["releases"][0]["tender"]["status"] = "open"
    assert any("tender/status" in e for e in _errors(broken))

    releases = {r["tender"]["id"]: r for r in package["releases"]}
    published = set(db.session.scalars(sa.select(Exercise.reference).where(Exercise.id != draft.id)))
    assert set(releases) == published and draft.reference not in text
    eoi, awarded, scoring = releases["OSP/EOI/2006/01"], releases["OSP/T/BT/2006"], releases["OSP/T/BT/01"]
    assert eoi["tender"]["procurementMethod"] == "open" and eoi["tender"]["status"] == "complete"
    assert eoi["tender"]["numberOfTenderers"] == 12 and "awards" not in eoi
    assert scoring["tender"]["status"] == "active" and "awards" not in scoring
    assert scoring["relatedProcesses"][0]["identifier"] == eoi["ocid"]
    (award,) = awarded["awards"]
    assert award["status"] == "active" and [s["name"] for s in award["suppliers"]] == ["Harbour Digital Services Limited"]
    (contract,) = awarded["contracts"]
    assert contract["awardID"] == award["id"] and contract["value"] == {"amount": 47680000, "currency": "HKD"}
    assert contract["period"]["startDate"].startswith("2008-01-01") and contract["status"] == "active"
    # the Chinese texts beside the English ones, under OCDS's language-suffixed fields
    exercise = db.session.scalar(sa.select(Exercise).where(Exercise.reference == "OSP/T/BT/2006"))
    harbour = db.session.scalar(sa.select(Vendor).where(Vendor.name_en == "Harbour Digital Services Limited"))
    assert awarded["tender"]["title_zh-Hant"] == award["title_zh-Hant"] == exercise.title_zh != exercise.title_en
    assert awarded["tender"]["items"][0]["description_zh-Hant"] == exercise.clusters[0].name_zh
    assert contract["title_zh-Hant"] and "title_zh-Hant" not in awarded["relatedProcesses"][0]
    suppliers = [p for p in awarded["parties"] if p["roles"] == ["supplier"]]
    assert suppliers == [{"id": f"vendor-{harbour.id}", "name": harbour.name_en, "name_zh-Hant": harbour.name_zh,
                          "roles": ["supplier"]}]
    # no other company is named anywhere, in either language: the shortlist, the bidders and the losers stay off
    names = set(_strings(package))
    others = [(vendor.name_en, vendor.name_zh) for vendor in db.session.scalars(sa.select(Vendor))
              if vendor.id != harbour.id]
    assert len(others) == 11 and not names & {name for pair in others for name in pair if name}
    assert not [english for english, _ in others if english in text]  # nor inside a longer text
    assert harbour.name_zh in names  # positive control: a Chinese name would be found
    # each release is dated by its latest public change (here the contract's variation), its id follows that date
    assert awarded["date"] == "2008-08-20T02:00:00+00:00" and awarded["id"].endswith("20080820T020000Z")


def test_before_the_opening_nothing_of_the_proposals_is_published(app, client):
    exercise = create_published_exercise(closes_in=timedelta(days=2))
    vendor_user = create_vendor_user()
    create_submission(exercise, vendor_user)
    package, text = _package(client)
    assert _errors(package) == []
    (release,) = package["releases"]
    assert release["tender"]["status"] == "active" and "numberOfTenderers" not in release["tender"]
    assert vendor_user.vendor.name_en not in text and "awards" not in release and "contracts" not in release
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", release["tender"]["tenderPeriod"]["endDate"])


def test_amounts_are_exact_json_numbers_or_refused():
    assert _amount(Decimal("47680000.00")) == 47680000 and isinstance(_amount(Decimal("47680000.00")), int)
    assert json.dumps(_amount(Decimal("12345678901.23"))) == "12345678901.23"
    with pytest.raises(ValueError):
        _amount(Decimal("1234567890123456.78"))  # 18 digits: a float would round it


def test_the_open_data_page_explains_it_in_both_languages(app, client):
    page = client.get("/contracts/open-data").get_data(as_text=True)
    assert "Open Contracting Data Standard" in page and f'href="{URL}"' in page
    assert 'href="/contracts/open-data"' in client.get("/").get_data(as_text=True)  # the footer links to it
    client.get("/language/zh_Hant?next=/contracts/open-data")
    chinese = client.get("/contracts/open-data").get_data(as_text=True)
    assert "開放數據" in chinese and "Open data" not in chinese


def test_the_award_and_the_count_wait_for_the_notice_and_a_cancellation_shows(app, client, monkeypatch):
    """An approved award whose letters are not issued yet is not open data (nor how many tendered); once the letters
    go out the award appears, pending in its standstill, under a new release id; a cancellation changes both."""
    import contracts.letters
    from contracts import decisions as dec
    from contracts.letters import LettersRefused, issue_letters
    from eoi.operations import cancel_exercise
    from eoi.states import ExerciseKind
    from tests.contracts.test_decisions import _evaluated
    e = _evaluated(ExerciseKind.tender)
    first, failed, best = e["submissions"]
    decision = dec.record_decision(e["exercise"], actor=e["officer"], submission_ids=[best.id],
                                   justification="Highest technical score.")
    with monkeypatch.context() as patch:  # as if the letters could not be issued at the approval
        patch.setattr(contracts.letters, "issue_letters", lambda *a, **k: (_ for _ in ()).throw(LettersRefused("later")))
        dec.approve_decision(decision, actor=e["approver"])
    db.session.commit()
    names = [s.vendor.name_en for s in e["submissions"]]
    package, text = _package(client)
    (before,) = package["releases"]
    assert "awards" not in before and "numberOfTenderers" not in before["tender"]
    assert not [name for name in names if name in text]

    with simulated_time(now_utc() + timedelta(minutes=5)):  # later than the opening, to the second
        issue_letters(e["exercise"], dec.decision_outcomes(decision), actor=e["officer"], decision=decision,
                      reference=f"{e['exercise'].reference}/L")
        db.session.commit()
    package, text = _package(client)
    assert _errors(package) == []
    (after,) = package["releases"]
    (award,) = after["awards"]
    assert award["status"] == "pending" and [s["name"] for s in award["suppliers"]] == [best.vendor.name_en]
    assert after["tender"]["numberOfTenderers"] == 3 and after["id"] != before["id"]
    assert first.vendor.name_en not in text and failed.vendor.name_en not in text

    with simulated_time(now_utc() + timedelta(minutes=10)):
        cancel_exercise(e["exercise"], actor=e["officer"], reason="The service is brought in-house.")
        db.session.commit()
    package, _text = _package(client)
    (cancelled,) = package["releases"]
    assert cancelled["tender"]["status"] == "cancelled" and cancelled["awards"][0]["status"] == "cancelled"
    assert cancelled["id"] != after["id"] and _errors(package) == []
