"""The evaluation report (issue 10, item 8): a PDF rendered by the task with a table of contents and page numbers,
every member's justification, the charts (pygal SVG) with their data tables; who may have it (a conflicted chair
not); the score exports (CSV, Excel) with formula injection neutralised, their permission matrix and audit; the
charts on the moderation page."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.auth.models import Role
from app.documents.models import Document, DocumentStatus
from app.extensions import db
from scoring.charts import ChartCriterion, distribution_svg, heatmap_svg, quartiles
from scoring.queries import consensus_of_panel, moderation_of, panel_moderation, proposals_of, technical_criteria_of
from scoring.report import BLIND_REPORT_KIND, REPORT_KIND, neutralise
from tests.factories import (create_opened_exercise, create_panel, create_staff, declare_all, score_and_submit,
                             wait_for)

INJECTED = "=HYPERLINK(\"http://evil.example\",\"click\") is how I justify this score."


@pytest.fixture
def scored(app):
    """Two proposals, a chair and two members, every sheet submitted; member 1 wrote a formula as justification."""
    exercise, submissions, officer = create_opened_exercise(vendors=2, criteria=((60, 10), (40, 5)))
    panel, chair, members, clerk = create_panel(exercise, officer, members=2)
    panel.secretary_user = clerk  # for the permission tests
    c1, c2 = technical_criteria_of(exercise)
    for n, user in enumerate((chair, *members)):
        declare_all(panel, user)
        for k, proposal in enumerate(submissions):
            score_and_submit(panel, user, proposal, values={c1.id: 4 + n + k, c2.id: 2 + k},
                             justification=INJECTED if n == 1 else f"Justified by {user.name} for proposal {k}.")
    from scoring.operations import record_consensus
    from decimal import Decimal
    record_consensus(panel, submissions[0], c1, actor=chair, value=Decimal("5.5"),
                     rationale="Agreed after the panel's discussion.")
    db.session.commit()
    return panel, chair, members, submissions, officer


def _queue_report(client, panel):
    page = client.get(f"/scoring/panels/{panel.id}/report")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"',
                      page.get_data(as_text=True))
    response = client.post(f"/scoring/panels/{panel.id}/report", data={"csrf_token": token.group(1) or token.group(2)})
    assert response.status_code == 302
    doc = db.session.scalars(sa.select(Document).where(Document.subject_type == "Panel",
                                                       Document.subject_id == panel.id)
                             .order_by(Document.id.desc())).first()
    # eager Celery renders on commit; a real worker (the PostgreSQL run) renders a moment later
    wait_for(lambda: db.session.get(Document, doc.id).status in (DocumentStatus.ready, DocumentStatus.failed), 240)
    return db.session.get(Document, doc.id)


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_the_report_renders_through_the_task_with_contents_page_numbers_and_justifications(scored, login, tmp_path):
    panel, chair, members, submissions, officer = scored
    client = login(officer)
    doc = _queue_report(client, panel)
    db.session.refresh(doc)
    assert doc.kind == REPORT_KIND and doc.is_ready, doc.failure_reason  # eager Celery: rendered on commit
    page = client.get(f"/scoring/panels/{panel.id}/report").get_data(as_text=True)
    assert f"/scoring/panels/{panel.id}/report/{doc.id}.pdf" in page
    response = client.get(f"/scoring/panels/{panel.id}/report/{doc.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = _pdf_text(response.data, tmp_path)
    flat = " ".join(text.split())
    assert "Contents" in text and "目錄" in text  # bilingual heading of the table of contents (zh translation)
    assert "Page 1 of" in flat and "Page 2 of" in flat
    # the contents give each section's page number (target-counter): "The panel ..... 1"
    assert re.search(r"The panel\s*\.{3,}\s*\d+", text) and re.search(r"Ranking\s*\.{3,}\s*\d+", text)
    for s in submissions:
        assert s.vendor.name_en in flat
    assert f"Justified by {members[1].name} for proposal 1." in flat and "HYPERLINK" in flat
    assert "Agreed after the panel's discussion." in flat
    assert "Krippendorff" in flat and "Recommendation" in flat and "建議" in flat
    assert "Lower quartile" in flat  # the distribution chart's data table
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "document.downloaded")) == 1


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_the_report_in_chinese_has_both_languages_in_its_headings(scored, login, tmp_path):
    panel, chair, members, submissions, officer = scored
    client = login(officer)
    client.get("/language/zh_Hant")
    doc = _queue_report(client, panel)
    db.session.refresh(doc)
    assert doc.language == "zh_Hant" and doc.is_ready, doc.failure_reason
    text = " ".join(_pdf_text(client.get(f"/scoring/panels/{panel.id}/report/{doc.id}.pdf").data, tmp_path).split())
    assert "評審報告" in text and "Evaluation report" in text and "第 1 頁" in text
    assert submissions[0].vendor.name_zh in text


def test_who_may_read_the_report(scored, login):
    panel, chair, members, submissions, officer = scored
    url = f"/scoring/panels/{panel.id}/report"
    assert login(officer).get(url).status_code == 200
    assert login(create_staff(Role.approver)).get(url).status_code == 200
    assert login(chair).get(url).status_code == 200  # clear of every vendor, its own sheets submitted
    assert login(members[0]).get(url).status_code == 404
    assert login(panel.secretary_user).get(url).status_code == 404  # the secretary follows progress, no scores
    assert login(create_staff(Role.admin)).get(url).status_code in (403, 404)
    assert login(create_staff(Role.panel)).get(url).status_code == 404  # a panel account not on this panel


def test_the_general_download_route_gives_the_report_only_to_its_readers(scored, login):
    """/documents/<id> serves every staff document: the report is narrowed to who may read it on its page."""
    panel, chair, members, submissions, officer = scored
    doc = _queue_report(login(officer), panel)
    assert doc.status == DocumentStatus.ready
    link = f"/documents/{doc.id}"
    assert login(officer).get(link).status_code == 200
    assert login(create_staff(Role.approver)).get(link).status_code == 200
    for outsider in (create_staff(Role.admin), members[0], panel.secretary_user, create_staff(Role.panel)):
        assert login(outsider).get(link).status_code == 404, outsider


def test_a_conflicted_chair_gets_neither_the_report_nor_its_file(app, login):
    exercise, submissions, officer = create_opened_exercise(vendors=2)
    panel, chair, members, _clerk = create_panel(exercise, officer, members=2)
    declare_all(panel, chair, conflicts={submissions[1].vendor_id: "My brother is its director."})
    for user in members:
        declare_all(panel, user)
        for proposal in submissions:
            score_and_submit(panel, user, proposal)
    client = login(officer)
    doc = _queue_report(client, panel)
    assert doc.is_ready
    chair_client = login(chair)
    assert chair_client.get(f"/scoring/panels/{panel.id}/report").status_code == 404
    assert chair_client.get(f"/scoring/panels/{panel.id}/report/{doc.id}.pdf").status_code == 404
    assert chair_client.get(f"/documents/{doc.id}").status_code == 404  # nor through the general download
    assert chair_client.get(f"/scoring/panels/{panel.id}/report/status").status_code == 404
    assert chair_client.get(f"/scoring/panels/{panel.id}/exports/scores.csv").status_code in (403, 404)


def test_a_chair_that_has_not_submitted_its_own_sheets_gets_no_report(app, login):
    exercise, submissions, officer = create_opened_exercise(vendors=1)
    panel, chair, members, _clerk = create_panel(exercise, officer, members=2)
    declare_all(panel, chair)
    for user in members:
        declare_all(panel, user)
        score_and_submit(panel, user, submissions[0])
    assert login(chair).get(f"/scoring/panels/{panel.id}/report").status_code == 404  # blind scoring holds
    score_and_submit(panel, chair, submissions[0])
    assert login(chair).get(f"/scoring/panels/{panel.id}/report").status_code == 200


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_a_chair_of_a_panel_hiding_identities_gets_the_report_by_letter(app, login, tmp_path):
    exercise, submissions, officer = create_opened_exercise(vendors=2)
    panel, chair, members, _clerk = create_panel(exercise, officer, members=1, hide_identities=True)
    for user in (chair, *members):
        declare_all(panel, user)
        for proposal in submissions:
            score_and_submit(panel, user, proposal)
    client = login(chair)
    doc = _queue_report(client, panel)
    db.session.refresh(doc)
    assert doc.kind == BLIND_REPORT_KIND and doc.is_ready
    text = " ".join(_pdf_text(client.get(f"/scoring/panels/{panel.id}/report/{doc.id}.pdf").data, tmp_path).split())
    assert "Proposal A" in text and "Proposal B" in text
    for s in submissions:
        assert s.vendor.name_en not in text
    # the officer's named report is not the chair's
    named = _queue_report(login(officer), panel)
    assert login(chair).get(f"/scoring/panels/{panel.id}/report/{named.id}.pdf").status_code == 404


def test_the_csv_export_carries_every_score_with_its_justification_neutralised(scored, login):
    panel, chair, members, submissions, officer = scored
    response = login(officer).get(f"/scoring/panels/{panel.id}/exports/scores.csv")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    text = response.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["Member", "Proposal", "Criterion", "Score"]
    assert len(rows) - 1 == 3 * 2 * 2  # 3 members x 2 proposals x 2 criteria
    injected = [r for r in rows[1:] if "HYPERLINK" in r[5]]
    assert len(injected) == 4 and all(r[5].startswith("'=") for r in injected)
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows[1:] for cell in r)
    first = [r for r in rows[1:] if r[0] == chair.name and r[1].endswith(submissions[0].vendor.name_en)]
    assert {r[3] for r in first} == {"4", "2"} and any(r[6] == "5.5" and r[7].startswith("Agreed") for r in first)
    events = [json.loads(e.details) for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "panel.scores_exported"))]
    assert events and events[-1]["format"] == "csv"


def test_the_excel_export_has_numbers_and_no_formula(scored, login):
    from openpyxl import load_workbook
    panel, chair, members, submissions, officer = scored
    response = login(create_staff(Role.approver)).get(f"/scoring/panels/{panel.id}/exports/scores.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 13 and rows[0][5] == "Justification"
    assert all(isinstance(r[3], (int, float)) for r in rows[1:])
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert any(isinstance(c.value, str) and c.value.startswith("'=HYPERLINK") for c in cells)


def test_export_permission_matrix(scored, login):
    panel, chair, members, submissions, officer = scored
    for fmt in ("csv", "xlsx"):
        url = f"/scoring/panels/{panel.id}/exports/scores.{fmt}"
        assert login(officer).get(url).status_code == 200
        assert login(create_staff(Role.approver)).get(url).status_code == 200
        assert login(chair).get(url).status_code in (403, 404)
        assert login(members[0]).get(url).status_code in (403, 404)
        assert login(create_staff(Role.admin)).get(url).status_code in (403, 404)
    assert login(officer).get(f"/scoring/panels/{panel.id}/exports/scores.exe").status_code == 404


def test_neutralise():
    assert [neutralise(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=x", "plain", 5)] == \
        ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\t=x", "plain", 5]


def test_the_whole_panel_statistics_match_the_per_proposal_moderation(scored):
    panel, chair, members, submissions, officer = scored
    whole = panel_moderation(panel)
    for s in proposals_of(panel):
        single = moderation_of(panel, s)["stats"]
        for criterion_id, cell in single.items():
            mine = whole[s.id][criterion_id]
            assert (mine.mean, mine.median, mine.range, mine.std) == (cell.mean, cell.median, cell.range, cell.std)
    assert consensus_of_panel(panel)[submissions[0].id]


def test_charts_are_pygal_svg_without_script():
    criteria = [ChartCriterion("Approach", 10), ChartCriterion("Team", 5)]
    heat = heatmap_svg(criteria, ["Ann", "Bo"], [[8, 3], [None, 5]], title="Heat")
    assert heat.startswith(b"<?xml") and b"<svg" in heat and b"<script" not in heat and b"pygal" in heat
    box = distribution_svg(criteria, [[1, 5, 8, 9], [2, 3]], title="Distribution")
    assert b"<svg" in box and b"<script" not in box
    assert quartiles([1, 2, 3, 4, 5, 9]) == {"min": 1, "q1": 2, "median": 3.5, "q3": 5, "max": 9, "n": 6}
    assert quartiles([]) is None


def test_the_moderation_page_shows_the_charts_with_their_data_table(scored, login):
    panel, chair, members, submissions, officer = scored
    client = login(chair)
    page = client.get(f"/scoring/panels/{panel.id}/proposals/{submissions[0].id}").get_data(as_text=True)
    assert "charts/heatmap.svg" in page and "charts/distribution.svg" in page and "Lower quartile" in page
    svg = client.get(f"/scoring/panels/{panel.id}/proposals/{submissions[0].id}/charts/heatmap.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<script" not in svg.data
    assert "script-src" not in svg.headers["Content-Security-Policy"]
    # a member who may not moderate gets no chart (refused like the page)
    assert login(members[0]).get(
        f"/scoring/panels/{panel.id}/proposals/{submissions[0].id}/charts/distribution.svg").status_code in (302, 403, 404)


def test_a_conflicted_chair_gets_no_chart_of_that_proposal(app, login):
    exercise, submissions, officer = create_opened_exercise(vendors=2)
    panel, chair, members, _clerk = create_panel(exercise, officer, members=2)
    declare_all(panel, chair, conflicts={submissions[1].vendor_id: "My brother is its director."})
    for user in members:
        declare_all(panel, user)
        score_and_submit(panel, user, submissions[1])
    response = login(chair).get(f"/scoring/panels/{panel.id}/proposals/{submissions[1].id}/charts/heatmap.svg")
    assert response.status_code in (302, 403, 404) and b"<svg" not in response.data


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_a_tenders_report_says_prices_are_sealed_then_gives_the_combined_scores_of_the_results_page(app, login,
                                                                                                    tmp_path):
    from scoring.operations import sign_off_technical
    from scoring.queries import results_of
    from tests.scoring.test_results import _open_prices, scored_tender
    panel, chair, members, submissions, officer, second = scored_tender()
    db.session.commit()
    client = login(officer)

    def report_text() -> str:
        doc = _queue_report(client, panel)
        assert doc.is_ready, doc.failure_reason
        return " ".join(_pdf_text(client.get(f"/scoring/panels/{panel.id}/report/{doc.id}.pdf").data, tmp_path).split())

    sealed_text = report_text()
    assert "Combined scores" in sealed_text and "綜合評分" in sealed_text  # the bilingual heading
    assert "The price envelopes are still sealed" in sealed_text and "HK$" not in sealed_text
    assert "The recommended tenderer is named once" in sealed_text

    sign_off_technical(panel, actor=chair)
    db.session.commit()
    _open_prices(panel, officer, second)
    view = results_of(panel)
    recommended = next(c for c in view["combined"] if int(c.proposal) == view["recommended"])
    opened_text = report_text()
    assert "The price envelopes are still sealed" not in opened_text
    assert "Combined score = technical score × 70% + price score × 30%" in opened_text
    assert "(70%)" in opened_text and "(30%)" in opened_text  # the split in the table's headings
    for c in view["combined"]:  # the same figures as the results page, from the same query
        assert app.jinja_env.filters["number"](c.technical) in opened_text
        if c.passed:
            for figure in (app.jinja_env.filters["hkd"](c.price), app.jinja_env.filters["number"](c.price_points),
                           app.jinja_env.filters["number"](c.combined)):
                assert figure in opened_text
    assert "HK$600.00" in opened_text and "HK$480.00" in opened_text and "HK$720.00" not in opened_text
    assert "Not technically compliant: price envelope kept" in opened_text  # (the layout wraps "sealed")
    name = submissions[0].vendor.name_en
    assert int(recommended.proposal) == submissions[0].id and recommended.combined == Decimal("77.2")
    assert re.search(rf"The recommended tenderer is A — {re.escape(name)}, first on the combined score with 77\.2",
                     opened_text)
