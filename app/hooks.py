"""Declared extension points between areas: what an area may add to the core and to the areas below it.

Each area has an `init_app(app)` that the app factory calls when it registers the area; there the area adds
its publication checks, exercise-page panels, home-page panels, document builders, periodic tasks and which of its audit events
are about sealed content (and its CLI commands,
with app.cli.add_command). The
registry belongs to the app (not to a module), so two apps never share registrations, nothing works or fails
by which module was imported first, and registering the same name twice replaces instead of doubling.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask, current_app, render_template
from markupsafe import Markup

_KEY = "tenderbox.hooks"


#: The exercise pages a panel can be added to.
EXERCISE_PAGES = ("public", "manage")


@dataclass(frozen=True)
class ExercisePanel:
    """A section an area adds to one of the exercise pages (EXERCISE_PAGES): `context(exercise)` returns the
    template's context, or None when the panel has nothing to show for this exercise."""
    page: str
    template: str
    context: Callable[[Any], dict | None]

    def __post_init__(self):
        if self.page not in EXERCISE_PAGES:
            raise ValueError(f"unknown exercise page {self.page!r}")


@dataclass(frozen=True)
class HomePanel:
    """A section an area adds to the home page ("My work") of the signed-in users of `roles`: `context(user)` returns
    the template's context, or None when the panel has nothing to show for this user. A role with no registered
    panel shows the sentence the core gives for it (what will appear there), e.g. the panel members' scoring queue
    until the scoring area registers it."""
    roles: frozenset
    template: str
    context: Callable[[Any], dict | None]


@dataclass(frozen=True)
class PeriodicTask:
    """A Celery beat entry: the task's registered name and its period in seconds."""
    task: str
    seconds: float


@dataclass(frozen=True)
class PriceGate:
    """What an area says about opening an exercise's price envelopes: the reasons it may not be opened now (empty
    when it may), and the submission ids whose prices may be opened (None: no restriction from this area)."""
    problems: tuple[str, ...] = ()
    submission_ids: frozenset[int] | None = None


@dataclass
class Hooks:
    #: name -> check(exercise) -> list of messages that stop publication
    publication_checks: dict[str, Callable[[Any], list[str]]] = field(default_factory=dict)
    #: name -> panel shown on an exercise's pages, in registration order
    exercise_panels: dict[str, ExercisePanel] = field(default_factory=dict)
    #: document kind -> builder(document) -> DocumentSpec
    document_builders: dict[str, Callable] = field(default_factory=dict)
    #: document kind -> translatable title, for document lists
    document_titles: dict[str, Any] = field(default_factory=dict)
    #: document kind -> name(doc) -> the parts of its download name for people, e.g. ("OSP/T/BT/01", "receipt",
    #: "R0014-01"); app.documents.service.download_name joins them with the language (issue 8, item 13)
    document_names: dict[str, Callable] = field(default_factory=dict)
    #: document kind -> readers(user, doc) -> bool, for staff documents narrower than every staff member
    document_readers: dict[str, Callable] = field(default_factory=dict)
    #: beat entry name -> periodic task
    periodic_tasks: dict[str, PeriodicTask] = field(default_factory=dict)
    #: name -> panel on the home page of the users of some roles, in registration order
    home_panels: dict[str, HomePanel] = field(default_factory=dict)
    #: model class -> seal(obj) -> (scope, party) or None: which audit events are about sealed content
    #: (see app/audit/sealing.py), e.g. a submission -> ("exercise:12", "vendor:7")
    audit_seals: dict[type, Callable[[Any], tuple[str, str | None] | None]] = field(default_factory=dict)
    #: name -> query() -> select(scope, label) of the scopes sealed now, e.g. exercises not opened yet
    sealed_scopes: dict[str, Callable[[], Any]] = field(default_factory=dict)
    #: audit action code -> translatable label; model class name -> translatable label (app/audit/labels.py)
    audit_action_labels: dict[str, Any] = field(default_factory=dict)
    audit_object_labels: dict[str, Any] = field(default_factory=dict)
    #: endpoint -> (roles, label): entries an area adds to the signed-in menu, after the core's
    menu_items: dict[str, tuple[frozenset, Any]] = field(default_factory=dict)
    #: name -> gate(exercise) -> PriceGate: whether a tender's price envelopes may be opened now, and whose
    #: (e.g. the scoring area: after the chair's sign-off, the technically compliant tenders only)
    price_opening_gates: dict[str, Callable[[Any], "PriceGate"]] = field(default_factory=dict)

    def add_publication_check(self, name: str, check: Callable[[Any], list[str]]) -> None:
        self.publication_checks[name] = check

    def add_exercise_panel(self, name: str, panel: ExercisePanel) -> None:
        self.exercise_panels[name] = panel

    def add_document_builder(self, kind: str, title, builder: Callable, name: Callable | None = None,
                             readers: Callable | None = None) -> None:
        """readers(user, doc) -> bool narrows who may download a staff document of this kind (the evaluation
        report: only those who may read it on its page); without it, every officer, administrator and approver."""
        self.document_builders[kind] = builder
        self.document_titles[kind] = title
        if name is not None:
            self.document_names[kind] = name
        if readers is not None:
            self.document_readers[kind] = readers

    def add_home_panel(self, name: str, panel: HomePanel) -> None:
        self.home_panels[name] = panel

    def add_periodic_task(self, name: str, task: str, seconds: float) -> None:
        self.periodic_tasks[name] = PeriodicTask(task, seconds)

    def add_audit_seal(self, model: type, seal: Callable[[Any], tuple[str, str | None] | None]) -> None:
        self.audit_seals[model] = seal

    def add_sealed_scopes(self, name: str, query: Callable[[], Any]) -> None:
        self.sealed_scopes[name] = query

    def add_audit_labels(self, actions: dict[str, Any], objects: dict[str, Any] | None = None) -> None:
        self.audit_action_labels.update(actions)
        self.audit_object_labels.update(objects or {})

    def audit_action_label(self, code: str | None) -> str:
        """The label of an audit action code in the current language (the code itself if none is registered)."""
        return str(self.audit_action_labels.get(code or "", code or ""))

    def audit_object_label(self, name: str | None) -> str:
        return str(self.audit_object_labels.get(name or "", name or ""))

    def add_menu_item(self, endpoint: str, label, *roles) -> None:
        self.menu_items[endpoint] = (frozenset(roles), label)

    def add_price_opening_gate(self, name: str, gate: Callable[[Any], "PriceGate"]) -> None:
        self.price_opening_gates[name] = gate


def init_hooks(app: Flask) -> Hooks:
    return app.extensions.setdefault(_KEY, Hooks())


def hooks(app: Flask | None = None) -> Hooks:
    """The registry of this app (the current one by default)."""
    return (app or current_app).extensions[_KEY]


def publication_problems_from_areas(exercise) -> list[str]:
    """What the registered publication checks say about exercise (messages to fix, not the first error)."""
    return [problem for check in hooks().publication_checks.values() for problem in check(exercise)]


def render_exercise_panels(exercise, page: str) -> list[Markup]:
    """The panels registered for one exercise page, rendered; panels with nothing to show are left out."""
    rendered = []
    for panel in hooks().exercise_panels.values():
        if panel.page != page:
            continue
        context = panel.context(exercise)
        if context is not None:
            rendered.append(Markup(render_template(panel.template, exercise=exercise, **context)))
    return rendered


def home_panels_for(role) -> list[HomePanel]:
    """The home panels registered for a role (whether or not they have something to show now)."""
    return [panel for panel in hooks().home_panels.values() if role in panel.roles]


def render_home_panels(user) -> list[Markup]:
    """The home panels of user's role, rendered; panels with nothing to show are left out."""
    rendered = []
    for panel in home_panels_for(user.role):
        context = panel.context(user)
        if context is not None:
            rendered.append(Markup(render_template(panel.template, user=user, **context)))
    return rendered


def apply_periodic_tasks(app: Flask) -> None:
    """Give Celery beat the tasks the core and the areas registered."""
    celery_app = app.extensions["celery"]
    celery_app.conf.beat_schedule = {name: {"task": entry.task, "schedule": entry.seconds}
                                     for name, entry in hooks(app).periodic_tasks.items()}


def price_gate_from_areas(exercise) -> PriceGate:
    """The registered price-opening gates together: every problem, and the submissions all of them admit."""
    problems: list[str] = []
    admitted: frozenset[int] | None = None
    for gate in hooks().price_opening_gates.values():
        answer = gate(exercise)
        problems += answer.problems
        if answer.submission_ids is not None:
            admitted = answer.submission_ids if admitted is None else admitted & answer.submission_ids
    return PriceGate(tuple(problems), admitted)
