"""The evaluation report (issue 10, item 8) and the score exports: what they contain, read in a fixed number of
queries whatever the panel's size (one for every score), and the charts they share with the moderation page.

The report is a Document rendered by the Celery task (scoring.init_app registers its builders): the kind
`evaluation_report` names the vendors; `evaluation_report_blind` calls them by their letters, for a chair of a panel
that hides identities. Who may have which is in scoring.permissions (can_read_report, can_export_scores)."""
from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.documents.models import Document
from app.documents.service import DocumentSpec
from app.extensions import db
from eoi.models import Submission
from scoring.charts import ChartCriterion, distribution_svg, heatmap_svg, quartiles
from scoring.models import Criterion, Panel
from scoring.queries import (anonymous_proposal_names, consensus_of_panel, criteria_of, declarations_of_panel,
                             panel_moderation, proposal_labels, proposals_of, results_of, settings_of,
                             submitted_score_rows, technical_criteria_of)

REPORT_KIND = "evaluation_report"
BLIND_REPORT_KIND = "evaluation_report_blind"
REPORT_KINDS = (REPORT_KIND, BLIND_REPORT_KIND)

#: the report's headings, each printed in the report's language with the other language beneath
HEADINGS = {
    "report": _l("Evaluation report"),
    "contents": _l("Contents"),
    "exercise": _l("The exercise"),
    "panel": _l("The panel"),
    "declarations": _l("Declarations of conflicts of interest"),
    "criteria": _l("Criteria and weights"),
    "proposals": _l("Scores by proposal"),
    "distribution": _l("Distribution of the scores per criterion"),
    "ranking": _l("Ranking"),
    "combined": _l("Combined scores"),
    "robustness": _l("Can this result be defended?"),
    "recommendation": _l("Recommendation"),
    "justifications": _l("Members' justifications"),
}


def bilingual(key: str, language: str, headings: dict = HEADINGS) -> Markup:
    """A heading (headings[key], a lazy string) in the document's language with the other language beneath it
    (smaller): the evaluation report's and the price opening record's."""
    other = "en" if language.startswith("zh") else "zh_Hant"
    with force_locale(other):
        second = str(headings[key])
    with force_locale(language):
        first = str(headings[key])
    return Markup('{}<span class="other-language" lang="{}">{}</span>').format(
        first, "en" if other == "en" else "zh-Hant", second)


def svg_data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def proposal_names_for(panel: Panel, language: str, *, blind: bool) -> dict[int, str]:
    """Submission id -> how the report names it: "A — vendor", or "Proposal A" when the reader may not see identities."""
    if blind:
        return anonymous_proposal_names(panel, language)
    labels = proposal_labels(panel)
    return {s.id: f"{labels[s.id]} — {s.vendor.display_name(language)}" for s in proposals_of(panel)}


@dataclass
class ProposalSection:
    submission: Submission
    name: str
    members: list[tuple[int, str]]                      # (member id, name) of the submitted sheets
    scores: dict[tuple[int, int], object]               # (member id, criterion id) -> value
    justifications: dict[tuple[int, int], str]
    consensus: dict[int, object] = field(default_factory=dict)    # criterion id -> ConsensusScore
    stats: dict[int, object] = field(default_factory=dict)        # criterion id -> CellStats
    heatmap: str = ""                                   # data: URI of the SVG


def chart_criteria(criteria: list[Criterion], language: str) -> list[ChartCriterion]:
    return [ChartCriterion(c.name(language), c.max_score) for c in criteria]


def proposal_heatmap(criteria: list[Criterion], members: list[tuple[int, str]], scores: dict, language: str,
                     name: str) -> bytes:
    with force_locale(language):
        title = _("Scores by member and criterion: %(name)s", name=name)
    return heatmap_svg(chart_criteria(criteria, language), [n for _id, n in members],
                       [[scores.get((mid, c.id)) for c in criteria] for mid, _n in members], title=title)


def criteria_distribution(criteria: list[Criterion], values: dict[int, list], language: str) -> bytes:
    with force_locale(language):
        title = _("Distribution of the scores per criterion")
    return distribution_svg(chart_criteria(criteria, language), [values.get(c.id, []) for c in criteria], title=title)


def _sections(panel: Panel, language: str, names: dict[int, str], criteria: list[Criterion]):
    rows = submitted_score_rows(panel)
    stats = panel_moderation(panel, rows)
    consensus = consensus_of_panel(panel)
    sections: dict[int, ProposalSection] = {}
    for s in proposals_of(panel):
        sections[s.id] = ProposalSection(s, names[s.id], [], {}, {}, consensus.get(s.id, {}), stats.get(s.id, {}))
    distribution: dict[int, list] = {}
    for sid, member_id, member_name, criterion_id, value, justification in rows:
        section = sections.get(sid)
        if section is None:
            continue
        if not section.members or section.members[-1][0] != member_id:
            section.members.append((member_id, member_name))
        section.scores[(member_id, criterion_id)] = value
        section.justifications[(member_id, criterion_id)] = justification or ""
        if value is not None:
            distribution.setdefault(criterion_id, []).append(value)
    for section in sections.values():
        if section.members:
            section.heatmap = svg_data_uri(proposal_heatmap(criteria, section.members, section.scores, language,
                                                            section.name))
    return list(sections.values()), distribution


def report_context(panel: Panel, language: str, *, blind: bool) -> dict:
    """Everything the report template shows (templates/pdf/evaluation_report.html)."""
    exercise = panel.exercise
    names = proposal_names_for(panel, language, blind=blind)
    technical = technical_criteria_of(exercise)
    sections, distribution = _sections(panel, language, names, technical)
    results = results_of(panel, language, names=names)
    sentences = list(results.get("sentences") or [])
    ranked = results.get("results") or []
    first = next((r for r in ranked if r.passed), None)
    vendor_names = {s.vendor_id: names[s.id] for s in proposals_of(panel)}
    settings = settings_of(exercise)
    return {**_combined_context(results, settings, names),
        "panel": panel, "exercise": exercise, "language": language, "blind": blind,
        "members": list(panel.members), "declarations": declarations_of_panel(panel), "vendor_names": vendor_names,
        "criteria": criteria_of(exercise), "technical": technical, "settings": settings,
        "sections": sections, "names": names, "results": results, "ranked": ranked, "sentences": sentences,
        "recommended": first, "recommended_name": names.get(int(first.proposal)) if first else None,
        "distribution": svg_data_uri(criteria_distribution(technical, distribution, language)) if distribution else "",
        "distribution_table": [(c, quartiles(distribution.get(c.id, []))) for c in technical],
        "heading": lambda key: bilingual(key, language),
    }


def _combined_context(results: dict, settings, names: dict[int, str]) -> dict:
    """A tender's combined scores as the results page has them (results_of: scoring.queries.combined_of), and the
    recommended tenderer's row: {"combined": rows or None while the prices are sealed, "recommended_tender":
    the first place's CombinedResult, "recommended_tender_name", "formula_title"}."""
    from scoring.forms import PRICE_FORMULA_TITLES
    combined = results.get("combined")
    chosen = results.get("recommended") if combined else None
    row = next((c for c in combined if int(c.proposal) == chosen), None) if chosen is not None else None
    return {"combined": combined, "recommended_tender": row,
            "recommended_tender_name": names.get(int(row.proposal)) if row is not None else None,
            "formula_title": PRICE_FORMULA_TITLES.get(settings.price_formula, settings.price_formula)}


def build_report(doc: Document) -> DocumentSpec:
    panel = db.session.get(Panel, doc.subject_id)
    context = report_context(panel, doc.language, blind=doc.kind == BLIND_REPORT_KIND)
    return DocumentSpec("pdf/evaluation_report.html", {**context, "document": doc})


def report_name(doc: Document) -> tuple[str, ...]:
    panel = db.session.get(Panel, doc.subject_id)
    return (panel.exercise.reference if panel else "", "evaluation-report", str(doc.id))


# --- exports ---------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = (_l("Member"), _l("Proposal"), _l("Criterion"), _l("Score"), _l("Maximum"), _l("Justification"),
                  _l("Consensus"), _l("Consensus rationale"))
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A cell a spreadsheet will not run as a formula (CSV/Excel injection): text starting with = + - @ (or a tab or
    carriage return) gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export_rows(panel: Panel, language: str) -> list[list]:
    """Every per-criterion score of every submitted sheet, with its justification and the consensus, in one query:
    [member, proposal, criterion, score, maximum, justification, consensus, rationale]. Vendors are named (the
    exports are for officers and approvers, who see identities)."""
    names = proposal_names_for(panel, language, blind=False)
    criteria = {c.id: c for c in technical_criteria_of(panel.exercise)}
    consensus = consensus_of_panel(panel)
    out = []
    for sid, _member_id, member_name, criterion_id, value, justification in submitted_score_rows(panel):
        criterion = criteria[criterion_id]
        agreed = consensus.get(sid, {}).get(criterion_id)
        out.append([member_name, names.get(sid, str(sid)), criterion.name(language), value, criterion.max_score,
                    justification or "", agreed.value if agreed is not None else None,
                    agreed.rationale if agreed is not None else ""])
    return out


def scores_csv(panel: Panel, language: str) -> bytes:
    """UTF-8 with a byte-order mark (Excel opens Chinese text right), CRLF lines, every text cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(c) for c in EXPORT_COLUMNS])
    for row in export_rows(panel, language):
        writer.writerow(["" if v is None else neutralise(format(v.normalize(), "f") if isinstance(v, Decimal) else v)
                         for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def scores_xlsx(panel: Panel, language: str) -> bytes:
    """An Excel workbook of the same rows: numbers as numbers, text cells neutralised and stored as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(_("Scores"))[:31]
    sheet.append([str(c) for c in EXPORT_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in export_rows(panel, language):
        sheet.append([float(v) if isinstance(v, Decimal) else neutralise(v) for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever openpyxl would guess
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGH", (22, 30, 30, 8, 9, 60, 11, 40)):
        sheet.column_dimensions[letter].width = width
    for cell in sheet["F"][1:]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

