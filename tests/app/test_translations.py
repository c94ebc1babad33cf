"""Every translatable string in the code and templates has a Traditional Chinese translation."""
from __future__ import annotations

from pathlib import Path

from babel.messages.frontend import extract_messages  # noqa: F401  (ensures babel's extractors are installed)
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "app" / "translations" / "zh_Hant" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _source_messages() -> set[str]:
    method_map = []
    options_map = {}
    for line in (ROOT / "babel.cfg").read_text().splitlines():
        if line.startswith("["):
            method, _, pattern = line.strip("[]").partition(": ")
            method_map.append((pattern, method))
    found = set()
    # Only hidden folders are skipped: Babel's default also skips "_" folders, and templates/_macros was never read.
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS,
            directory_filter=lambda path: not Path(path).name.startswith(".")):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_chinese_translation():
    with PO.open("rb") as f:
        catalog = read_po(f)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog
                  if m.id and m.string and (m.string if isinstance(m.string, str) else all(m.string)) and not m.fuzzy}
    found = _source_messages()
    assert "Please correct the following" in found  # templates/_macros is read too
    missing = sorted(found - translated)
    assert not missing, f"{len(missing)} strings lack a zh_Hant translation (run scripts/i18n.sh), e.g. {missing[:10]}"


def test_translations_keep_their_placeholders():
    import re
    with PO.open("rb") as f:
        catalog = read_po(f)
    bad = []
    for m in catalog:
        if m.id and isinstance(m.id, str) and m.string:
            if sorted(re.findall(r"%\(\w+\)s", m.id)) != sorted(re.findall(r"%\(\w+\)s", m.string)):
                bad.append(m.id)
    assert not bad, bad[:10]


# --- strings that come from code and data (issue 8 item 12) -------------------------------------------------------
# Enum values, audit action codes and object types, document titles and late-action names are shown in tables and
# on the audit page. Each must have a label, and each label must read in Chinese under zh_Hant.

import ast  # noqa: E402
import re  # noqa: E402
import enum  # noqa: E402
import importlib  # noqa: E402

from flask_babel import force_locale  # noqa: E402

AREAS = ("app", "eoi", "scoring", "contracts")


def _is_chinese(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in str(text))


def _python_files():
    for area in AREAS:
        if (ROOT / area).is_dir():
            yield from (ROOT / area).rglob("*.py")


def _string_constants(node) -> list[str]:
    """The string(s) an argument can be: a constant, or either branch of `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _string_constants(node.body) + _string_constants(node.orelse)
    return []


def _recorded_action_codes() -> set[str]:
    """Every audit action code the code records: record(actor, "x.y", ...) and transition(..., action="x.y")."""
    codes = set()
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            args = [node.args[1]] if name == "record" and len(node.args) >= 2 else []
            args += [kw.value for kw in node.keywords if kw.arg == "action"]
            codes |= {c for a in args for c in _string_constants(a) if re.fullmatch(r"[a-z_]+\.[a-z_]+", c)}
    return codes


def _late_action_names() -> set[str]:
    """The actions a late attempt can record: require_open(..., action="submit") and _require_editable(s, a, "save")."""
    names = set()
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name == "require_open":
                    names |= {c for kw in node.keywords if kw.arg == "action" for c in _string_constants(kw.value)}
                elif name == "_require_editable" and len(node.args) >= 3:
                    names |= set(_string_constants(node.args[2]))
    return names


def _enums_with_values_shown():
    """Every enum of the areas' models and states modules (their values appear in tables and filters)."""
    found = {}
    for area in AREAS:
        for module in ("models", "states", "auth.models", "auth.states", "documents.models"):
            try:
                mod = importlib.import_module(f"{area}.{module}")
            except ModuleNotFoundError:
                continue
            for value in vars(mod).values():
                if isinstance(value, type) and issubclass(value, enum.Enum) and value.__module__.startswith(area):
                    found[f"{value.__module__}.{value.__name__}"] = value
    return found


def test_every_audit_action_code_and_object_type_has_a_chinese_label(app):
    from app.hooks import hooks
    registry = hooks(app)
    codes = _recorded_action_codes()
    assert len(codes) > 40  # the scan finds the codes (a broken scan would pass vacuously)
    unlabelled = sorted(codes - set(registry.audit_action_labels))
    assert not unlabelled, f"audit action codes without a label (app/audit/labels.py or the area's): {unlabelled}"
    from app.extensions import db
    models = {m.class_.__name__ for m in db.Model.registry.mappers}
    assert not sorted(models - set(registry.audit_object_labels)), "model classes without an audit object label"
    with app.test_request_context(), force_locale("zh_Hant"):
        english = [c for c in codes if not _is_chinese(registry.audit_action_label(c))]
        english += [m for m in models if not _is_chinese(registry.audit_object_label(m))]
    assert not english, f"labels not translated: {sorted(english)[:10]}"


def test_every_enum_value_and_document_title_reads_in_chinese(app):
    from app.hooks import hooks
    enums = _enums_with_values_shown()
    assert {"ExerciseState", "SubmissionState", "Role", "DocumentStatus", "Envelope"} <= {k.rsplit(".", 1)[1] for k in enums}
    missing, english = [], []
    with app.test_request_context(), force_locale("zh_Hant"):
        for name, cls in enums.items():
            for member in cls:
                title = getattr(member, "title", None)
                if not isinstance(title, str):
                    missing.append(f"{name}.{member.name}")
                elif not _is_chinese(title):
                    english.append(f"{name}.{member.name}: {title}")
        english += [f"document {kind}: {t}" for kind, t in hooks(app).document_titles.items() if not _is_chinese(str(t))]
    assert not missing, f"enum members without a title (shown raw in tables): {missing}"
    assert not english, f"shown in English on a Chinese page: {english}"


def test_every_late_action_has_a_chinese_label(app):
    from eoi.models.exercise import LATE_ACTION_LABELS
    names = _late_action_names()
    assert {"submit", "withdraw"} <= names
    assert not sorted(names - set(LATE_ACTION_LABELS)), "late actions without a label"
    with app.test_request_context(), force_locale("zh_Hant"):
        assert all(_is_chinese(str(LATE_ACTION_LABELS[n])) for n in names)


def test_the_error_summary_heading_and_pdf_footer_read_in_chinese(app):
    from app.i18n import pdf_page_footer
    with app.test_request_context(), force_locale("zh_Hant"):
        from flask import render_template_string
        from app.forms import BaseForm
        from wtforms import StringField
        from wtforms.validators import DataRequired

        class One(BaseForm):
            name = StringField("Name", validators=[DataRequired()])
        form = One(formdata=None, meta={"csrf": False})
        form.validate()
        html = render_template_string('{% from "_macros/forms.html" import error_summary %}{{ error_summary(form) }}',
                                      form=form)
        assert "Please correct" not in html and "請更正以下各項" in html
        assert "此欄位是必需的" in html and "该" not in html  # WTForms' own message in Traditional, not Simplified
        assert "Page" not in pdf_page_footer() and "counter(pages)" in pdf_page_footer()
