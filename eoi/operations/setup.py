"""Officer set-up of a draft exercise's questionnaire sections and price schedule lines."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import User
from app.extensions import db
from eoi.models import Exercise, PriceItem, Section
from eoi.models.exercise import KPI_DIRECTION_TITLES, SECTION_SERVICE_LEVEL, SECTION_TEXT
from eoi.operations.common import ExerciseError, require_officer, require_state, require_setup_open
from eoi.states import ExerciseState

SECTION_FIELDS = ("title_en", "title_zh", "guidance_en", "guidance_zh", "word_limit", "answer_required",
                  "attachment_required", "kind", "kpi_unit", "kpi_direction")


def _require_draft(exercise: Exercise, actor: User) -> None:
    """The questionnaire and price schedule change only in draft; after publication, through addenda."""
    require_officer(actor)
    require_setup_open(exercise)


def _clean_section_fields(fields: dict) -> dict:
    unknown = set(fields) - set(SECTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown section fields: {sorted(unknown)}")
    if "title_en" in fields and not (fields["title_en"] or "").strip() or \
            "title_zh" in fields and not (fields["title_zh"] or "").strip():
        raise ExerciseError(_l("Give the section title in both languages."))
    if fields.get("word_limit") is not None and fields["word_limit"] < 1:
        raise ExerciseError(_l("The word limit must be a positive number, or empty for no limit."))
    fields = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
    return _clean_service_level(fields) if "kind" in fields else fields


def _clean_service_level(fields: dict) -> dict:
    """A service-level question names its unit and whether the level is a floor or a ceiling; its answer is one
    number (the vendor's committed level), so it has no word limit. A text question keeps neither."""
    if fields["kind"] not in (SECTION_TEXT, SECTION_SERVICE_LEVEL):
        raise ExerciseError(_l("Choose the kind of question."))
    if fields["kind"] == SECTION_TEXT:
        return fields | {"kpi_unit": None, "kpi_direction": None}
    if not fields.get("kpi_unit"):
        raise ExerciseError(_l("Give the unit of the service level (e.g. %, s, per cent of cases)."))
    if fields.get("kpi_direction") not in KPI_DIRECTION_TITLES:
        raise ExerciseError(_l("Say whether the level is a minimum or a maximum."))
    return fields | {"word_limit": None}


def add_section(exercise: Exercise, *, actor: User, **fields) -> Section:
    """Append a questionnaire section at the end; only in draft. Raises ExerciseError."""
    _require_draft(exercise, actor)
    fields = _clean_section_fields(fields)
    position = max((s.position for s in exercise.sections), default=0) + 1
    section = Section(position=position, **fields)
    exercise.sections.append(section)
    db.session.flush()
    record(actor, "exercise.section_added", exercise, section_id=section.id, position=position)
    return section


def update_section(section: Section, *, actor: User, **fields) -> Section:
    """Edit a section's texts, limit and requirements; only in draft. Raises ExerciseError."""
    _require_draft(section.exercise, actor)
    for name, value in _clean_section_fields(fields).items():
        setattr(section, name, value)
    db.session.flush()
    record(actor, "exercise.section_updated", section.exercise, section_id=section.id, fields=sorted(fields))
    return section


def _renumber(exercise: Exercise, ordered: list[Section]) -> None:
    # (exercise_id, position) is unique: park every row on a negative position first, then number 1..n.
    for i, section in enumerate(ordered, start=1):
        section.position = -i
    db.session.flush()
    for i, section in enumerate(ordered, start=1):
        section.position = i
    db.session.flush()
    exercise.sections.sort(key=lambda s: s.position)


def delete_section(section: Section, *, actor: User) -> None:
    """Remove a section and close the gap in the numbering; only in draft. Raises ExerciseError."""
    exercise = section.exercise
    _require_draft(exercise, actor)
    remaining = [s for s in exercise.sections if s.id != section.id]
    exercise.sections.remove(section)
    db.session.flush()
    _renumber(exercise, remaining)
    record(actor, "exercise.section_deleted", exercise, section_id=section.id, title=section.title_en)


def move_section(section: Section, *, actor: User, offset: int) -> bool:
    """Move a section up (-1) or down (+1) in the questionnaire; only in draft. False at either end."""
    exercise = section.exercise
    _require_draft(exercise, actor)
    ordered = sorted(exercise.sections, key=lambda s: s.position)
    index = ordered.index(section)
    target = index + offset
    if offset not in (-1, 1) or not 0 <= target < len(ordered):
        return False
    ordered[index], ordered[target] = ordered[target], ordered[index]
    _renumber(exercise, ordered)
    record(actor, "exercise.section_moved", exercise, section_id=section.id, position=section.position)
    return True


def add_price_item(exercise: Exercise, *, actor: User, description_en: str, description_zh: str, unit: str,
                   quantity: int, unit_zh: str | None = None) -> PriceItem:
    """A line of the price schedule of a tender with a price envelope; only in draft. Raises ExerciseError."""
    _require_draft(exercise, actor)
    if not exercise.has_price_envelope:
        raise ExerciseError(_l("This exercise has no price envelope."))
    if not description_en.strip() or not description_zh.strip() or not unit.strip():
        raise ExerciseError(_l("Give the description in both languages and the unit."))
    if quantity < 1:
        raise ExerciseError(_l("The quantity must be at least 1."))
    position = max((i.position for i in exercise.price_items), default=0) + 1
    item = PriceItem(position=position, description_en=description_en.strip(), description_zh=description_zh.strip(),
                     unit=unit.strip(), unit_zh=(unit_zh or "").strip() or None, quantity=quantity)
    exercise.price_items.append(item)
    db.session.flush()
    record(actor, "exercise.price_item_added", exercise, price_item_id=item.id, position=position)
    return item


def delete_price_item(item: PriceItem, *, actor: User) -> None:
    """Remove a price schedule line; only in draft. Raises ExerciseError."""
    exercise = item.exercise
    _require_draft(exercise, actor)
    exercise.price_items.remove(item)
    db.session.flush()
    record(actor, "exercise.price_item_deleted", exercise, price_item_id=item.id, description=item.description_en)
