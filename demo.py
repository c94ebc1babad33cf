"""Demo data: the 2006 Expression of Interest story of DESIGN.md, replayed through the real operations.

`flask seed-demo` loads it once (it refuses to load twice). Every account's password is DEMO_PASSWORD.
"""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import click
import sqlalchemy as sa
from flask import Flask

from app.auth.models import Role, User
from app.auth.operations import create_staff_user, mark_email_verified, register_vendor
from app.db import now_utc, simulated_time
from app.extensions import db
from app.i18n import HK
from app.storage import save_upload
from contracts import operations as cops
from contracts.decisions import invite_shortlist
from contracts.models import FeeKind, KpiDirection, ReportingFrequency, RiskBearer
from eoi import operations as ops
from eoi import sealed
from eoi.models import Exercise, PriceItem, Section, ServiceCluster
from eoi.queries import standing_submissions
from eoi.states import ExerciseKind
from scoring.models import Envelope
from scoring.operations import add_criterion, set_evaluation_settings

DEMO_PASSWORD = "Tenderbox-demo-2006"
#: Each demo officer's own opening passphrase (issue 9): not the sign-in password; listed in README.md.
DEMO_OPENING_PASSPHRASES = {"officer.chan@tenderbox.example": "Chan opens the box 2006",
                            "officer.leung@tenderbox.example": "Leung opens the box 2006",
                            "officer.wong@tenderbox.example": "Wong opens the box 2006"}

CLUSTERS = [
    ("BT", "Business and Trade", "工商業", "Licences, company registration, trade declarations and support for SMEs.", "牌照、公司註冊、貿易報關及中小企支援。"),
    ("ED", "Education and Training", "教育及培訓", "School places, continuing education and scholarship services.", "學位分配、持續進修及獎學金服務。"),
    ("EM", "Employment", "就業", "Job matching, labour rights information and training schemes.", "職位配對、勞工權益資訊及培訓計劃。"),
    ("HM", "Health and Medical", "健康及醫療", "Clinic bookings, health information and elderly care services.", "診所預約、健康資訊及長者護理服務。"),
    ("RC", "Recreation, Culture and Leisure", "康樂、文化及消閒", "Venue bookings, libraries, museums and cultural programmes.", "場地預訂、圖書館、博物館及文化節目。"),
    ("TT", "Transport and Travel", "交通及旅遊", "Driving licences, vehicle licensing, traffic news and travel services.", "駕駛執照、車輛牌照、交通消息及旅遊服務。"),
    ("EC", "Environment and Community", "環境及社區", "Recycling, community facilities and district services.", "回收、社區設施及地區服務。"),
]

STAFF = [
    ("admin@tenderbox.example", "Ada Lam", Role.admin),
    ("officer.chan@tenderbox.example", "Chan Wai Man", Role.officer),
    ("officer.leung@tenderbox.example", "Leung Mei Ling", Role.officer),
    ("officer.wong@tenderbox.example", "Wong Siu Ming", Role.officer),
    ("approver.ho@tenderbox.example", "Ho Kin Wah", Role.approver),
    ("panel.cheung@tenderbox.example", "Cheung Siu Fong", Role.panel),
    ("panel.wong@tenderbox.example", "Wong Ka Ho", Role.panel),
    ("panel.lau@tenderbox.example", "Lau Yuk Ying", Role.panel),
    ("panel.chow@tenderbox.example", "Chow Lai Kuen", Role.panel),
    ("panel.ng@tenderbox.example", "Ng Chi Keung", Role.panel),
]

VENDORS = [
    ("Harbour Digital Services Limited", "海港數碼服務有限公司", "30117001", "harbour", "Ivy Tsang", "BT", "revenue-sharing concession"),
    ("Lion Rock Systems Limited", "獅子山系統有限公司", "30117002", "lionrock", "Kenneth Yip", "ED", "service-fee contract"),
    ("Victoria Peak Technology Limited", "太平山科技有限公司", "30117003", "vpeak", "Grace Poon", "HM", "joint venture"),
    ("Pearl Delta Solutions Limited", "珠三角方案有限公司", "30117004", "pearldelta", "Raymond Kwok", "TT", "revenue-sharing concession"),
    ("Kowloon Data Centre Limited", "九龍數據中心有限公司", "30117005", "kdc", "Winnie Lo", "BT", "service-fee contract"),
    ("Tsing Ma Networks Limited", "青馬網絡有限公司", "30117006", "tsingma", "Alan Fung", "TT", "joint venture"),
    ("Star Ferry e-Services Limited", "天星電子服務有限公司", "30117007", "starferry", "Joyce Mak", "RC", "revenue-sharing concession"),
    ("Bauhinia Consulting Limited", "紫荊顧問有限公司", "30117008", "bauhinia", "Patrick Siu", "EM", "service-fee contract"),
    ("Sai Kung Software Limited", "西貢軟件有限公司", "30117009", "saikung", "Cindy Ng", "EC", "joint venture"),
    ("Jade Gateway Holdings Limited", "翠門控股有限公司", "30117010", "jadegate", "Vincent Tam", "ED", "revenue-sharing concession"),
    ("Typhoon Shelter Hosting Limited", "避風塘寄存服務有限公司", "30117011", "typhoon", "Helen Chow", "HM", "service-fee contract"),
    ("Lantau Portal Partners Limited", "大嶼門戶夥伴有限公司", "30117012", "lantau", "Eric So", "RC", "joint venture"),
]

SECTIONS = [
    ("Company profile and relevant experience", "公司簡介及相關經驗",
     "Describe your company, its financial standing and similar e-government or portal work.",
     "請介紹 貴公司、財務狀況及類似的電子政府或入門網站工作經驗。", 800, False),
    ("Proposed PPP model and clusters of interest", "建議的公私營合作模式及有興趣的服務群組",
     "Which clusters would you operate, under which partnership model, and why?",
     "請說明 貴公司有意營運的服務群組、合作模式及理由。", 1500, False),
    ("Value-added services and revenue model", "增值服務及收入模式",
     "Explain the services you would add and how they would be funded without charging citizens for core services.",
     "請說明擬提供的增值服務，以及在不向市民收取核心服務費用的前提下如何融資。", 1000, False),
    ("Technical approach, open standards and interoperability", "技術方案、開放標準及互通性",
     "Describe the architecture; attach a diagram (PDF). Explain how you would use open and interoperable standards.",
     "請描述系統架構並附上架構圖（PDF），說明如何採用開放及可互通的標準。", 1200, True),
]


def _at(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=HK).astimezone(timezone.utc)


def _pdf(title: str, body: str) -> bytes:
    from app.documents.render import render_pdf
    from flask import render_template
    return render_pdf(render_template("pdf/demo_attachment.html", title=title, body=body, lang="en"))


def _upload(data: bytes, name: str):
    return save_upload(io.BytesIO(data), name, max_bytes=20 * 1024 * 1024)


def _answers(vendor_idx: int, name_en: str, name_zh: str, cluster: ServiceCluster, model: str) -> list[str]:
    years = 6 + vendor_idx
    staff = 40 + vendor_idx * 15
    return [
        f"{name_en} has delivered public-facing web services in Hong Kong for {years} years and employs {staff} "
        f"professional staff. We operated online booking and payment services for two bureaux and hold ISO 9001 and "
        f"ISO 27001 certification.\n\n{name_zh}在香港提供公共網上服務已有{years}年，聘有{staff}名專業人員，"
        f"曾為兩個政策局營運網上預約及繳費服務，並持有ISO 9001及ISO 27001認證。",
        f"We propose to operate the {cluster.name_en} cluster under a {model}. The cluster suits partnership because "
        f"its services share a citizen journey that can be improved end to end, with measurable service levels.\n\n"
        f"我們建議以「{model}」模式營運「{cluster.name_zh}」服務群組。該群組的服務屬同一市民使用流程，"
        f"適合以公私營合作方式全面改善，並可設定可量度的服務水平。",
        "Value-added services: reminders by SMS and email, a personalised dashboard, and sponsored content clearly "
        "separated from government information. Core transactions stay free; revenue comes from optional premium "
        "alerts and advertising that meets the portal's brand guidelines.\n\n"
        "增值服務包括短訊及電郵提示、個人化版面，以及與政府資訊清楚區分的贊助內容。核心交易維持免費，"
        "收入來自自選的進階提示服務及符合入門網站品牌指引的廣告。",
        f"Architecture: a service layer on open standards (XML web services, W3C accessibility guidelines, the "
        f"Government's interoperability framework), hosted in two data centres in Hong Kong with 99.{5 + vendor_idx % 4}% "
        f"availability. The attached diagram shows the components.\n\n"
        f"系統架構採用開放標準（XML網絡服務、W3C無障礙指引及政府互通架構），在香港兩個數據中心寄存，"
        f"可用率達99.{5 + vendor_idx % 4}%。附件架構圖列出各組件。",
    ]


def seed_demo() -> None:
    if db.session.scalar(sa.select(User.id).where(User.email == STAFF[0][0])):
        raise click.ClickException("demo data is already loaded")
    clusters = {}
    for code, en, zh, den, dzh in CLUSTERS:
        clusters[code] = ServiceCluster(code=code, name_en=en, name_zh=zh, description_en=den, description_zh=dzh)
        db.session.add(clusters[code])
    with simulated_time(_at(2006, 6, 1)):
        staff = {email: create_staff_user(name=name, email=email, password=DEMO_PASSWORD, role=role, actor="demo")
                 for email, name, role in STAFF}
    for email, passphrase in DEMO_OPENING_PASSPHRASES.items():
        ops.set_opening_passphrase(staff[email], passphrase)
    officer1, officer2 = staff["officer.chan@tenderbox.example"], staff["officer.leung@tenderbox.example"]
    # The three officers are named at each publication; any two of them open a box.
    openers = [officer1, officer2, staff["officer.wong@tenderbox.example"]]
    vendors = []
    for i, (en, zh, br, slug, contact, code, model) in enumerate(VENDORS):
        with simulated_time(_at(2006, 7, 3 + i)):
            user = register_vendor(name_en=en, name_zh=zh, br_number=br, address=f"{10 + i} Connaught Road Central, Hong Kong",
                                   contact_name=contact, contact_phone=f"2{i:03d}{5000 + i:04d}"[:8], name=contact,
                                   email=f"{slug}@vendors.example", password=DEMO_PASSWORD, locale="en" if i % 3 else "zh_Hant")
            mark_email_verified(user, actor=user)
            ops.set_subscriptions(user.vendor, {clusters[code].id}, actor=user)
        vendors.append((user, clusters[code], model))
    db.session.commit()

    eoi = _eoi_exercise(clusters, officer1, openers, vendors)
    _eoi_responses(eoi, vendors)
    with simulated_time(_at(2006, 9, 29, 12, 0, )):
        ops.close_exercise(eoi)
    with simulated_time(_at(2006, 9, 29, 12, 3)):
        try:
            ops.withdraw_submission(ops.get_or_create_submission(eoi, actor=vendors[11][0]), actor=vendors[11][0])
        except ops.SubmissionClosed as refusal:
            db.session.rollback()
            ops.record_late_attempt(refusal)
    db.session.commit()
    with simulated_time(_at(2006, 9, 29, 14, 30)):
        ops.start_opening(eoi, actor=officer1, passphrase=DEMO_OPENING_PASSPHRASES[officer1.email])
    with simulated_time(_at(2006, 9, 29, 14, 35)):
        ops.confirm_opening(eoi, actor=officer2, passphrase=DEMO_OPENING_PASSPHRASES[officer2.email])
    db.session.commit()
    _eoi_panel(eoi, officer1, vendors)
    approver = staff["approver.ho@tenderbox.example"]
    past_tender = _past_tender_draft(eoi, clusters["BT"], officer1)
    shortlist = _eoi_shortlist(eoi, officer1, approver)
    awarded = _past_tender_awarded(past_tender, shortlist, officer1, officer2, approver, openers, vendors)
    _tender_in_progress(eoi, clusters["BT"], officer1, officer2, openers, vendors, shortlist)
    db.session.commit()
    _contract_in_service(awarded, officer1, officer2, vendors)


#: (month, availability %, response time s, take-up % (quarterly), satisfaction % (quarterly)) for 2008
KPI_FIGURES_2008 = [
    (1, "99.8", "1.6", None, None), (2, "99.7", "1.7", None, None), (3, "99.2", "1.8", "32", "78"),
    (4, "99.9", "1.9", None, None), (5, "99.6", "2.1", None, None), (6, "98.9", "2.3", "38", "82"),
    (7, "99.7", "2.4", None, None), (8, "99.8", "1.8", None, None), (9, "99.9", "1.7", "43", "84"),
    (10, "99.6", "1.6", None, None), (11, "99.3", "1.5", None, None), (12, "99.8", "1.6", "47", "85"),
]


#: The contract's service levels (name, unit, target, direction, frequency, credit step, amount, cap). The restricted
#: tender asks for the three with a question of its questionnaire (SERVICE_LEVEL_QUESTIONS); take-up is the
#: Government's own target.
DEMO_KPIS = [
    ("Portal availability", "入門網站可用率", "%", "99.5", KpiDirection.at_least, ReportingFrequency.monthly,
     "0.5", "20000", "100000"),
    ("Average page response time", "平均網頁回應時間", "s", "2", KpiDirection.at_most, ReportingFrequency.monthly,
     "0.5", "10000", "50000"),
    ("Take-up of the cluster's e-services", "服務群組電子服務使用率", "%", "40", KpiDirection.at_least,
     ReportingFrequency.quarterly, "5", "15000", "60000"),
    ("User satisfaction", "用戶滿意度", "%", "80", KpiDirection.at_least, ReportingFrequency.quarterly,
     "5", "10000", "30000"),
]
SERVICE_LEVEL_QUESTIONS = [spec for spec in DEMO_KPIS if spec[0] != "Take-up of the cluster's e-services"]


def _demo_kpis(contract, officer) -> None:
    """The contract's KPIs: those pre-filled from the contractor's committed levels (a contract that follows the
    tender) get their reporting frequency and service-credit rule; the others are added."""
    d = Decimal
    for en, zh, unit, target, direction, freq, step, amount, cap in DEMO_KPIS:
        terms = dict(name_en=en, name_zh=zh, unit=unit, direction=direction, frequency=freq, credit_step=d(step),
                     credit_amount=d(amount), credit_cap=d(cap))
        prefilled = next((k for k in contract.kpis if k.name_en == en), None)
        if prefilled is not None:
            cops.update_kpi(prefilled, actor=officer, target=prefilled.target, **terms)
        else:
            cops.add_kpi(contract, actor=officer, target=d(target), **terms)


def _contract_in_service(eoi: Exercise, officer, second_officer, vendors) -> None:
    """The Business and Trade cluster contract with Harbour Digital, drawn up from its final award in the 2006
    restricted tender (`eoi` is that tender here): issued, signed and active from January 2008, with twelve months of KPI reports (some
    missed, with service credits), one variation issued as version 2, and a milestone paid."""
    user, cluster, _model = vendors[0]
    d = Decimal
    with simulated_time(_at(2007, 10, 15)):
        contract = cops.create_contract(
            eoi, user.vendor, actor=officer, cluster=cluster, starts_on=date(2008, 1, 1), ends_on=date(2011, 12, 31),
            title_en="Operation and management of the Business and Trade cluster of the One-Stop Access Portal",
            title_zh="「一站式入門網站」工商業服務群組的營運及管理", extension_months=12, extensions_allowed=2,
            cost_avoidance=d("30000000"))
        for kind, en, zh, rate, committed in (
                (FeeKind.fixed, "Annual operation and management fee", "年度營運及管理費", "9500000", "38000000"),
                (FeeKind.subscription, "Business content subscription", "商業資訊內容訂閱費", "85000", "4080000"),
                (FeeKind.transaction, "Online licence renewals", "網上牌照續期", "3.20", "2400000"),
                (FeeKind.revenue_share, "Advertising and value-added services", "廣告及增值服務收入", "20", "0")):
            cops.add_fee(contract, actor=officer, kind=kind, description_en=en, description_zh=zh, rate=d(rate),
                         committed=d(committed))
        _demo_kpis(contract, officer)
        cops.add_milestone(contract, actor=officer, title_en="Cluster migrated and live on the portal",
                           title_zh="服務群組完成遷移並於入門網站啟用", due_on=date(2008, 3, 31), amount=d("2500000"))
        cops.add_milestone(contract, actor=officer, title_en="Second-year service review accepted",
                           title_zh="第二年服務檢討獲接納", due_on=date(2009, 12, 31), amount=d("1500000"))
        for en, zh, bearer, men, mzh in (
                ("Take-up of e-services below forecast", "電子服務使用率低於預測", RiskBearer.contractor,
                 "Marketing plan agreed each year; revenue share only above the forecast",
                 "每年議定推廣計劃；收入超出預測才分成"),
                ("Change in law or policy affecting the services", "法例或政策改變影響服務", RiskBearer.government,
                 "Variation with an agreed adjustment of the fees", "以更改合約調整收費"),
                ("Security incident or data breach", "保安事故或資料外洩", RiskBearer.contractor,
                 "ISO 27001 controls, annual penetration test, incident reporting within 24 hours",
                 "ISO 27001 管控、每年滲透測試、24 小時內通報事故"),
                ("Migration from the old portal runs late", "由舊入門網站遷移延誤", RiskBearer.shared,
                 "Parallel run of the old scheme until the migration milestone is accepted",
                 "遷移里程碑獲接納前新舊系統並行")):
            cops.add_risk(contract, actor=officer, risk_en=en, risk_zh=zh, bearer=bearer, mitigation_en=men,
                          mitigation_zh=mzh)
    db.session.commit()
    with simulated_time(_at(2007, 11, 20)):
        cops.issue_contract(contract, actor=officer, language="en")
    db.session.commit()
    with simulated_time(_at(2007, 12, 3)):
        cops.sign_contract(contract, actor=officer)
    with simulated_time(_at(2008, 1, 2, 9)):
        cops.activate_contract(contract, actor=officer)
    with simulated_time(_at(2008, 4, 15)):
        cops.record_milestone_paid(contract.milestones[0], actor=second_officer, paid_on=date(2008, 4, 15))
    db.session.commit()
    availability, response, take_up, satisfaction = (
        next(k for k in contract.kpis if k.name_en == spec[0]) for spec in DEMO_KPIS)
    for month, avail, resp, take, sat in KPI_FIGURES_2008:
        figures = {availability.id: d(avail), response.id: d(resp)}
        if take is not None:
            figures |= {take_up.id: d(take), satisfaction.id: d(sat)}
        filed_at = _at(2008 + (month == 12), month % 12 + 1, 6)
        with simulated_time(filed_at):
            report = cops.file_kpi_report(contract, actor=user, period_start=date(2008, month, 1), figures=figures,
                                          comment="Figures from the portal's monitoring and the quarterly survey.")
        if month < 12:  # December's report waits for the officer
            with simulated_time(filed_at + timedelta(days=3)):
                cops.accept_kpi_report(report, actor=officer)
        if month == 7:
            with simulated_time(_at(2008, 8, 20)):
                cops.vary_contract(contract, actor=officer, extra_committed=d("3200000"),
                                   reason="Add online payment for business licence renewals (Government request of "
                                          "June 2008).", description_en="Online payment gateway",
                                   description_zh="網上繳費閘道")
            db.session.commit()
            with simulated_time(_at(2008, 8, 25)):
                cops.issue_contract(contract, actor=officer, language="en")
        db.session.commit()
    with simulated_time(_at(2009, 1, 20)):  # the first contract year's performance report, in both languages
        for language in ("en", "zh_Hant"):
            cops.request_performance_report(contract, actor=officer, year=1, language=language)
    db.session.commit()


def _eoi_exercise(clusters, officer, openers, vendors) -> Exercise:
    with simulated_time(_at(2006, 7, 20)):
        eoi = ops.create_exercise(
            actor=officer, kind=ExerciseKind.eoi, reference="OSP/EOI/2006/01",
            title_en="Expression of Interest: public-private partnership for the service clusters of the One-Stop Access Portal",
            title_zh="「一站式入門網站」服務群組公私營合作意向書",
            description_en=("The Government invites expressions of interest from the private sector in partnering to develop "
                            "and operate the priority service clusters of the One-Stop Access Portal, with a unified brand, "
                            "open and interoperable standards and shared infrastructure. Responses will inform the "
                            "restricted tenders for the operation and management of individual clusters."),
            description_zh=("政府現邀請私營機構就合作發展及營運「一站式入門網站」的優先服務群組表達意向。入門網站採用統一品牌、"
                            "開放及可互通的標準和共用基礎設施。所得意見將用於其後個別服務群組營運及管理的局限性招標。"),
            clusters=list(clusters.values()), publication_at=_at(2006, 8, 1), clarification_deadline=_at(2006, 9, 1, 17),
            closes_at=_at(2006, 9, 22, 12), validity_until=_at(2007, 3, 31, 17))
        for pos, (ten, tzh, gen, gzh, limit, attach) in enumerate(SECTIONS, start=1):
            eoi.sections.append(Section(position=pos, title_en=ten, title_zh=tzh, guidance_en=gen, guidance_zh=gzh,
                                        word_limit=limit, attachment_required=attach))
        ops.add_exercise_document(eoi, _upload(_pdf("Invitation for Expressions of Interest",
                                                    "Background, scope, the seven priority service clusters and how to respond."),
                                               "osp-eoi-invitation.pdf"), title="Invitation for Expressions of Interest", actor=officer,
                                  title_zh="意向書邀請")
        ops.add_exercise_document(eoi, _upload(_pdf("One-Stop Access Portal: service cluster overview",
                                                    "Stage 1 to Stage 4 of the portal plan and the services in each cluster."),
                                               "osp-cluster-overview.pdf"), title="Service cluster overview", actor=officer,
                                  title_zh="服務群組概覽")
        for name_en, name_zh, weight in [("Experience and capability", "經驗及能力", "25"),
                                         ("Partnership model and clusters", "合作模式及服務群組", "30"),
                                         ("Value-added services and revenue", "增值服務及收入", "20"),
                                         ("Technical approach and open standards", "技術方案及開放標準", "25")]:
            add_criterion(eoi, actor=officer, name_en=name_en, name_zh=name_zh, weight=Decimal(weight), max_score=10,
                          pass_mark=4, envelope=Envelope.technical)
    db.session.commit()
    with simulated_time(_at(2006, 8, 1)):
        ops.publish_exercise(eoi, actor=officer, opening_officers=openers)
    db.session.commit()
    questions = [
        (vendors[1][0], "May a consortium of two companies respond jointly?", "Yes. Name the lead company and describe each member's role in section 1.",
         "兩間公司組成的財團可否共同提交意向書？", "可以。請在第1部分註明主導公司並說明各成員的角色。"),
        (vendors[4][0], "Will the Government share traffic statistics of the existing e-services?",
         "Aggregated 2005 usage figures per cluster are in the cluster overview document, version 1.",
         "政府會否提供現有電子服務的使用統計？", "各服務群組2005年的總計使用數字載於服務群組概覽文件第1版。"),
    ]
    for n, (user, q_en, a_en, q_zh, a_zh) in enumerate(questions):
        with simulated_time(_at(2006, 8, 10 + n * 7)):
            item = ops.ask_clarification(eoi, actor=user, question=q_en)
        with simulated_time(_at(2006, 8, 14 + n * 7)):
            ops.answer_clarification(item, actor=officer, question_en=q_en, question_zh=q_zh, answer_en=a_en, answer_zh=a_zh)
        db.session.commit()
    with simulated_time(_at(2006, 9, 5)):
        ops.issue_addendum(eoi, actor=officer, changes_requirements=False, new_closes_at=_at(2006, 9, 29, 12),
                           text_en="The closing time is extended to 29 September 2006, 12:00 noon, to allow respondents to reflect the answers to the clarifications.",
                           text_zh="截止時間延至2006年9月29日中午12時，讓回應者可考慮澄清問題的答覆。")
    db.session.commit()
    return eoi


def _eoi_responses(eoi: Exercise, vendors) -> None:
    for i, (user, cluster, model) in enumerate(vendors):
        vendor = user.vendor
        with simulated_time(_at(2006, 9, 6 + i, 9 + i % 6, 15)):
            ops.register_interest(eoi, actor=user)
            for addendum in ops.unacknowledged_addenda(eoi, vendor.id):
                ops.acknowledge_addendum(addendum, actor=user)
            submission = ops.get_or_create_submission(eoi, actor=user)
            texts = _answers(i, vendor.name_en, vendor.name_zh, cluster, model)
            ops.save_draft(submission, actor=user, answers={s.id: t for s, t in zip(eoi.sections, texts)})
            diagram = sealed.receive_file(io.BytesIO(_pdf(
                f"{vendor.name_en}: technical architecture", "Portal front end, service layer, shared identity and "
                "payment services, two Hong Kong data centres.")), "architecture.pdf", max_bytes=20 * 1024 * 1024)
            ops.add_submission_file(submission, diagram, actor=user, section=eoi.sections[3])
            ops.submit_submission(submission, actor=user, draft_version=submission.draft_version)
        db.session.commit()
        if i == 2:  # one vendor withdraws, improves its answer and resubmits: two versions on record
            with simulated_time(_at(2006, 9, 27, 16, 40)):
                ops.withdraw_submission(submission, actor=user)
                ops.save_draft(submission, actor=user, answers={eoi.sections[1].id: texts[1] + "\n\nRevised after addendum no. 1."})
                ops.submit_submission(submission, actor=user, draft_version=submission.draft_version)
            db.session.commit()


PANEL_EMAILS = ("panel.cheung@tenderbox.example", "panel.wong@tenderbox.example", "panel.lau@tenderbox.example",
                "panel.chow@tenderbox.example", "panel.ng@tenderbox.example")


def _demo_score(vendor_index: int, member_index: int, criterion_index: int) -> int:
    """A plausible, repeatable score: each vendor has a level, each member a leaning, each criterion a twist."""
    level = (8, 6, 3, 5, 7, 4, 6, 5, 7, 3, 6, 5)[vendor_index]
    value = level + (0, 1, -1, 0, 1)[member_index] + ((vendor_index + criterion_index) % 3 - 1)
    return max(0, min(10, value))


def _eoi_panel(eoi: Exercise, officer, vendors) -> None:
    """The 2006 EOI fully scored by a five-member panel: one declared conflict, one sheet reopened by the chair
    and revised, consensus recorded on the first proposal, then signed off by the chair."""
    from scoring.operations import (assign_proposals, declare_conflicts, form_panel, record_consensus, reopen_sheet,
                                    save_scores, sign_off_technical, submit_sheet)
    from scoring.queries import assignment_for, seat_of, technical_criteria_of, vendors_of
    users = [db.session.scalar(sa.select(User).where(User.email == email)) for email in PANEL_EMAILS]
    chair, members = users[0], users[1:]
    conflicted_vendor = vendors[4][0].vendor  # Kowloon Data Centre: Lau Yuk Ying's brother is its finance director
    with simulated_time(_at(2006, 10, 2, 10)):
        panel = form_panel(eoi, actor=officer, chair=chair, members=members, deadline=_at(2006, 10, 20, 17))
        assign_proposals(panel, actor=officer)
    db.session.commit()
    criteria = technical_criteria_of(eoi)
    from eoi.queries import standing_submissions
    submissions = {s.vendor_id: s for s in standing_submissions(eoi)}
    for m, user in enumerate(users):
        with simulated_time(_at(2006, 10, 3, 9 + m)):
            conflicts = {conflicted_vendor.id: "My brother is the finance director of this company."} \
                if user.email == "panel.lau@tenderbox.example" else {}
            declare_conflicts(seat_of(user, panel), actor=user, declarations={
                v.id: (v.id in conflicts, conflicts.get(v.id, "")) for v in vendors_of(panel)})
        for i, (vendor_user, _cluster, _model) in enumerate(vendors):
            submission = submissions.get(vendor_user.vendor_id)
            assignment = submission and assignment_for(seat_of(user, panel), submission)
            if assignment is None or assignment.excluded_at is not None:
                continue
            with simulated_time(_at(2006, 10, 4 + i // 2, 9 + m, 10 + i)):
                save_scores(assignment, actor=user, version=0, entries={
                    c.id: (_demo_score(i, m, k), f"{c.name_en}: assessed against the guidance; see the response, section {k + 1}.")
                    for k, c in enumerate(criteria)})
                submit_sheet(assignment, actor=user)
        db.session.commit()
    first = submissions[vendors[0][0].vendor_id]
    sheet = assignment_for(seat_of(members[0], panel), first).sheet
    with simulated_time(_at(2006, 10, 12, 10)):
        reopen_sheet(sheet, actor=chair, reason="Your score on partnership model is 3 points from the panel; please look again at section 2.")
    with simulated_time(_at(2006, 10, 12, 15)):
        save_scores(sheet.assignment, actor=members[0], version=sheet.version, entries={
            criteria[1].id: (_demo_score(0, 0, 1), "Revised: the revenue-sharing model in section 2 is credible.")})
        submit_sheet(sheet.assignment, actor=members[0])
    db.session.commit()
    with simulated_time(_at(2006, 10, 16, 11)):
        for c in criteria:
            record_consensus(panel, first, c, actor=chair, value=Decimal(_demo_score(0, 0, criteria.index(c))),
                             rationale="Agreed at the moderation meeting of 16 October 2006.")
    db.session.commit()
    with simulated_time(_at(2006, 10, 17, 16)):  # the shortlist decision follows the signed-off evaluation
        sign_off_technical(panel, actor=chair)
    db.session.commit()


#: The tender's bidders (indexes into VENDORS) and their unit prices for the three lines of the price schedule
TENDER_BIDS = [(0, ("2800000.00", "9200000.00", "450000.00")), (4, ("2400000.00", "9900000.00", "380000.00")),
               (1, ("3100000.00", "8800000.00", "520000.00")), (6, ("1900000.00", "8400000.00", "300000.00"))]
#: The service levels each bidder commits to (the tender's service-level questions; the contract starts from them)
TENDER_LEVELS = {0: ("99.5", "2", "80"), 4: ("99.9", "1.5", "78"), 1: ("99.0", "2.5", "75"), 6: ("98.5", "3", "70")}


def _tender_score(vendor_index: int, member_index: int, criterion_index: int) -> int:
    """Like _demo_score, for the tender: Harbour Digital strongest, Star Ferry below the pass marks."""
    level = {0: 8, 4: 7, 1: 6, 6: 4}[vendor_index]
    return max(0, min(10, level + (0, 1, -1, 0)[member_index] + ((vendor_index + criterion_index) % 3 - 1)))


def _tender_in_progress(eoi: Exercise, cluster: ServiceCluster, officer1, officer2, openers, vendors, shortlist) -> None:
    """The restricted tender for the Business and Trade cluster (2007), for the EOI's approved shortlist, asking
    for three service levels as structured questions: four tenders
    with sealed prices, closed and opened by two officers, and mid-scoring by a four-member panel: every member
    declared, the chair's sheets submitted, another member's partly submitted, one sheet in progress and one
    member not started yet. The price envelopes stay sealed until the chair signs the technical evaluation off."""
    from scoring.operations import assign_proposals, declare_conflicts, form_panel, save_scores, submit_sheet
    from scoring.queries import assignment_for, seat_of, technical_criteria_of, vendors_of
    with simulated_time(_at(2007, 2, 20)):
        tender = ops.create_exercise(
            actor=officer1, kind=ExerciseKind.tender, reference="OSP/T/BT/01", parent_id=eoi.id, has_price_envelope=True,
            title_en="Restricted tender: operation and management of the Business and Trade cluster",
            title_zh="局限性招標：「工商業」服務群組的營運及管理",
            description_en="A five-year PPP contract to operate, manage and develop the Business and Trade cluster of the portal.",
            description_zh="為期五年的公私營合作合約，營運、管理及發展入門網站的「工商業」服務群組。",
            clusters=[cluster], publication_at=_at(2007, 3, 1), clarification_deadline=_at(2007, 4, 2, 17),
            closes_at=_at(2007, 4, 16, 12), validity_until=_at(2007, 10, 16, 17))
        for pos, (ten, tzh, gen, gzh, limit, attach) in enumerate(SECTIONS[1:], start=1):
            tender.sections.append(Section(position=pos, title_en=ten, title_zh=tzh, guidance_en=gen, guidance_zh=gzh,
                                           word_limit=limit, attachment_required=attach))
        for pos, (en, zh, unit, _t, direction, *_rest) in enumerate(SERVICE_LEVEL_QUESTIONS,
                                                                     start=len(tender.sections) + 1):
            tender.sections.append(Section(
                position=pos, title_en=en, title_zh=zh, kind="service_level", kpi_unit=unit,
                kpi_direction=direction.value,
                guidance_en="The level you commit to operate at; the contract's service level starts from it.",
                guidance_zh="貴公司承諾達到的水平；合約的服務水平以此為起點。"))
        for pos, (en, zh, unit, unit_zh, qty) in enumerate([
                ("Set-up and migration of existing services", "設置及遷移現有服務", "lump sum", "整筆", 1),
                ("Annual operation and management fee", "每年營運及管理費", "year", "年", 5),
                ("Content and service development (per release)", "內容及服務開發（每次發布）", "release", "次", 10)], start=1):
            tender.price_items.append(PriceItem(position=pos, description_en=en, description_zh=zh, unit=unit,
                                                unit_zh=unit_zh, quantity=qty))
        ops.add_exercise_document(tender, _upload(_pdf("Tender document: Business and Trade cluster",
                                                       "Scope, service levels, KPIs, contract terms and the price schedule."),
                                                  "osp-t-bt-01-tender.pdf"), title="Tender document", actor=officer1,
                                  title_zh="招標文件")
        db.session.flush()
        for name_en, name_zh, weight, guidance_en, guidance_zh in [
                ("Operation and management plan", "營運及管理計劃", "60",
                 "How the cluster will be run day to day: staffing, service levels, change and incidents.",
                 "服務群組的日常運作方式：人手、服務水平、變更及事故處理。"),
                ("Technical solution and open standards", "技術方案及開放標準", "40",
                 "Architecture, hosting, security and the use of open, interoperable standards.",
                 "系統架構、寄存、保安及開放和可互通標準的採用。")]:
            add_criterion(tender, actor=officer1, name_en=name_en, name_zh=name_zh, weight=Decimal(weight), max_score=10,
                          pass_mark=5, envelope=Envelope.technical, guidance_en=guidance_en, guidance_zh=guidance_zh,
                          descriptors_en="0: no credible plan\n3: gaps in key areas\n5: meets the service levels\n"
                                         "7: meets them with evidence\n10: exceeds them with proven practice",
                          descriptors_zh="0：沒有可信的計劃\n3：主要範疇有缺漏\n5：符合服務水平\n7：符合並有實證\n10：超越要求並有實績")
        set_evaluation_settings(tender, actor=officer1, overall_pass_mark=Decimal(50), technical_weight=70,
                                price_formula="lowest_pro_rata")
        add_criterion(tender, actor=officer1, name_en="Price", name_zh="價格", weight=Decimal("100"), max_score=10,
                      pass_mark=None, envelope=Envelope.price)
        invite_shortlist(shortlist, tender, actor=officer1)
    db.session.commit()
    with simulated_time(_at(2007, 3, 1)):
        ops.publish_exercise(tender, actor=officer2, opening_officers=openers)
    db.session.commit()
    for n, (index, unit_prices) in enumerate(TENDER_BIDS):
        user, _cluster, model = vendors[index]
        with simulated_time(_at(2007, 4, 10 + n, 11, 20)):
            submission = ops.get_or_create_submission(tender, actor=user)
            texts = _answers(index, user.vendor.name_en, user.vendor.name_zh, cluster, model)[1:]
            written = [s for s in tender.sections if not s.is_service_level]
            levels = [s for s in tender.sections if s.is_service_level]
            ops.save_draft(submission, actor=user, answers={**{s.id: t for s, t in zip(written, texts)},
                                                            **dict(zip((s.id for s in levels), TENDER_LEVELS[index]))})
            diagram = sealed.receive_file(io.BytesIO(_pdf(
                f"{user.vendor.name_en}: Business and Trade cluster architecture",
                "Cluster services on the shared portal platform, two Hong Kong data centres.")),
                "architecture.pdf", max_bytes=20 * 1024 * 1024)
            ops.add_submission_file(submission, diagram, actor=user, section=written[-1])
            ops.save_prices(submission, actor=user, prices={item.id: Decimal(price)
                                                            for item, price in zip(tender.price_items, unit_prices)})
            ops.submit_submission(submission, actor=user, draft_version=submission.draft_version)
        db.session.commit()
    with simulated_time(_at(2007, 4, 16, 12, 0)):
        ops.close_exercise(tender)
    db.session.commit()
    wong = db.session.scalar(sa.select(User).where(User.email == "officer.wong@tenderbox.example"))
    with simulated_time(_at(2007, 4, 16, 14, 30)):
        ops.start_opening(tender, actor=wong, passphrase=DEMO_OPENING_PASSPHRASES[wong.email])
    with simulated_time(_at(2007, 4, 16, 14, 40)):
        ops.confirm_opening(tender, actor=officer1, passphrase=DEMO_OPENING_PASSPHRASES[officer1.email])
    db.session.commit()
    users = [db.session.scalar(sa.select(User).where(User.email == email)) for email in
             ("panel.cheung@tenderbox.example", "panel.wong@tenderbox.example", "panel.chow@tenderbox.example",
              "panel.ng@tenderbox.example")]
    with simulated_time(_at(2007, 4, 18, 10)):
        panel = form_panel(tender, actor=officer1, chair=users[0], members=users[1:], deadline=_at(2007, 5, 11, 17))
        assign_proposals(panel, actor=officer1)
    db.session.commit()
    criteria = technical_criteria_of(tender)
    from eoi.queries import standing_submissions
    submissions = {s.vendor_id: s for s in standing_submissions(tender)}
    # how far each member got: the chair submitted all four, Wong two (a third in progress), Chow one in progress,
    # Ng has declared and not started
    submitted, in_progress = {0: 4, 1: 2, 2: 0, 3: 0}, {0: 0, 1: 1, 2: 1, 3: 0}
    for m, user in enumerate(users):
        with simulated_time(_at(2007, 4, 19, 9 + m)):
            declare_conflicts(seat_of(user, panel), actor=user,
                              declarations={v.id: (False, "") for v in vendors_of(panel)})
        for n, (index, _prices) in enumerate(TENDER_BIDS[:submitted[m] + in_progress[m]]):
            assignment = assignment_for(seat_of(user, panel), submissions[vendors[index][0].vendor_id])
            with simulated_time(_at(2007, 4, 20 + n, 9 + m, 15)):
                entries = {c.id: (_tender_score(index, m, k), f"{c.name_en}: assessed against the guidance and the "
                                                                 f"descriptors; see the tender, section {k + 2}.")
                           for k, c in enumerate(criteria)}
                if n >= submitted[m]:  # in progress: the first criterion scored, the rest still to do
                    entries = dict(list(entries.items())[:1])
                save_scores(assignment, actor=user, version=0, entries=entries)
                if n < submitted[m]:
                    submit_sheet(assignment, actor=user)
        db.session.commit()


def _past_tender_draft(eoi: Exercise, cluster: ServiceCluster, officer) -> Exercise:
    """The 2006 restricted tender for the Business and Trade cluster, drafted while the EOI's shortlist is decided
    (its invited list is filled when the shortlist is approved)."""
    with simulated_time(_at(2006, 10, 18)):
        tender = ops.create_exercise(
            actor=officer, kind=ExerciseKind.tender, reference="OSP/T/BT/2006", parent_id=eoi.id,
            title_en="Restricted tender: operation and management of the Business and Trade cluster (2008-2011)",
            title_zh="局限性招標：「工商業」服務群組的營運及管理（2008至2011年）",
            description_en="A four-year PPP contract to operate and manage the Business and Trade cluster of the portal.",
            description_zh="為期四年的公私營合作合約，營運及管理入門網站的「工商業」服務群組。",
            clusters=[cluster], publication_at=_at(2006, 11, 1), clarification_deadline=_at(2006, 12, 1, 17),
            closes_at=_at(2006, 12, 15, 12), validity_until=_at(2007, 12, 31, 17))
        tender.sections.append(Section(position=1, title_en=SECTIONS[1][0], title_zh=SECTIONS[1][1],
                                       guidance_en=SECTIONS[1][2], guidance_zh=SECTIONS[1][3], word_limit=1500,
                                       attachment_required=False))
        ops.add_exercise_document(tender, _upload(_pdf("Tender document: Business and Trade cluster, 2008-2011",
                                                       "Scope, service levels, KPIs and contract terms."),
                                                  "osp-t-bt-2006-tender.pdf"), title="Tender document", actor=officer,
                                  title_zh="招標文件")
        db.session.flush()
        add_criterion(tender, actor=officer, name_en="Operation and management plan", name_zh="營運及管理計劃",
                      weight=Decimal("100"), max_score=10, pass_mark=5, envelope=Envelope.technical)
    db.session.commit()
    return tender


def _eoi_shortlist(eoi: Exercise, officer, approver):
    """The officer records the EOI's shortlist from the panel's recommendation; the approver (not on the panel)
    approves it, which fills the invited list of the restricted tender being drafted."""
    from contracts import decisions as dec
    with simulated_time(_at(2006, 10, 20, 11)):
        decision = dec.record_decision(
            eoi, actor=officer, submission_ids=dec.recommendation_for(eoi),
            justification="The panel's recommendation: every respondent whose proposal meets the pass mark on each of "
                          "the four criteria, in rank order. The others are below the pass mark on at least one "
                          "criterion (see the panel's results of 16 October 2006).")
    db.session.commit()
    with simulated_time(_at(2006, 10, 24, 15)):
        dec.approve_decision(decision, actor=approver)
    db.session.commit()
    return decision


def _past_tender_awarded(tender: Exercise, shortlist, officer1, officer2, approver, openers, vendors) -> Exercise:
    """The 2006 tender: published to the shortlist, two tenders from the cluster's companies, opened, awarded to
    Harbour Digital with the justification, approved, challenged by Kowloon Data Centre during the standstill,
    answered, then final (the contract follows in _contract_in_service)."""
    from contracts import decisions as dec
    with simulated_time(_at(2006, 11, 1)):
        ops.publish_exercise(tender, actor=officer1, opening_officers=openers)
    db.session.commit()
    bidders = [vendors[0][0], vendors[4][0]]  # Harbour Digital and Kowloon Data Centre, both shortlisted
    for n, user in enumerate(bidders):
        with simulated_time(_at(2006, 12, 4 + n, 15)):
            submission = ops.get_or_create_submission(tender, actor=user)
            ops.save_draft(submission, actor=user, answers={tender.sections[0].id: _answers(
                n * 4, user.vendor.name_en, user.vendor.name_zh, tender.clusters[0], "service-fee contract")[1]})
            ops.submit_submission(submission, actor=user, draft_version=submission.draft_version)
        db.session.commit()
    with simulated_time(_at(2006, 12, 15, 12, 1)):
        ops.close_exercise(tender)
    with simulated_time(_at(2006, 12, 15, 14, 30)):
        ops.start_opening(tender, actor=officer1, passphrase=DEMO_OPENING_PASSPHRASES[officer1.email])
    with simulated_time(_at(2006, 12, 15, 14, 40)):
        ops.confirm_opening(tender, actor=officer2, passphrase=DEMO_OPENING_PASSPHRASES[officer2.email])
    db.session.commit()
    _past_tender_panel(tender, officer1)
    harbour = next(s for s in standing_submissions(tender) if s.vendor_id == vendors[0][0].vendor_id)
    with simulated_time(_at(2007, 8, 28, 10)):
        decision = dec.record_decision(
            tender, actor=officer1, submission_ids=[harbour.id],
            justification="Harbour Digital's operation plan meets every service level of the tender with evidence "
                          "from its two bureau services, and its revenue-sharing offer gives the Government 20% of "
                          "advertising and value-added income. Kowloon Data Centre's plan left the migration risk with "
                          "the Government.")
    db.session.commit()
    with simulated_time(_at(2007, 9, 3, 11)):
        dec.approve_decision(decision, actor=approver)
    db.session.commit()
    with simulated_time(_at(2007, 9, 6, 16)):
        challenge = dec.lodge_challenge(decision, actor=vendors[4][0], text=(
            "Our plan also met every service level, and our data centres are in Hong Kong. We ask for the reasons "
            "our proposal was not preferred on the migration risk."))
    db.session.commit()
    with simulated_time(_at(2007, 9, 11, 10)):
        dec.answer_challenge(challenge, actor=officer2, answer=(
            "Your plan met the service levels. It was not preferred because it asked the Government to bear the risk "
            "of a late migration from the old portal (section 2, risk table), where Harbour Digital's plan shares it "
            "with a parallel run at its own cost. The award stands."))
    db.session.commit()
    with simulated_time(_at(2007, 9, 14, 9)):
        dec.finalise_award(decision, actor=officer1)
    db.session.commit()
    return tender


#: The 2006 tender's panel and each member's score for (Harbour Digital, Kowloon Data Centre), with its justification
PAST_TENDER_SCORES = {
    "panel.cheung@tenderbox.example": ((8, "Meets every service level with evidence from two bureau services; shares "
                                           "the migration risk with a parallel run."),
                                       (6, "Meets the service levels, but leaves the risk of a late migration with "
                                           "the Government (section 2, risk table).")),
    "panel.wong@tenderbox.example": ((7, "A credible operation plan; staffing and incident handling well evidenced."),
                                     (6, "Sound data centres in Hong Kong; the migration plan relies on the "
                                         "Government's own staff.")),
    "panel.chow@tenderbox.example": ((8, "The strongest plan: service levels, change control and a costed parallel "
                                         "run."),
                                     (5, "Meets the pass mark; the risk table puts the migration delay on the "
                                         "Government.")),
}


def _past_tender_panel(tender: Exercise, officer) -> None:
    """The 2006 tender's three-member panel: both tenders scored, no conflict declared, signed off by the chair in
    January 2007 (its award follows the signed-off evaluation)."""
    from scoring.operations import (assign_proposals, declare_conflicts, form_panel, save_scores, sign_off_technical,
                                    submit_sheet)
    from scoring.queries import assignment_for, seat_of, technical_criteria_of, vendors_of
    users = [db.session.scalar(sa.select(User).where(User.email == email)) for email in PAST_TENDER_SCORES]
    with simulated_time(_at(2006, 12, 18, 10)):
        panel = form_panel(tender, actor=officer, chair=users[0], members=users[1:], deadline=_at(2007, 1, 19, 17))
        assign_proposals(panel, actor=officer)
    db.session.commit()
    criterion = technical_criteria_of(tender)[0]
    submissions = sorted(standing_submissions(tender), key=lambda s: s.id)  # Harbour Digital's first
    for m, user in enumerate(users):
        with simulated_time(_at(2006, 12, 19, 9 + m)):
            declare_conflicts(seat_of(user, panel), actor=user,
                              declarations={v.id: (False, "") for v in vendors_of(panel)})
        for n, (submission, (value, why)) in enumerate(zip(submissions, PAST_TENDER_SCORES[user.email])):
            with simulated_time(_at(2007, 1, 3 + m, 10 + n)):
                assignment = assignment_for(seat_of(user, panel), submission)
                save_scores(assignment, actor=user, version=0, entries={criterion.id: (value, why)})
                submit_sheet(assignment, actor=user)
        db.session.commit()
    with simulated_time(_at(2007, 1, 26, 16)):
        sign_off_technical(panel, actor=users[0])
    db.session.commit()


def register_demo_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Load the 2006 EOI story (refuses to load twice)."""
        try:
            seed_demo()
        except click.ClickException as exc:
            click.echo(f"seed-demo: {exc.message}; nothing changed")
            return
        click.echo(f"demo data loaded; every demo account's password is {DEMO_PASSWORD}")
