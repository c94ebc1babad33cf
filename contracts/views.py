"""Pages of the contracts area: the register, a contract and its terms, issuing, the life cycle, variations, the
contractor's KPI reports with charts, and the public verification page. Thin: load -> check -> one operation ->
commit (app.boundary answers refusals)."""
from __future__ import annotations

from datetime import date
from io import BytesIO

from flask import Response, abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from app.audit import record
from app.auth.forms import ConfirmForm
from app.auth.models import Role
from app.auth.permissions import role_required
from app.boundary import commit, on_refusal
from app.public_cache import public_page
from app.documents.service import download_name, read_verified
from app.errors import require
from app.extensions import db
from app.i18n import hkd, month
from contracts import bp
from contracts import operations as ops
from contracts import permissions as can
from contracts import queries
from contracts.charts import kpi_chart_svg
from contracts.documents import preview_contract
from contracts.forms import (ContractForm, FeeForm, IssueForm, KpiForm, MilestoneForm, PaidForm, PerformanceReportForm,
                             QueryForm, RegisterFilterForm, RiskForm, TerminateForm, VariationForm, VerifyForm,
                             kpi_report_form)
from contracts.models import (Contract, FeeKind, KpiDirection, KpiReport, PerformanceReport, ReportingFrequency,
                              RiskBearer)
from contracts.open_data import release_package
from contracts.verification import verify_pdf, verify_reference
from eoi.models import ServiceCluster, Submission

CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'"  # pygal's SVG styles itself inline; it runs no script


def _contract(contract_id: int) -> Contract:
    contract = db.session.get(Contract, contract_id)
    if contract is None or not can.can_view_contract(current_user, contract):
        raise NotFound()  # another company's contract: not even its existence
    return contract


def _managed(contract_id: int) -> Contract:
    contract = _contract(contract_id)
    require(can.can_manage_contracts(current_user))
    return contract


def _detail_url(contract: Contract) -> str:
    return url_for("contracts.contract_detail", contract_id=contract.id)


def _field_error(form):
    """A refusal naming a field of form is shown at that field (and in the summary the boundary flashes)."""
    def add(error):
        name = getattr(error, "field", None)
        if name and name in form:
            form[name].errors = [*form[name].errors, error.message]
    return add


# --- register and creation ----------------------------------------------------------------------

@bp.get("/")
@role_required(Role.officer, Role.approver, Role.admin)
def register():
    form = RegisterFilterForm(request.args, clusters=queries.service_clusters())
    filters = form.valid_data()
    contracts, totals = queries.contract_register(state=filters.get("state") or None,
                                                  cluster_id=int(filters["cluster"]) if filters.get("cluster") else None,
                                                  vendor=(filters.get("vendor") or "").strip() or None)
    return render_template("contracts/register.html", form=form, contracts=contracts, totals=totals,
                           can_create=can.can_manage_contracts(current_user))


def _new_page(form, status=200):
    return render_template("contracts/contract_new.html", form=form), status


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.officer)
def contract_new():
    submissions = queries.awardable_submissions()
    clusters = sorted({c.id: c for s in submissions for c in s.exercise.clusters}.values(), key=lambda c: c.code)
    form = ContractForm(submissions=submissions, clusters=clusters)
    if not form.is_submitted() and request.args.get("submission", type=int) in {s.id for s in submissions}:
        # from a final award (contracts.decision_views): the awarded proposal and its exercise's first cluster
        chosen = next(s for s in submissions if s.id == request.args.get("submission", type=int))
        form.submission.data, form.cluster.data = chosen.id, chosen.exercise.clusters[0].id if chosen.exercise.clusters else None
    on_refusal(render=lambda error: (_field_error(form)(error), _new_page(form))[1])
    if not form.validate_on_submit():
        return _new_page(form, 400 if form.is_submitted() else 200)
    submission = db.get_or_404(Submission, form.submission.data)
    contract = ops.create_contract(
        submission.exercise, submission.vendor, actor=current_user, cluster=db.get_or_404(ServiceCluster, form.cluster.data),
        title_en=form.title_en.data, title_zh=form.title_zh.data, starts_on=form.starts_on.data,
        ends_on=form.ends_on.data, extension_months=form.extension_months.data,
        extensions_allowed=form.extensions_allowed.data, cost_avoidance=form.cost_avoidance.data)
    commit(_("The draft contract %(reference)s was created.", reference=contract.reference))
    return redirect(_detail_url(contract))


@bp.get("/mine")
@role_required(Role.vendor)
def my_contracts():
    return render_template("contracts/my_contracts.html", contracts=queries.contracts_of_vendor(current_user.vendor_id))


# --- one contract ---------------------------------------------------------------------------------

def _detail_page(contract: Contract, status: int = 200, **forms):
    user = current_user
    flags = {name: getattr(can, f"can_{name}")(user, contract)
             for name in ("edit_terms", "issue", "sign", "activate", "close", "complete", "vary", "file_report")}
    flags["request_performance_report"] = can.can_request_performance_report(user, contract)
    forms = {"fee_form": FeeForm(), "milestone_form": MilestoneForm(), "kpi_form": KpiForm(), "risk_form": RiskForm(),
             "issue_form": IssueForm(), "terminate_form": TerminateForm(), "paid_form": PaidForm(),
             "performance_form": PerformanceReportForm(years=queries.reportable_years(contract), contract=contract,
                                                       default_year=queries.last_reported_year(contract)),
             **forms}
    return render_template(
        "contracts/contract_detail.html", contract=contract, flags=flags, confirm=ConfirmForm(),
        performance_reports=queries.performance_reports_of(contract),
        problems=ops.contract_problems(contract) if flags["edit_terms"] else [],
        manage=can.can_manage_contracts(user), histories=queries.kpi_histories(contract),
        reports=queries.reports_of(contract), locale=str(get_locale()), **forms), status


@bp.get("/<int:contract_id>")
@login_required
def contract_detail(contract_id: int):
    return _detail_page(_contract(contract_id))


def _term_route(contract_id: int, form_name: str, form, add):
    contract = _managed(contract_id)
    on_refusal(render=lambda error: (_field_error(form)(error), _detail_page(contract, **{form_name: form}))[1])
    if not form.validate_on_submit():
        return _detail_page(contract, 400, **{form_name: form})
    add(contract, form)
    commit(_("Added to the contract."))
    return redirect(_detail_url(contract))


@bp.post("/<int:contract_id>/fees")
@role_required(Role.officer)
def fee_add(contract_id: int):
    return _term_route(contract_id, "fee_form", FeeForm(), lambda c, f: ops.add_fee(
        c, actor=current_user, kind=FeeKind(f.kind.data), description_en=f.description_en.data,
        description_zh=f.description_zh.data, rate=f.rate.data, committed=f.committed.data))


@bp.post("/<int:contract_id>/milestones")
@role_required(Role.officer)
def milestone_add(contract_id: int):
    return _term_route(contract_id, "milestone_form", MilestoneForm(), lambda c, f: ops.add_milestone(
        c, actor=current_user, title_en=f.title_en.data, title_zh=f.title_zh.data, due_on=f.due_on.data,
        amount=f.amount.data))


@bp.post("/<int:contract_id>/kpis")
@role_required(Role.officer)
def kpi_add(contract_id: int):
    return _term_route(contract_id, "kpi_form", KpiForm(), lambda c, f: ops.add_kpi(
        c, actor=current_user, name_en=f.name_en.data, name_zh=f.name_zh.data, unit=f.unit.data, target=f.target.data,
        direction=KpiDirection(f.direction.data), frequency=ReportingFrequency(f.frequency.data),
        credit_step=f.credit_step.data, credit_amount=f.credit_amount.data, credit_cap=f.credit_cap.data))


def _kpi_of(contract: Contract, kpi_id: int):
    return next((k for k in contract.kpis if k.id == kpi_id), None) or abort(404)


def _kpi_page(contract, kpi, form, status=200):
    return render_template("contracts/kpi_edit.html", contract=contract, kpi=kpi, form=form,
                           locale=str(get_locale())), status


@bp.route("/<int:contract_id>/kpis/<int:kpi_id>/edit", methods=["GET", "POST"])
@role_required(Role.officer)
def kpi_edit(contract_id: int, kpi_id: int):
    """A service level of a draft contract, pre-filled from the proposal or added by hand, changed before signing."""
    contract = _managed(contract_id)
    kpi = _kpi_of(contract, kpi_id)
    require(can.can_edit_terms(current_user, contract))
    form = KpiForm(obj=kpi)
    if not form.is_submitted():  # the enums' values, not their names
        form.direction.data, form.frequency.data = kpi.direction.value, kpi.frequency.value
    on_refusal(render=lambda error: (_field_error(form)(error), _kpi_page(contract, kpi, form))[1])
    if not form.validate_on_submit():
        return _kpi_page(contract, kpi, form, 400 if form.is_submitted() else 200)
    ops.update_kpi(kpi, actor=current_user, name_en=form.name_en.data, name_zh=form.name_zh.data,
                   unit=form.unit.data, target=form.target.data, direction=KpiDirection(form.direction.data),
                   frequency=ReportingFrequency(form.frequency.data), credit_step=form.credit_step.data,
                   credit_amount=form.credit_amount.data, credit_cap=form.credit_cap.data)
    commit(_("The service level was saved."))
    return redirect(_detail_url(contract) + "#kpis-heading")


@bp.post("/<int:contract_id>/kpis/<int:kpi_id>/remove")
@role_required(Role.officer)
def kpi_remove(contract_id: int, kpi_id: int):
    contract = _managed(contract_id)
    kpi = _kpi_of(contract, kpi_id)
    on_refusal(redirect_to=_detail_url(contract))
    if ConfirmForm().validate_on_submit():
        ops.remove_kpi(kpi, actor=current_user)
        commit(_("The service level was removed."))
    return redirect(_detail_url(contract) + "#kpis-heading")


@bp.post("/<int:contract_id>/risks")
@role_required(Role.officer)
def risk_add(contract_id: int):
    return _term_route(contract_id, "risk_form", RiskForm(), lambda c, f: ops.add_risk(
        c, actor=current_user, risk_en=f.risk_en.data, risk_zh=f.risk_zh.data, bearer=RiskBearer(f.bearer.data),
        mitigation_en=f.mitigation_en.data, mitigation_zh=f.mitigation_zh.data))


@bp.get("/<int:contract_id>/preview")
@role_required(Role.officer)
def contract_preview(contract_id: int):
    """The current version as it would be issued, rendered now, shown in the browser (not stored, not signed)."""
    contract = _managed(contract_id)
    language = request.args.get("language") if request.args.get("language") in ("en", "zh_Hant") else "en"
    pdf = preview_contract(contract, language)
    response = send_file(BytesIO(pdf), mimetype="application/pdf", as_attachment=False,
                         download_name=f"preview-{contract.reference.replace('/', '-')}.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:contract_id>/issue")
@role_required(Role.officer)
def contract_issue(contract_id: int):
    contract = _managed(contract_id)
    form = IssueForm()
    on_refusal(redirect_to=_detail_url(contract))
    if form.validate_on_submit():
        ops.issue_contract(contract, actor=current_user, language=form.language.data)
        commit(_("Version %(n)s was issued: its signed PDF is being prepared.", n=contract.version))
    return redirect(_detail_url(contract))


def _life_route(contract_id: int, operation, message: str):
    contract = _managed(contract_id)
    on_refusal(redirect_to=_detail_url(contract))
    if ConfirmForm().validate_on_submit():
        operation(contract, actor=current_user)
        commit(message)
    return redirect(_detail_url(contract))


@bp.post("/<int:contract_id>/sign")
@role_required(Role.officer)
def contract_sign(contract_id: int):
    return _life_route(contract_id, ops.sign_contract, _("The signature of both parties is recorded."))


@bp.post("/<int:contract_id>/activate")
@role_required(Role.officer)
def contract_activate(contract_id: int):
    return _life_route(contract_id, ops.activate_contract, _("The contract is active: the contractor can file KPI reports."))


@bp.post("/<int:contract_id>/complete")
@role_required(Role.officer)
def contract_complete(contract_id: int):
    return _life_route(contract_id, ops.complete_contract, _("The contract is completed."))


@bp.post("/<int:contract_id>/terminate")
@role_required(Role.officer)
def contract_terminate(contract_id: int):
    contract = _managed(contract_id)
    form = TerminateForm()
    on_refusal(render=lambda error: _detail_page(contract, terminate_form=form), field=form.reason)
    if not form.validate_on_submit():
        return _detail_page(contract, 400, terminate_form=form)
    ops.terminate_contract(contract, actor=current_user, reason=form.reason.data)
    commit(_("The contract is terminated."))
    return redirect(_detail_url(contract))


@bp.post("/<int:contract_id>/milestones/<int:milestone_id>/paid")
@role_required(Role.officer)
def milestone_paid(contract_id: int, milestone_id: int):
    contract = _managed(contract_id)
    milestone = queries.milestone_of(contract, milestone_id) or abort(404)
    form = PaidForm()
    on_refusal(redirect_to=_detail_url(contract))
    if not form.validate_on_submit():
        return _detail_page(contract, 400, paid_form=form)
    ops.record_milestone_paid(milestone, actor=current_user, paid_on=form.paid_on.data)
    commit(_("The payment is recorded."))
    return redirect(_detail_url(contract))


def _variation_page(contract, form, status=200):
    return render_template("contracts/variation.html", contract=contract, form=form,
                           committed=ops.committed_total()), status


@bp.route("/<int:contract_id>/vary", methods=["GET", "POST"])
@role_required(Role.officer)
def contract_vary(contract_id: int):
    contract = _managed(contract_id)
    require(can.can_vary(current_user, contract))
    form = VariationForm()
    on_refusal(render=lambda error: (_field_error(form)(error), _variation_page(contract, form))[1])
    if not form.validate_on_submit():
        return _variation_page(contract, form, 400 if form.is_submitted() else 200)
    version = ops.vary_contract(contract, actor=current_user, reason=form.reason.data,
                                extra_committed=form.extra_committed.data, description_en=form.description_en.data,
                                description_zh=form.description_zh.data, extend=form.extend.data)
    commit(_("Version %(n)s is recorded. Issue it to produce its signed PDF.", n=version.number))
    return redirect(_detail_url(contract))


@bp.get("/<int:contract_id>/versions/<int:number>.pdf")
@login_required
def version_pdf(contract_id: int, number: int):
    contract = _contract(contract_id)
    version = next((v for v in contract.versions if v.number == number and v.document is not None), None)
    if version is None:
        raise NotFound()
    on_refusal(redirect_to=_detail_url(contract))
    data = read_verified(version.document)
    record(current_user, "document.downloaded", version.document, kind="contract")
    commit()
    response = send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=f"{contract.reference.replace('/', '-')}-v{number}.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:contract_id>/kpis/<int:kpi_id>/chart.svg")
@login_required
def kpi_chart(contract_id: int, kpi_id: int):
    contract = _contract(contract_id)
    history = next((h for h in queries.kpi_histories(contract) if h.kpi.id == kpi_id), None)
    if history is None:
        raise NotFound()
    locale = str(get_locale())
    svg = kpi_chart_svg(history, title=f"{history.kpi.name(locale)} ({history.kpi.unit})",
                        reported=_("Reported"), target=_("Target"))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = CHART_CSP
    return response


# --- the annual performance report ---------------------------------------------------------------

@bp.post("/<int:contract_id>/performance-reports")
@role_required(Role.officer)
def performance_report_request(contract_id: int):
    contract = _managed(contract_id)
    require(can.can_request_performance_report(current_user, contract))
    form = PerformanceReportForm(years=queries.reportable_years(contract), contract=contract)
    on_refusal(render=lambda error: (_field_error(form)(error), _detail_page(contract, performance_form=form))[1])
    if not form.validate_on_submit():
        return _detail_page(contract, 400, performance_form=form)
    ops.request_performance_report(contract, actor=current_user, year=form.year.data, language=form.language.data)
    commit(_("The performance report for year %(n)s is being prepared.", n=form.year.data))
    return redirect(_detail_url(contract) + "#performance-reports-heading")


@bp.get("/performance-reports/<int:performance_report_id>.pdf")
@login_required
def performance_report_pdf(performance_report_id: int):
    report = db.session.get(PerformanceReport, performance_report_id)
    if report is None or not can.can_download_performance_report(current_user, report) or report.document is None:
        raise NotFound()  # another company's report: not even its existence
    on_refusal(redirect_to=_detail_url(report.contract))
    data = read_verified(report.document)
    record(current_user, "document.downloaded", report.document, kind="performance_report")
    commit()
    response = send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=download_name(report.document))
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- KPI reports ----------------------------------------------------------------------------------

def _report_form(contract, **kwargs):
    return kpi_report_form(contract.kpis, queries.open_periods(contract), locale=str(get_locale()), **kwargs)


def _file_page(contract, form, status=200):
    return render_template("contracts/report_form.html", contract=contract, form=form, report=None), status


@bp.route("/<int:contract_id>/reports/new", methods=["GET", "POST"])
@role_required(Role.vendor)
def report_new(contract_id: int):
    contract = _contract(contract_id)
    require(can.can_file_report(current_user, contract))
    form = _report_form(contract)
    on_refusal(render=lambda error: (_field_error(form)(error), _file_page(contract, form))[1])
    if not form.validate_on_submit():
        return _file_page(contract, form, 400 if form.is_submitted() else 200)
    report = ops.file_kpi_report(contract, actor=current_user, period_start=date.fromisoformat(form.period.data),
                                 figures=form.figures(), comment=form.comment.data)
    commit(_("Your report for %(period)s was filed. Service credit: %(credit)s.",
             period=month(report.period_start), credit=hkd(report.total_credit)))
    return redirect(url_for("contracts.report_detail", report_id=report.id))


def _report(report_id: int) -> KpiReport:
    report = db.session.get(KpiReport, report_id)
    if report is None or not can.can_view_report(current_user, report):
        raise NotFound()
    return report


def _report_page(report, status=200, **forms):
    forms = {"query_form": QueryForm(), **forms}
    refile = forms.get("refile_form")
    if refile is None and can.can_refile_report(current_user, report):
        refile = kpi_report_form(report.contract.kpis, [report.period_start], locale=str(get_locale()),
                                 data={f"kpi_{r.kpi_id}": str(r.value) for r in report.results})
    return render_template("contracts/report_detail.html", report=report, contract=report.contract,
                           confirm=ConfirmForm(), can_review=can.can_review_report(current_user, report),
                           refile_form=refile, query_form=forms["query_form"], locale=str(get_locale())), status


@bp.get("/reports/<int:report_id>")
@login_required
def report_detail(report_id: int):
    return _report_page(_report(report_id))


@bp.post("/reports/<int:report_id>/accept")
@role_required(Role.officer)
def report_accept(report_id: int):
    report = _report(report_id)
    on_refusal(redirect_to=url_for("contracts.report_detail", report_id=report.id))
    if ConfirmForm().validate_on_submit():
        ops.accept_kpi_report(report, actor=current_user)
        commit(_("The report is accepted."))
    return redirect(url_for("contracts.report_detail", report_id=report.id))


@bp.post("/reports/<int:report_id>/query")
@role_required(Role.officer)
def report_query(report_id: int):
    report = _report(report_id)
    form = QueryForm()
    on_refusal(render=lambda error: _report_page(report, query_form=form), field=form.note)
    if not form.validate_on_submit():
        return _report_page(report, 400, query_form=form)
    ops.query_kpi_report(report, actor=current_user, note=form.note.data)
    commit(_("The report is sent back to the contractor with your question."))
    return redirect(url_for("contracts.report_detail", report_id=report.id))


@bp.post("/reports/<int:report_id>/refile")
@role_required(Role.vendor)
def report_refile(report_id: int):
    report = _report(report_id)
    require(can.can_refile_report(current_user, report))
    form = kpi_report_form(report.contract.kpis, [report.period_start], locale=str(get_locale()))
    on_refusal(render=lambda error: (_field_error(form)(error), _report_page(report, refile_form=form))[1])
    if not form.validate_on_submit():
        return _report_page(report, 400, refile_form=form)
    ops.refile_kpi_report(report, actor=current_user, figures=form.figures(), comment=form.comment.data)
    commit(_("Your corrected report was filed. Service credit: %(credit)s.", credit=hkd(report.total_credit)))
    return redirect(url_for("contracts.report_detail", report_id=report.id))


# --- public open data (OCDS) -----------------------------------------------------------------------

@bp.get("/open-data/releases.json")
@public_page(lambda now: None)  # built once per public content version; only a commit changes it, not the clock
def open_data():
    """Every published exercise as an OCDS compiled release, for anyone (what the public pages show, as data)."""
    return jsonify(release_package())


@bp.get("/open-data")
def open_data_page():
    """What the open data holds and where to download it."""
    return render_template("contracts/open_data.html")


# --- public verification --------------------------------------------------------------------------

@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """Anyone checks a PDF file, or a reference, against the record of issued documents."""
    form = VerifyForm()
    result = None
    if request.method == "GET" and request.args.get("reference"):
        form.reference.data = request.args.get("reference")
        result = verify_reference(form.reference.data)
    elif form.validate_on_submit():
        upload = form.file.data
        if upload and getattr(upload, "filename", ""):
            result = verify_pdf(upload.stream.read(25 * 1024 * 1024 + 1))
        elif (form.reference.data or "").strip():
            result = verify_reference(form.reference.data)
        else:
            form.reference.errors = [_("Enter a reference or choose a PDF file.")]
    return render_template("contracts/verify.html", form=form, result=result), 200 if result or not form.errors else 400
