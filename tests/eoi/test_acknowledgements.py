"""Acknowledgement emails (issue 8 item 7), each in the recipient's saved language: proposal received (receipt number,
server time, manifest hash, never the content), withdrawn, re-confirmed; question received and answered."""
from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import Role
from app.extensions import db
from app.notifications import Notification
from eoi import operations as ops
from eoi.models import SubmissionVersion
from tests.factories import (create_colleague, create_published_exercise, create_staff, create_submission,
                             create_vendor_user, issue_test_addendum, wait_for)

SECRET_ANSWER = "Our confidential approach uses technique ZX-41."


def _mail(user, subject_part: str) -> Notification | None:
    return wait_for(lambda: db.session.scalar(sa.select(Notification).where(
        Notification.to_email == user.email, Notification.subject.contains(subject_part)).order_by(Notification.id.desc())))


def test_proposal_received_gives_receipt_time_and_hash_without_content_to_each_colleague_in_their_language(app):
    vendor = create_vendor_user(locale="en")
    colleague = create_colleague(vendor)
    colleague.locale = "zh_Hant"
    db.session.commit()
    exercise = create_published_exercise()
    create_submission(exercise, vendor, answer=SECRET_ANSWER, file_name="secret-plan.pdf")
    version = db.session.scalar(sa.select(SubmissionVersion))

    english = _mail(vendor, "Proposal received")
    assert english is not None
    assert version.receipt_number in english.subject
    assert version.sha256 in english.body and "Received (server time, Hong Kong)" in english.body
    assert SECRET_ANSWER not in english.body and "secret-plan.pdf" not in english.body
    assert english.link.endswith(f"/exercises/{exercise.id}/submission/receipt")

    chinese = _mail(colleague, "已收到建議書")
    assert chinese is not None and version.sha256 in chinese.body
    assert "收到時間" in chinese.body or "伺服器時間" in chinese.body
    assert "Proposal" not in chinese.subject + chinese.body and "年" in chinese.body


def test_withdrawal_and_reconfirmation_are_acknowledged(app):
    vendor = create_vendor_user(locale="zh_Hant")
    exercise = create_published_exercise()
    submission = create_submission(exercise, vendor)
    receipt = submission.current_version.receipt_number

    issue_test_addendum(exercise, changes_requirements=True)
    addendum = exercise.addenda[0]
    ops.acknowledge_addendum(addendum, actor=vendor)
    ops.reconfirm_submission(submission, actor=vendor)
    db.session.commit()
    reconfirmed = _mail(vendor, "重新確認")
    assert reconfirmed is not None and receipt in reconfirmed.body

    ops.withdraw_submission(submission, actor=vendor)
    db.session.commit()
    withdrawn = _mail(vendor, "建議書已撤回")
    assert withdrawn is not None and receipt in withdrawn.body and "截止時間" in withdrawn.body
    assert withdrawn.link.endswith(f"/exercises/{exercise.id}/submission")


def test_a_question_is_acknowledged_and_its_answer_reaches_the_asker_once(app):
    asker = create_vendor_user(locale="en")
    exercise = create_published_exercise()
    item = ops.ask_clarification(exercise, actor=asker, question="Is a local data centre required?")
    db.session.commit()
    received = _mail(asker, "Question received")
    assert received is not None and exercise.reference in received.body

    ops.register_interest(exercise, actor=asker)
    officer = create_staff(Role.officer)
    ops.answer_clarification(item, actor=officer, question_en="Is a local data centre required?",
                             question_zh="是否須設於本地的數據中心？", answer_en="Yes, in Hong Kong.", answer_zh="是，須設於香港。")
    db.session.commit()
    answered = _mail(asker, "has been answered")
    assert answered is not None and "Yes, in Hong Kong." in answered.body and "clarification no. 1" in answered.body
    general = db.session.scalars(sa.select(Notification).where(Notification.to_email == asker.email,
                                                               Notification.subject.contains("Clarification published"))).all()
    assert general == []  # not a second message about the same answer
