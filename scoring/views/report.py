"""The evaluation report (prepared by the render task, with its progress in the page), the score exports (CSV, Excel)
and the charts of the moderation page (SVG from pygal, each beside its data table)."""
from __future__ import annotations

from io import BytesIO

import sqlalchemy as sa
from flask import Response, jsonify, redirect, render_template, send_file, url_for
from app.i18n import page_language
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from app.audit import record
from app.auth.forms import ConfirmForm
from app.auth.models import Role
from app.auth.permissions import role_required
from app.boundary import commit, on_refusal
from app.documents.models import Document, DocumentStatus
from app.documents.service import download_name, queue_document, read_verified
from app.extensions import db
from scoring import bp
from scoring.charts import quartiles
from scoring.models import Panel
from scoring.permissions import can_export_scores, can_read_report, report_kind_for
from scoring.queries import moderation_of
from scoring.report import (REPORT_KINDS, criteria_distribution, proposal_heatmap, scores_csv, scores_xlsx)
from scoring.views.sheets import _moderated

CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'"  # pygal's SVG styles itself inline; it runs no script


def _report_panel(panel_id: int) -> Panel:
    panel = db.session.get(Panel, panel_id)
    if panel is None or not can_read_report(current_user, panel):
        raise NotFound()  # a conflicted chair, a member, another officer's guess: nothing about the panel
    return panel


def latest_report(panel: Panel, kind: str, language: str) -> tuple[Document | None, Document | None]:
    """(the newest report of this kind and language, the newest ready one)."""
    query = sa.select(Document).where(Document.kind == kind, Document.subject_type == "Panel",
                                      Document.subject_id == panel.id, Document.language == language) \
        .order_by(Document.id.desc())
    newest = db.session.scalar(query.limit(1))
    ready = newest if newest is not None and newest.is_ready else db.session.scalar(
        query.where(Document.sha256.is_not(None)).limit(1))
    return newest, ready


@bp.get("/panels/<int:panel_id>/report")
@role_required(Role.officer, Role.approver, Role.panel)
def report(panel_id: int):
    panel = _report_panel(panel_id)
    newest, ready = latest_report(panel, report_kind_for(current_user, panel), page_language())
    return render_template("scoring/report.html", panel=panel, exercise=panel.exercise, newest=newest, ready=ready,
                           progress=_progress(newest), confirm=ConfirmForm(),
                           can_export=can_export_scores(current_user, panel))


def _progress(doc: Document | None) -> int:
    """How far the render is, for the page's progress bar: queued 20, being rendered 60 (the task reports no finer
    steps)."""
    return 60 if doc is not None and doc.status == DocumentStatus.rendering else 20


@bp.get("/panels/<int:panel_id>/report/status")
@role_required(Role.officer, Role.approver, Role.panel)
def report_status(panel_id: int):
    """The newest report's status, polled by the page while it is prepared (report.js)."""
    panel = _report_panel(panel_id)
    newest, _ready = latest_report(panel, report_kind_for(current_user, panel), page_language())
    if newest is None:
        return jsonify(status=None)
    return jsonify(status=newest.status.value, title=newest.status.title, ready=newest.is_ready,
                   failed=newest.has_failed, progress=_progress(newest))


@bp.post("/panels/<int:panel_id>/report")
@role_required(Role.officer, Role.approver, Role.panel)
def report_prepare(panel_id: int):
    panel = _report_panel(panel_id)
    target = url_for("scoring.report", panel_id=panel.id)
    on_refusal(redirect_to=target)
    if ConfirmForm().validate_on_submit():
        queue_document(report_kind_for(current_user, panel), panel, language=page_language(), vendor_id=None,
                       actor=current_user)
        commit(_("The evaluation report is being prepared."))
    return redirect(target)


@bp.get("/panels/<int:panel_id>/report/<int:doc_id>.pdf")
@role_required(Role.officer, Role.approver, Role.panel)
def report_download(panel_id: int, doc_id: int):
    panel = _report_panel(panel_id)
    doc = db.session.get(Document, doc_id)
    if doc is None or doc.kind not in REPORT_KINDS or doc.subject_type != "Panel" or doc.subject_id != panel.id \
            or doc.kind != report_kind_for(current_user, panel):
        raise NotFound()
    on_refusal(redirect_to=url_for("scoring.report", panel_id=panel.id))
    data = read_verified(doc)
    record(current_user, "document.downloaded", doc, kind=doc.kind)
    commit()
    response = send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=download_name(doc))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/panels/<int:panel_id>/exports/scores.<string:fmt>")
@role_required(Role.officer, Role.approver)
def scores_export(panel_id: int, fmt: str):
    panel = db.session.get(Panel, panel_id)
    if panel is None or fmt not in ("csv", "xlsx") or not can_export_scores(current_user, panel):
        raise NotFound()
    language = page_language()
    if fmt == "csv":
        data, mimetype = scores_csv(panel, language), "text/csv; charset=utf-8"
    else:
        data, mimetype = scores_xlsx(panel, language), \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    record(current_user, "panel.scores_exported", panel, format=fmt, language=language, size=len(data))
    commit()
    name = f"{panel.exercise.reference}_scores_{'zh' if language.startswith('zh') else 'en'}.{fmt}"
    response = send_file(BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name="".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in name))
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- charts of the moderation page ---------------------------------------------------------------------------

def _svg(svg: bytes) -> Response:
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = CHART_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


def moderation_chart_data(view: dict) -> dict:
    """From moderation_of's view: the submitted sheets' members and scores, per criterion the scores given."""
    submitted = [s for s in view["sheets"] if s.submitted_at is not None]
    members = [(s.id, s.assignment.member.user.name) for s in submitted]
    scores = {(s.id, c.id): getattr(view["scores"][s.id].get(c.id), "value", None)
              for s in submitted for c in view["criteria"]}
    values = {c.id: [v for (sid, cid), v in scores.items() if cid == c.id and v is not None] for c in view["criteria"]}
    return {"members": members, "scores": scores, "values": values,
            "quartiles": [(c, quartiles(values[c.id])) for c in view["criteria"]]}


@bp.get("/panels/<int:panel_id>/proposals/<int:submission_id>/charts/<string:chart>.svg")
@role_required(Role.officer, Role.panel)
def moderation_chart(panel_id: int, submission_id: int, chart: str):
    panel, submission = _moderated(panel_id, submission_id)
    if chart not in ("heatmap", "distribution"):
        raise NotFound()
    view = moderation_of(panel, submission)
    data = moderation_chart_data(view)
    language = page_language()
    if chart == "heatmap":
        from scoring.views.panels import proposal_names
        return _svg(proposal_heatmap(view["criteria"], data["members"], data["scores"], language,
                                     proposal_names(panel, current_user)[submission.id]))
    return _svg(criteria_distribution(view["criteria"], data["values"], language))


def home_reports(user) -> dict | None:
    """An approver's home page lists the panels whose evaluation report it may read."""
    if getattr(user, "role", None) != Role.approver:
        return None
    panels = [p for p in db.session.scalars(sa.select(Panel).order_by(Panel.id.desc()).limit(50))
              if can_read_report(user, p)]
    return {"panels": panels}

