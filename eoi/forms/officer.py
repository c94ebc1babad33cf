"""Officer forms: exercise set-up, sections, price lines, documents, invitations, clarifications, addenda,
deadline incidents and the two-officer opening. Dates are typed in Hong Kong time and stored in UTC."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.models import Role, User, Vendor
from app.extensions import db
from app.forms import BaseForm
from app.i18n import HK
from app.storage import safe_display_name
from eoi.models import Exercise, ServiceCluster
from eoi.states import ExerciseKind

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
DATE_FIELDS = ("publication_at", "clarification_deadline", "closes_at", "validity_until")
EXERCISE_FIELDS = ("kind", "reference", "title_en", "title_zh", "description_en", "description_zh", "clusters",
                   "parent_id", *DATE_FIELDS, "late_addendum_hours", "min_extension_hours", "has_price_envelope")


def hk_to_utc(value: datetime | None) -> datetime | None:
    """A naive Hong Kong local time from a datetime-local input, as an aware UTC datetime."""
    return value.replace(tzinfo=HK).astimezone(UTC) if value else None


def utc_to_hk(value: datetime | None) -> datetime | None:
    """An aware datetime as the naive Hong Kong local time a datetime-local input shows."""
    return value.astimezone(HK).replace(tzinfo=None) if value else None


def _required():
    return DataRequired(message=_l("This field is required."))


def _when(label, *, required=False, description=None):
    validators = [_required()] if required else [Optional()]
    return DateTimeLocalField(label, format=DATETIME_FORMAT, validators=validators,
                              description=description or _l("Hong Kong time."))


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multiple choice; the template wraps them in a fieldset with a legend."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ExerciseForm(BaseForm):
    kind = RadioField(_l("Kind of exercise"), choices=[], validators=[_required()])
    reference = StringField(_l("Reference"), validators=[_required(), Length(max=40)],
                            description=_l("Unique, e.g. OSP/EOI/2006/01."))
    title_en = StringField(_l("Title (English)"), validators=[_required(), Length(max=300)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[Length(max=300)])
    description_en = TextAreaField(_l("Description (English)"))
    description_zh = TextAreaField(_l("Description (Chinese)"))
    clusters = MultiCheckboxField(_l("Service clusters"), coerce=int, choices=[])
    parent_id = SelectField(_l("Parent EOI exercise"), coerce=int, choices=[],
                            description=_l("For a restricted tender: the EOI whose respondents may be invited."))
    publication_at = _when(_l("Publication date"))
    clarification_deadline = _when(_l("Clarification deadline"))
    closes_at = _when(_l("Closing time"))
    validity_until = _when(_l("Offers valid until"))
    late_addendum_hours = IntegerField(_l("Late addendum window (hours)"), default=72,
                                       validators=[InputRequired(message=_l("This field is required.")), NumberRange(max=24 * 60)])
    min_extension_hours = IntegerField(_l("Minimum extension after a late addendum (hours)"), default=72,
                                       validators=[InputRequired(message=_l("This field is required.")), NumberRange(max=24 * 60)])
    has_price_envelope = BooleanField(_l("Separate sealed price envelope"))

    def __init__(self, *args, exercise: Exercise | None = None, **kwargs):
        if exercise is not None and "obj" not in kwargs and "formdata" not in kwargs:
            kwargs["data"] = exercise_form_data(exercise)
        super().__init__(*args, **kwargs)
        self.exercise = exercise
        self.late_addendum_hours.description = _l(
            "An addendum issued this close to closing forces an extension. At least %(n)s hours.",
            n=current_app.config["ADDENDUM_LATE_WINDOW_MIN_HOURS"])
        self.min_extension_hours.description = _l(
            "At least %(n)s hours.", n=current_app.config["ADDENDUM_MIN_EXTENSION_MIN_HOURS"])
        self.kind.choices = [(k.value, k.title) for k in ExerciseKind]
        self.clusters.choices = [(c.id, f"{c.code} — {c.name_en} / {c.name_zh}") for c in
                                 db.session.scalars(sa.select(ServiceCluster).order_by(ServiceCluster.code))]
        query = sa.select(Exercise).where(Exercise.kind == ExerciseKind.eoi).order_by(Exercise.reference)
        self.parent_id.choices = [(0, _l("None"))] + [
            (e.id, f"{e.reference} — {e.title_en}") for e in db.session.scalars(query) if e is not exercise]

    def validate_reference(self, field):
        query = sa.select(Exercise.id).where(Exercise.reference == field.data.strip())
        if self.exercise is not None:
            query = query.where(Exercise.id != self.exercise.id)
        if db.session.scalar(query):
            raise ValidationError(_l("Another exercise already uses this reference."))

    def validate_late_addendum_hours(self, field):
        floor = current_app.config["ADDENDUM_LATE_WINDOW_MIN_HOURS"]
        if field.data is not None and field.data < floor:
            raise ValidationError(_l("At least %(n)s hours: a shorter window could leave vendors no time to "
                                     "re-confirm after a last-minute addendum.", n=floor))

    def validate_min_extension_hours(self, field):
        floor = current_app.config["ADDENDUM_MIN_EXTENSION_MIN_HOURS"]
        if field.data is not None and field.data < floor:
            raise ValidationError(_l("At least %(n)s hours, so that vendors have time to re-confirm after a "
                                     "late addendum.", n=floor))

    def validate_parent_id(self, field):
        if field.data and self.kind.data != ExerciseKind.tender.value:
            raise ValidationError(_l("Only a restricted tender has a parent EOI exercise."))

    def fields_for_operation(self) -> dict:
        """The form's values as create_exercise / update_exercise keywords (dates in UTC)."""
        values = {name: getattr(self, name).data for name in EXERCISE_FIELDS}
        values["kind"] = ExerciseKind(values["kind"])
        values["reference"] = values["reference"].strip()
        values["parent_id"] = values["parent_id"] or None
        values["clusters"] = list(db.session.scalars(sa.select(ServiceCluster).where(
            ServiceCluster.id.in_(values["clusters"] or []))))
        for name in ("title_en", "title_zh", "description_en", "description_zh"):
            values[name] = (values[name] or "").strip()
        for name in DATE_FIELDS:
            values[name] = hk_to_utc(values[name])
        return values


def exercise_form_data(exercise: Exercise) -> dict:
    data = {name: getattr(exercise, name) for name in EXERCISE_FIELDS if name not in ("kind", "clusters")}
    data.update(kind=exercise.kind.value, clusters=[c.id for c in exercise.clusters], parent_id=exercise.parent_id or 0)
    data.update({name: utc_to_hk(getattr(exercise, name)) for name in DATE_FIELDS})
    return data


class SectionForm(BaseForm):
    title_en = StringField(_l("Section title (English)"), validators=[_required(), Length(max=300)])
    title_zh = StringField(_l("Section title (Chinese)"), validators=[_required(), Length(max=300)])
    guidance_en = TextAreaField(_l("Guidance for vendors (English)"))
    guidance_zh = TextAreaField(_l("Guidance for vendors (Chinese)"))
    word_limit = IntegerField(_l("Word limit"), validators=[Optional(), NumberRange(min=1, max=100_000)],
                              description=_l("Leave empty for no limit. Each Chinese character counts as one word."))
    answer_required = BooleanField(_l("An answer is required"), default=True)
    attachment_required = BooleanField(_l("An attachment is required"))
    kind = RadioField(_l("Kind of question"), default="text", choices=[],
                      description=_l("A service level's title is the KPI's name; a contract from this tender "
                                     "pre-fills its KPIs from the awarded vendor's committed levels."))
    kpi_unit = StringField(_l("Unit of the service level"), validators=[Length(max=30)],
                           description=_l("e.g. %, s, hours."))
    kpi_direction = SelectField(_l("The committed level is"), default="at_least", choices=[])

    FIELDS = ("title_en", "title_zh", "guidance_en", "guidance_zh", "word_limit", "answer_required",
              "attachment_required", "kind", "kpi_unit", "kpi_direction")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("text", _l("A written answer")),
                             ("service_level", _l("A service level the vendor commits to (one number)"))]
        self.kpi_direction.choices = [("at_least", _l("A minimum (higher is better)")),
                                      ("at_most", _l("A maximum (lower is better)"))]
        if self.kpi_direction.data is None:
            self.kpi_direction.data = "at_least"

    def validate_kpi_unit(self, field) -> None:
        if self.kind.data == "service_level" and not (field.data or "").strip():
            raise ValidationError(_l("Give the unit of the service level (e.g. %, s, per cent of cases)."))

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in self.FIELDS}


class PriceItemForm(BaseForm):
    description_en = StringField(_l("Description (English)"), validators=[_required(), Length(max=300)])
    description_zh = StringField(_l("Description (Chinese)"), validators=[_required(), Length(max=300)])
    unit = StringField(_l("Unit (English)"), default="lump sum", validators=[_required(), Length(max=40)],
                       description=_l("e.g. lump sum, month, transaction."))
    unit_zh = StringField(_l("Unit (Chinese)"), default="整筆", validators=[_required(), Length(max=40)],
                          description=_l("e.g. 整筆, 月, 宗."))
    quantity = IntegerField(_l("Quantity"), default=1, validators=[_required(), NumberRange(min=1, max=10_000_000)])

    def values(self) -> dict:
        return {name: getattr(self, name).data
                for name in ("description_en", "description_zh", "unit", "unit_zh", "quantity")}


class DocumentForm(BaseForm):
    title = StringField(_l("Document title (English)"), validators=[_required(), Length(max=300)],
                        description=_l("Uploading again under the same title issues a new version."))
    title_zh = StringField(_l("Document title (Chinese)"), validators=[_required(), Length(max=300)])
    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file to upload."))],
                     description=_l("PDF, Word (.docx) or Excel (.xlsx), up to 50 MB."))


class InvitationForm(BaseForm):
    vendors = MultiCheckboxField(_l("Vendors to invite"), coerce=int, choices=[])

    def __init__(self, *args, exercise: Exercise, **kwargs):
        super().__init__(*args, **kwargs)
        invited = {i.vendor_id for i in exercise.invitations}
        self.vendors.choices = [(v.id, f"{v.name_en} / {v.name_zh} ({v.br_number})") for v in
                                db.session.scalars(sa.select(Vendor).where(Vendor.verified_at.is_not(None))
                                                   .order_by(Vendor.name_en)) if v.id not in invited]

    def validate_vendors(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one vendor."))

    def chosen(self) -> list[Vendor]:
        return list(db.session.scalars(sa.select(Vendor).where(Vendor.id.in_(self.vendors.data))))


class PublishForm(BaseForm):
    """Publication names the officers who alone may open the box (invariant 3), chosen from active officers."""
    opening_officers = MultiCheckboxField(_l("Officers who may open the box"), coerce=int, choices=[],
                                          description=_l("Any two of them, together, open the box after closing. "
                                                         "No one else can, including officers added later."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.opening_officers.choices = [(u.id, f"{u.name} ({u.email})") for u in active_officers()]

    def validate_opening_officers(self, field):
        minimum = current_app.config["OPENING_OFFICERS_MIN"]
        if len(set(field.data or [])) < minimum:
            raise ValidationError(_l("Choose at least %(n)s officers, so that one absence does not block the "
                                     "opening.", n=minimum))

    def chosen(self) -> list[User]:
        return list(db.session.scalars(sa.select(User).where(User.id.in_(self.opening_officers.data or []))))


def active_officers() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role == Role.officer, User.is_enabled.is_(True))
                                   .order_by(User.name, User.id)))


class CancelForm(BaseForm):
    reason = TextAreaField(_l("Reason for cancelling"), validators=[_required(), Length(max=4000)],
                           description=_l("Told to every vendor who registered interest or was invited."))


class ClarificationAnswerForm(BaseForm):
    question_en = TextAreaField(_l("Published question (English)"), validators=[_required()],
                                description=_l("Edit so that it names no vendor."))
    question_zh = TextAreaField(_l("Published question (Chinese)"), validators=[_required()])
    answer_en = TextAreaField(_l("Answer (English)"), validators=[_required()])
    answer_zh = TextAreaField(_l("Answer (Chinese)"), validators=[_required()])


class AddendumForm(BaseForm):
    text_en = TextAreaField(_l("Addendum text (English)"), validators=[_required()])
    text_zh = TextAreaField(_l("Addendum text (Chinese)"), validators=[_required()])
    changes_requirements = BooleanField(
        _l("This addendum changes the requirements"),
        description=_l("Vendors who already submitted must then re-confirm their submission."))
    new_closes_at = _when(_l("New closing time (optional)"),
                          description=_l("Hong Kong time. Leave empty to keep the closing time (unless an extension "
                                         "is forced)."))
    documents = MultipleFileField(_l("New versions of existing documents (optional)"),
                                  description=_l("PDF, Word or Excel. A file named like an existing document's title "
                                                 "becomes its new version and keeps its English and Chinese titles."))
    # New documents, each with its title in both languages (issue 8 item 12): NEW_DOCUMENT_SLOTS of them per addendum.
    new_document_1 = FileField(_l("New document 1 (optional)"), description=_l("PDF, Word (.docx) or Excel (.xlsx), up to 50 MB."))
    new_document_1_title = StringField(_l("Title of new document 1 (English)"), validators=[Length(max=300)])
    new_document_1_title_zh = StringField(_l("Title of new document 1 (Chinese)"), validators=[Length(max=300)])
    new_document_2 = FileField(_l("New document 2 (optional)"), description=_l("PDF, Word (.docx) or Excel (.xlsx), up to 50 MB."))
    new_document_2_title = StringField(_l("Title of new document 2 (English)"), validators=[Length(max=300)])
    new_document_2_title_zh = StringField(_l("Title of new document 2 (Chinese)"), validators=[Length(max=300)])

    def __init__(self, *args, existing_titles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.existing_titles = set(existing_titles)

    def new_documents(self) -> list[tuple[object, str, str]]:
        """(file, English title, Chinese title) of every filled new-document slot (after validation)."""
        return [(getattr(self, f"new_document_{n}").data, getattr(self, f"new_document_{n}_title").data.strip(),
                 getattr(self, f"new_document_{n}_title_zh").data.strip())
                for n in range(1, NEW_DOCUMENT_SLOTS + 1) if _chosen(getattr(self, f"new_document_{n}").data)]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for n in range(1, NEW_DOCUMENT_SLOTS + 1):
            file, title, title_zh = (getattr(self, f"new_document_{n}"), getattr(self, f"new_document_{n}_title"),
                                     getattr(self, f"new_document_{n}_title_zh"))
            if _chosen(file.data):
                for field in (title, title_zh):
                    if not (field.data or "").strip():
                        field.errors.append(_l("Give the new document its title in both languages."))
                        ok = False
            elif (title.data or "").strip() or (title_zh.data or "").strip():
                file.errors.append(_l("Choose the file of this new document, or clear its titles."))
                ok = False
        for item in self.documents.data or []:
            if _chosen(item) and _title_of(item.filename) not in self.existing_titles:
                self.documents.errors.append(_l(
                    "%(name)s is not a new version of a document of this exercise. Add it as a new document below, "
                    "with its English and Chinese titles.", name=item.filename))
                ok = False
        return ok


NEW_DOCUMENT_SLOTS = 2


def _chosen(file) -> bool:
    return bool(file is not None and getattr(file, "filename", None))


def _title_of(filename: str) -> str:
    """The title a file uploaded as a new version is matched by: its name without the extension."""
    name = safe_display_name(filename)
    return name.rpartition(".")[0] or name


class IncidentForm(BaseForm):
    reason_en = TextAreaField(_l("Reason (English)"), validators=[_required()],
                              description=_l("Published to vendors with the new closing time."))
    reason_zh = TextAreaField(_l("Reason (Chinese)"), validators=[_required()])
    evidence = TextAreaField(_l("Evidence"), validators=[_required()],
                             description=_l("What happened and how it was established (logs, monitoring, reports)."))
    new_closes_at = _when(_l("New closing time"), required=True)


class OpeningConfirmForm(BaseForm):
    """The first officer starts, the second confirms, each with its own opening passphrase (not its password)."""
    passphrase = PasswordField(_l("Your opening passphrase"), validators=[_required()],
                               description=_l("The opening passphrase you set on your opening key page (not your "
                                              "sign-in password). It unlocks your share of the box's key."))


class OpeningPassphraseForm(BaseForm):
    current = PasswordField(_l("Current opening passphrase"),
                            description=_l("Needed only to change a passphrase you already set."))
    passphrase = PasswordField(_l("New opening passphrase"), validators=[_required()],
                               description=_l("At least 14 characters, different from your sign-in password. It is "
                                              "never stored: if you forget it, you cannot take part in openings of "
                                              "exercises already published."))
    confirm = PasswordField(_l("Repeat the opening passphrase"), validators=[_required()])
