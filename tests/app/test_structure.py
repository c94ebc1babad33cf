"""The shape of the code, checked: one request boundary (no view catches a DomainError or commits after a
failure), every area with the same modules, and no template that compares a state or role string."""
from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from app.errors import DomainError

ROOT = Path(__file__).resolve().parents[2]
AREAS = ("eoi", "scoring", "contracts")
AREA_MODULES = ("models", "states", "operations", "permissions", "queries", "views", "forms", "tasks")


def view_modules() -> list[Path]:
    found = [ROOT / "app/main.py", *(ROOT / "app").glob("*/views.py")]
    for area in AREAS:
        found += [p for p in [ROOT / area / "views.py", *(ROOT / area / "views").glob("*.py")] if p.exists()]
    return sorted(found)


# --- one request boundary -----------------------------------------------------------------------------------

def _caught_names(handler: ast.ExceptHandler) -> list[str]:
    node = handler.type
    items = node.elts if isinstance(node, ast.Tuple) else [node] if node is not None else []
    return [n.id if isinstance(n, ast.Name) else n.attr for n in items if isinstance(n, ast.Name | ast.Attribute)]


def _is_call_to(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Attribute) and node.func.attr == name)
        or (isinstance(node.func, ast.Name) and node.func.id == name))


def boundary_violations(source: str, namespace: dict) -> list[str]:
    """What breaks the boundary in a views module's source: catching a DomainError (resolved in namespace),
    a per-module _run helper, a rollback, or a commit in an except block or after a rollback."""
    problems = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            for name in _caught_names(node):
                caught = namespace.get(name)
                if name in ("DomainError", "Exception", "BaseException") or (
                        isinstance(caught, type) and issubclass(caught, DomainError)):
                    problems.append(f"line {node.lineno}: catches {name}")
            if any(_is_call_to(inner, "commit") for inner in ast.walk(node)):
                problems.append(f"line {node.lineno}: commits in an except block")
        if isinstance(node, ast.FunctionDef) and node.name == "_run":
            problems.append(f"line {node.lineno}: a _run helper")
        if _is_call_to(node, "rollback"):
            problems.append(f"line {node.lineno}: rolls back (the boundary does)")
    return problems


@pytest.mark.parametrize("path", view_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_views_leave_refusals_to_the_boundary(path):
    module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    assert boundary_violations(path.read_text(), vars(module)) == []


def test_the_boundary_check_can_fail():
    """Positive control: each pattern the boundary forbids is found."""
    from eoi.operations import SubmissionClosed
    bad = '''
def _run(action):
    try:
        action()
    except SubmissionClosed as exc:
        db.session.rollback()
        record_late_attempt(exc)
        db.session.commit()
    except (ValueError, DomainError):
        pass
'''
    problems = boundary_violations(bad, {"SubmissionClosed": SubmissionClosed, "ValueError": ValueError})
    assert any("_run" in p for p in problems) and any("catches SubmissionClosed" in p for p in problems)
    assert any("catches DomainError" in p for p in problems) and any("commits in an except" in p for p in problems)
    assert any("rolls back" in p for p in problems)
    assert boundary_violations("try:\n    x()\nexcept KeyError:\n    pass\n", {"KeyError": KeyError}) == []


def test_every_views_module_is_checked():
    names = {str(p.relative_to(ROOT)) for p in view_modules()}
    assert {"app/main.py", "app/auth/views.py", "app/admin/views.py", "eoi/views/officer.py", "eoi/views/vendor.py",
            "eoi/views/public.py", "scoring/views/criteria.py", "scoring/views/panels.py", "scoring/views/sheets.py"} <= names


# --- every area the same shape --------------------------------------------------------------------------------

def missing_area_modules(area_dir: Path) -> list[str]:
    return [m for m in AREA_MODULES if not ((area_dir / f"{m}.py").is_file() or (area_dir / m / "__init__.py").is_file())]


@pytest.mark.parametrize("area", AREAS)
def test_every_area_has_the_same_modules(area):
    assert missing_area_modules(ROOT / area) == []


def test_the_area_check_can_fail(tmp_path):
    (tmp_path / "models.py").write_text('"""Models."""\n')
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "__init__.py").write_text('"""Views."""\n')
    assert missing_area_modules(tmp_path) == ["states", "operations", "permissions", "queries", "forms", "tasks"]


@pytest.mark.parametrize("area", AREAS)
def test_every_area_module_says_what_it_holds(area):
    for name in AREA_MODULES:
        path = ROOT / area / f"{name}.py"
        path = path if path.is_file() else ROOT / area / name / "__init__.py"
        assert ast.get_docstring(ast.parse(path.read_text())), f"{path} has no docstring"


# --- one home per rule: templates get decisions -------------------------------------------------------------

STATE_WORDS = ("draft|published|closed|opened|evaluating|decided|concluded|cancelled|submitted|withdrawn|"
               "officer|vendor|admin|approver|panel|queued|rendering|ready|failed|eoi|tender")
FORBIDDEN_IN_TEMPLATES = [
    (re.compile(r"\.(state|role|status|kind)\.value\b"), "reads an enum's value"),
    (re.compile(r"\b(state|role|status|kind)\s*(==|!=|\bin\b|\bnot in\b)"), "compares a state or role"),
    (re.compile(rf"(==|!=)\s*['\"]({STATE_WORDS})['\"]"), "compares with a state or role name"),
    (re.compile(rf"['\"]({STATE_WORDS})['\"]\s*(==|!=)"), "compares with a state or role name"),
    (re.compile(r"selectattr\(\s*['\"][\w.]*(state|role|status)"), "filters by state"),
    (re.compile(r"\bis_officer\b|\bRole\."), "checks a role"),
]


def template_violations(text: str) -> list[str]:
    problems = []
    for match in re.finditer(r"\{[{%](.*?)[%}]\}", text, re.S):  # every expression and statement, even multi-line
        number, statement = text.count("\n", 0, match.start()) + 1, " ".join(match.group(1).split())
        problems += [f"line {number}: {why}: {statement}"
                     for pattern, why in FORBIDDEN_IN_TEMPLATES if pattern.search(statement)]
    return problems


@pytest.mark.parametrize("path", sorted((ROOT / "templates").rglob("*.html")), ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_take_decisions_from_views(path):
    assert template_violations(path.read_text()) == []


@pytest.mark.parametrize("bad", [
    "{% if submission.state.value == 'submitted' %}", "{% if current_user.role.value == 'officer' %}",
    "{{ submissions|selectattr('state.value', 'equalto', 'submitted')|list|length }}",
    "{% if exercise.state in ('published', 'closed') %}", "{% if doc.status == 'ready' %}",
    "{% if is_officer(current_user) %}", "{% set draft = exercise.state == x %}", "{% if 'draft' == s %}",
    "{% if exercise.kind.value\n      == 'tender' %}",
])
def test_the_template_check_can_fail(bad):
    assert template_violations(bad)


def test_the_template_check_passes_decisions_and_titles():
    fine = ("{% if can.edit_setup %}{{ exercise.state.title }}{% endif %}{% if s.id in readable %}"
            "{% if doc.is_ready %}{% if stage == 'await_second' %}{% if current_locale() == 'zh_Hant' %}")
    assert template_violations(fine) == []
