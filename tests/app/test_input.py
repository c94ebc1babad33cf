"""Bad input never ends in a 500: control characters, bidi controls and far dates, in every form and GET filter.

Two levels, both found from the code rather than listed:
- every form class (any FlaskForm subclass in an area) derives from app.forms.BaseForm, and fed control
  characters and far dates it refuses them with a field message (single-line text, dates) or cleans them (multi-line);
- every route of the URL map, as a user allowed to use it, gets every form field name and every GET parameter the
  code reads, filled with control characters and far dates (and uploads with bidi controls in their names): no 5xx.
Run it on PostgreSQL too, which refuses NUL in text where SQLite stores it:
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<db> .venv/bin/python -m pytest tests/app/test_input.py
"""
from __future__ import annotations

import email
import email.policy
import importlib
import inspect
import io
import pkgutil
import re
import sys
from datetime import datetime

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter
from wtforms import DateTimeField, DecimalField, FloatField, IntegerField, StringField, TextAreaField
from wtforms.fields.core import UnboundField

from app.auth.models import Role
from app.config import ROOT
from app.extensions import db
from app.forms import CONTROL_MESSAGE, EARLIEST, LATEST, NUMBER_MESSAGE, BaseForm, date_range_message, parse_day
from app.text import clean_file_name, clean_line, has_line_controls, has_multiline_controls, header_value
from tests.app.test_access import DUMMY_ID, allowed_role
from tests.factories import PASSWORD, create_staff, create_vendor_user

AREAS = ("app", "eoi", "scoring", "contracts")
JUNK = "A\x00B\x01C\x1bD\u202eE\u2066F\r\nG\tH\x7fI\x85J"
BIDI_FILE_NAME = "proposal\u202efdp.exe\u200f\x01.pdf"
FAR = {"max": datetime(9999, 12, 31, 23, 59), "min": datetime(1, 1, 1, 0, 0)}
PDF = b"%PDF-1.4\n% test\n%%EOF\n"
HUGE = "99999999999999999999"  # beyond PostgreSQL's integer and bigint, and SQLite's 64 bits
#: which -> (a decimal, an integer) that no column can hold
FAR_NUMBERS = {"max": ("Infinity", HUGE), "min": ("NaN", "-" + HUGE)}


# --------------------------------------------------------------------------------------------------------------------
# The character rules themselves (app/text.py)

def test_the_text_rules():
    assert has_line_controls("Acme\rLtd") and has_line_controls("a\u202eb") and has_line_controls("a\x00")
    assert not has_line_controls("Harbour Operations 海港營運有限公司 (HK) Ltd.")
    assert has_multiline_controls("a\x00b") and not has_multiline_controls("line one\r\nline two\tend \u202e")
    assert clean_line("Acme\r\nLtd\x00\u202e") == "Acme Ltd"
    assert clean_file_name("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert header_value("Invitation to join Acme\r\nBcc: someone@example.com") == \
        "Invitation to join Acme Bcc: someone@example.com"
    assert parse_day("2026-03-01").isoformat() == "2026-03-01"
    assert parse_day("9999-12-31") is None and parse_day("0001-01-01") is None and parse_day("2026-02-30") is None
    assert parse_day(EARLIEST.isoformat()) == EARLIEST and parse_day(LATEST.isoformat()) == LATEST


# --------------------------------------------------------------------------------------------------------------------
# Every form class

def _import_areas() -> None:
    for area in AREAS:
        package = importlib.import_module(area)
        for module in pkgutil.walk_packages(package.__path__, f"{area}."):
            importlib.import_module(module.name)


def _subclasses(cls) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def form_classes() -> list[type]:
    """Every form class an area defines at module level (classes made per request, e.g. per section, excluded)."""
    _import_areas()
    return sorted((c for c in _subclasses(FlaskForm) if c.__module__.split(".")[0] in AREAS
                   and getattr(sys.modules[c.__module__], c.__name__, None) is c),
                  key=lambda c: (c.__module__, c.__name__))


def forms_not_on_the_base(classes) -> list[str]:
    return [f"{c.__module__}.{c.__name__}" for c in classes if not issubclass(c, BaseForm)]


def test_every_form_derives_from_the_base_form(app):
    classes = form_classes()
    assert len(classes) >= 25, [c.__name__ for c in classes]
    assert not forms_not_on_the_base(classes), (
        "forms that bypass the input rules; derive them from app.forms.BaseForm: " + ", ".join(forms_not_on_the_base(classes)))


def test_a_form_off_the_base_would_be_reported(app):
    class Rogue(FlaskForm):
        name = StringField()
    assert forms_not_on_the_base([Rogue, BaseForm]) == [f"{__name__}.Rogue"]


def _unbound_fields(cls) -> dict[str, UnboundField]:
    return {name: value for name, value in inspect.getmembers(cls) if isinstance(value, UnboundField)}


def _far(fmt: str | list, which: str) -> str:
    fmt = fmt[0] if isinstance(fmt, (list, tuple)) else fmt
    return FAR[which].strftime(fmt.replace("%Y", f"{FAR[which].year:04d}"))


def _value_for(unbound: UnboundField, which: str) -> str:
    if issubclass(unbound.field_class, DateTimeField):
        fmt = unbound.kwargs.get("format") or inspect.signature(unbound.field_class.__init__).parameters["format"].default
        return _far(fmt, which)
    if issubclass(unbound.field_class, (IntegerField, DecimalField, FloatField)):
        return FAR_NUMBERS[which][issubclass(unbound.field_class, IntegerField)]
    return JUNK


def _world_forms(world):
    """Forms whose constructor needs context: how to build each (the others are built with formdata alone)."""
    from eoi.forms.officer import InvitationForm
    from eoi.forms.vendor import DraftForm, PriceForm
    return {
        InvitationForm: lambda formdata: InvitationForm(formdata, exercise=world["draft"]),
        DraftForm: lambda formdata: DraftForm.for_sections(world["published"].sections, "en", formdata=formdata),
        PriceForm: lambda formdata: PriceForm.for_items(world["draft"].price_items, formdata=formdata),
    }


def _build(cls, world, formdata):
    builder = _world_forms(world).get(cls)
    if builder:
        return builder(formdata)
    try:
        return cls(formdata)
    except TypeError as exc:
        pytest.fail(f"{cls.__name__} needs constructor arguments: add a builder to _world_forms ({exc})")


def _all_fields(form):
    return [(name, field) for name, field in form._fields.items() if name != "csrf_token"]


@pytest.fixture
def world(app):
    """A draft (with a section and a price line), a published exercise with a vendor's draft proposal, a question."""
    from eoi import operations as ops
    from eoi.operations import setup
    from tests.factories import create_draft, create_published
    officer = create_staff(Role.officer)
    vendor_user = create_vendor_user()
    draft = create_draft(officer, has_price_envelope=True)
    setup.add_price_item(draft, actor=officer, description_en="Fee", description_zh="費用", unit="year", quantity=1)
    published = create_published(officer)
    submission = ops.get_or_create_submission(published, actor=vendor_user)
    ops.save_draft(submission, actor=vendor_user, answers={s.id: "Our approach." for s in published.sections})
    clarification = ops.ask_clarification(published, actor=vendor_user, question="Is the date fixed?")
    db.session.commit()
    return {"officer": officer, "vendor_user": vendor_user, "draft": draft, "published": published,
            "submission": submission, "clarification": clarification}


@pytest.mark.parametrize("which", sorted(FAR))
def test_every_form_refuses_or_cleans_control_characters_and_far_dates(app, world, which):
    checked, problems = 0, []
    for cls in form_classes():
        with app.test_request_context(method="POST"):
            probe = _build(cls, world, MultiDict())
            formdata = MultiDict()
            for name, field in _all_fields(probe):
                key = field.name  # the name the browser sends (a field may be named apart from its attribute)
                if isinstance(field, DateTimeField):
                    formdata[key] = _far(field.strptime_format, which)
                elif isinstance(field, (IntegerField, DecimalField, FloatField)):
                    formdata[key] = FAR_NUMBERS[which][isinstance(field, IntegerField)]
                elif isinstance(field, StringField):
                    formdata[key] = JUNK
            form = _build(cls, world, formdata)
            form.validate()  # must not raise (on PostgreSQL, a NUL reaching a query would)
            for name, field in _all_fields(form):
                checked += 1
                where = f"{cls.__name__}.{name} ({type(field).__name__})"
                if isinstance(field, TextAreaField):
                    if has_multiline_controls(field.data):
                        problems.append(f"{where}: control characters kept: {field.data!r}")
                elif isinstance(field, StringField):
                    if str(CONTROL_MESSAGE) not in map(str, field.errors):
                        problems.append(f"{where}: not refused (errors: {field.errors})")
                elif isinstance(field, DateTimeField) and field.data is not None:
                    if str(date_range_message()) not in map(str, field.errors):
                        problems.append(f"{where}: {field.data} accepted")
                elif isinstance(field, (IntegerField, DecimalField, FloatField)) and field.data is not None:
                    if str(NUMBER_MESSAGE) not in map(str, field.errors):
                        problems.append(f"{where}: {field.data} accepted")
            db.session.rollback()
    assert checked > 60
    assert not problems, "\n".join(problems)


def test_clean_values_pass_the_input_rules(app, world):
    """Positive control: ordinary text (with line breaks where allowed) and near dates are not refused."""
    from eoi.forms.officer import IncidentForm
    from eoi.forms.vendor import ClarificationForm
    with app.test_request_context(method="POST"):
        form = IncidentForm(MultiDict({"reason_en": "Outage\r\nof the network", "reason_zh": "網絡故障",
                                       "evidence": "Log\tlines", "new_closes_at": "2030-01-31T12:00"}))
        assert form.validate(), form.errors
        assert form.reason_en.data == "Outage\r\nof the network"
        form = ClarificationForm(MultiDict({"question": "Is the date\x00 fixed?\r\nThanks"}))
        assert form.validate() and form.question.data == "Is the date fixed?\r\nThanks"


# --------------------------------------------------------------------------------------------------------------------
# Every route, with every form field and GET parameter

def _form_field_values(which: str) -> dict[str, str]:
    """Every form field (a far date for date fields) and every field a view reads from request.form by hand."""
    values = {name: JUNK for name in _names_read_by_hand(r"form")}
    for cls in form_classes():
        for name, unbound in _unbound_fields(cls).items():
            values.setdefault(name, _value_for(unbound, which))
    return values


def _names_read_by_hand(source: str) -> set[str]:
    """Names the code reads as request.<source>.get("x") (or args.get("x") on a passed-in MultiDict)."""
    names = set()
    for area in AREAS:
        for path in (ROOT / area).rglob("*.py"):
            names |= set(re.findall(rf"""\b{source}\.get\(\s*["']([^"']+)["']""", path.read_text(encoding="utf-8")))
    return names


def query_parameter_names() -> set[str]:
    """Every GET parameter the code reads (request.args.get("x") / args.get("x")) and every filter form field."""
    from app.forms import FilterForm
    names = _names_read_by_hand(r"args")
    for cls in form_classes():
        if issubclass(cls, FilterForm):
            names |= set(_unbound_fields(cls))
    return names


def _url_values(rule, world, extra) -> list[dict]:
    """URL values naming real objects (every candidate exercise), junk for strings, a dummy id otherwise."""
    candidates = {"exercise_id": [world["draft"].id, world["published"].id], **extra}
    choices = [{}]
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if kind == "AnyConverter":
            options = sorted(converter.items)[:1]
        elif isinstance(converter, IntegerConverter):
            options = candidates.get(name, [DUMMY_ID])
        else:
            options = [JUNK]
        choices = [{**c, name: o} for c in choices for o in options]
    ids = [name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)]
    return choices + ([{**choices[0], **{name: int(HUGE) for name in ids}}] if ids else [])


def _objects(world) -> dict[str, list[int]]:
    from eoi.models import Addendum, ExerciseDocument
    from eoi.operations import issue_addendum
    issue_addendum(world["published"], actor=world["officer"], text_en="Note", text_zh="注意", changes_requirements=False)
    spare = create_staff(Role.panel)
    db.session.commit()
    first = lambda model, **where: [db.session.scalar(sa.select(model.id).filter_by(**where).limit(1)) or DUMMY_ID]
    return {
        "addendum_id": first(Addendum, exercise_id=world["published"].id),
        "document_id": first(ExerciseDocument, exercise_id=world["published"].id),
        "clarification_id": [world["clarification"].id],
        "section_id": [world["draft"].sections[0].id],
        "item_id": [world["draft"].price_items[0].id],
        "submission_id": [world["submission"].id],
        "user_id": [spare.id],
    }


def _files() -> dict:
    return {"file": (io.BytesIO(PDF), BIDI_FILE_NAME), "documents": (io.BytesIO(PDF), BIDI_FILE_NAME)}


#: routes that change what later routes see (sign out, publish, cancel...): swept last
LAST = re.compile(r"logout|publish|cancel|withdraw|submit|opening|delete|toggle|remove")


def _role_for(endpoint: str, method: str):
    try:
        return allowed_role(endpoint, method)
    except KeyError:  # a route with no access decision yet (tests/app/test_access.py names it): try it as a vendor
        return Role.vendor


class Sweep:
    """One signed-in client per role, signed in again if a request signed it out."""

    def __init__(self, app, login, users):
        self.app, self.login, self.users, self.clients = app, login, users, {}

    def client(self, role):
        if role not in self.clients:
            self.clients[role] = self.app.test_client() if role is None else self.login(self.users[role])
        return self.clients[role]

    def send(self, role, url, method, **kwargs):
        client = self.client(role)
        response = client.open(url, method=method, **kwargs)
        if role is not None:
            with client.session_transaction() as session:
                if "_user_id" not in session:
                    self.clients.pop(role)  # signed out (e.g. by /logout): a fresh session for the next request
        return response


def _sweep(app, sweep, world, *, only=None) -> tuple[int, list[str]]:
    extra = _objects(world)
    params = sorted(query_parameter_names())
    sent, failures = 0, []
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"),
                   key=lambda r: (bool(LAST.search(r.endpoint)), r.endpoint, r.rule))
    for rule in rules:
        if only and rule.endpoint not in only:
            continue
        for method in sorted(m for m in rule.methods if m in ("GET", "POST")):
            role = _role_for(rule.endpoint, method)
            for values in _url_values(rule, world, extra):
                url = app.url_map.bind("localhost").build(rule.endpoint, values, method=method)
                if method == "GET":
                    payloads = [{"query_string": {p: value for p in params}}
                                for value in (JUNK, HUGE, *(_far("%Y-%m-%d", w) for w in FAR))]
                else:
                    payloads = [{"data": {**_form_field_values(w), **_files()}, "content_type": "multipart/form-data",
                                 "query_string": {p: JUNK for p in params}} for w in FAR]
                for payload in payloads:
                    response = sweep.send(role, url, method, **payload)
                    sent += 1
                    if response.status_code >= 500:
                        failures.append(f"{method} {url} ({rule.endpoint}) as {role.value if role else 'anonymous'}: "
                                        f"{response.status_code}")
                    db.session.rollback()
    return sent, failures


def _users(world):
    users = {Role.officer: world["officer"], Role.vendor: world["vendor_user"]}
    for role in (Role.admin, Role.approver, Role.panel):
        users[role] = create_staff(role)
    return users


def test_no_route_answers_bad_input_with_a_server_error(app, login, world):
    sweep = Sweep(app, login, _users(world))
    sent, failures = _sweep(app, sweep, world)
    assert sent > 150, sent
    assert not failures, f"{len(failures)} server error(s) on bad input:\n" + "\n".join(failures)
    from app.storage import StoredFile
    names = db.session.scalars(sa.select(StoredFile.original_name)).all()
    assert len(names) > 1  # uploads with bidi controls in their names were accepted, under a clean name
    assert not [n for n in names if has_line_controls(n) or clean_file_name(n) != n], names


def test_the_sweep_would_catch_a_server_error(app, login, world, monkeypatch):
    def broken():
        raise RuntimeError("boom")
    monkeypatch.setitem(app.view_functions, "main.healthz", broken)
    _sent, failures = _sweep(app, Sweep(app, login, _users(world)), world, only={"main.healthz"})
    assert failures and "main.healthz" in failures[0]


# --------------------------------------------------------------------------------------------------------------------
# The cases the scanners found, by hand

def test_nul_in_the_public_search_is_cleaned(app, world):
    client = app.test_client()
    response = client.get("/exercises", query_string={"q": "Exer\x00cise", "state": "open\x00", "sort": "closing"})
    assert response.status_code == 200
    assert world["published"].reference in response.get_data(as_text=True)  # the search ran, on "Exercise"


def test_numbers_no_column_holds_are_not_found_or_ignored(app, world):
    client = app.test_client()
    assert client.get(f"/exercises/{HUGE}").status_code == 404
    assert client.get(f"/exercises/{2**31}").status_code == 404
    assert client.get(f"/exercises/{world['published'].id}").status_code == 200  # positive control
    assert client.get("/exercises", query_string={"page": HUGE}).status_code == 200  # page 1


def test_registration_refuses_control_characters_next_to_the_field(client):
    from app.auth.models import Vendor
    from tests.app.test_auth import REGISTRATION
    for bad in ("Acme\r\nLimited", "Acme\x00Limited", "Acme \u202eLimited"):
        response = client.post("/register", data={**REGISTRATION, "name_en": bad, "name": "Chan\x00"})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert page.count("Remove the control characters") >= 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vendor)) == 0
    assert client.post("/register", data=REGISTRATION).status_code == 200  # positive control: registered
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vendor)) == 1


def test_nul_in_a_clarification_question_is_cleaned(app, login, world):
    from eoi.models import Clarification
    client = login(world["vendor_user"])
    response = client.post(f"/exercises/{world['published'].id}/clarifications",
                           data={"question": "When\x00 is the site\x01 visit?"})
    assert response.status_code == 302
    questions = db.session.scalars(sa.select(Clarification.question)).all()
    assert "When is the site visit?" in questions


def test_far_dates_are_refused_with_a_message(app, login, world):
    client = login(world["officer"])
    exercise = world["draft"]
    for far in ("9999-12-31T23:59", "0001-01-01T00:00"):
        response = client.post(f"/manage/exercises/{exercise.id}/edit", data={
            "kind": "eoi", "reference": exercise.reference, "title_en": "T", "title_zh": "T", "closes_at": far,
            "late_addendum_hours": "72", "min_extension_hours": "72", "parent_id": "0"})
        assert response.status_code == 200
        assert "Enter a date between 2000-01-01 and 2099-12-31." in response.get_data(as_text=True)
    db.session.expire_all()
    assert exercise.closes_at.year < 9999


def test_uploaded_file_names_lose_bidi_controls(app, login, world):
    from eoi import queries, sealed
    client = login(world["vendor_user"])
    response = client.post(f"/exercises/{world['published'].id}/submission/files",
                           data={"file": (io.BytesIO(PDF), "report\u202efdp.exe\u2066.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code in (200, 302)
    submission = queries.submission_of(world["published"], world["vendor_user"].vendor_id)
    # the name is sealed (encrypted at rest, issue 9): read it back through the door
    assert [f.name for f in sealed.content_for_system(submission, purpose="test").files] == ["reportfdp.exe.pdf"]


# --------------------------------------------------------------------------------------------------------------------
# Mail: a header can neither fail nor be injected; a failure to send is logged, recorded and shown

def _unsent(user=None, *, subject="Invitation", to_email="someone@vendor.example"):
    """A notification row added directly (no task queued), for send_notification to be run here, not by a worker."""
    from app.notifications import Notification
    note = Notification(user_id=getattr(user, "id", None), to_email=to_email, subject=subject, body="Dear Chan,")
    db.session.add(note)
    db.session.commit()
    return note.id


def test_a_carriage_return_in_a_company_name_does_not_stop_its_email(app):
    from app.notifications import Notification, compose_message, notify, outbox_path, send_notification
    note = notify(to_email="someone@vendor.example", template="invitation", company="Acme\r\nBcc: x@evil.example",
                  name="Chan", inviter="Wong", link="http://localhost/invite/t")
    db.session.flush()
    assert note.subject == "You are invited to join Acme Bcc: x@evil.example on Tenderbox"
    db.session.rollback()
    # a row stored before names were checked: composing folds the header instead of failing
    note_id = _unsent(subject="You are invited to join Acme\r\nBcc: x@evil.example on Tenderbox")
    message = email.message_from_bytes(bytes(compose_message(db.session.get(Notification, note_id))),
                                       policy=email.policy.default)
    assert message["Subject"] == "You are invited to join Acme Bcc: x@evil.example on Tenderbox"
    assert "Bcc" not in message
    send_notification.run(note_id)
    assert db.session.get(Notification, note_id).sent_at is not None and outbox_path(note_id).exists()


def test_a_failure_to_send_is_logged_recorded_and_shown(app, login, monkeypatch, caplog, tmp_path):
    from app.audit import AuditEvent
    from app.notifications import Notification, send_notification
    user = create_vendor_user()
    note_id = _unsent(user)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the outbox should be")
    monkeypatch.setitem(app.config, "OUTBOX_DIR", blocked / "outbox")
    with pytest.raises(OSError):
        send_notification.run(note_id)  # raised: a real worker marks the task failed too
    db.session.expire_all()
    note = db.session.get(Notification, note_id)
    assert note.sent_at is None and note.failed_at is not None and "Error" in note.failure
    assert any("could not be sent" in r.getMessage() for r in caplog.records)
    assert db.session.scalar(sa.select(AuditEvent.action).where(
        AuditEvent.object_type == "Notification", AuditEvent.object_id == str(note_id))) == "notification.failed"
    page = login(user).get("/notifications").get_data(as_text=True)
    assert "could not be sent by email" in page
    monkeypatch.setitem(app.config, "OUTBOX_DIR", tmp_path / "outbox")
    send_notification.run(note_id)  # sent later: the failure is cleared
    db.session.expire_all()
    assert db.session.get(Notification, note_id).failed_at is None
    assert "could not be sent by email" not in login(user).get("/notifications").get_data(as_text=True)


def test_password_fields_refuse_control_characters_too(app, world):
    from app.auth.forms import LoginForm
    with app.test_request_context(method="POST"):
        form = LoginForm(MultiDict({"email": world["vendor_user"].email, "password": PASSWORD + "\x00"}))
        assert not form.validate() and str(CONTROL_MESSAGE) in map(str, form.password.errors)
        form = LoginForm(MultiDict({"email": world["vendor_user"].email, "password": PASSWORD}))
        assert form.validate(), form.errors
