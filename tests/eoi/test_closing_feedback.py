"""What a vendor is told around the closing time (issue 7, "Also"): a refusal shows the receipt time to the
millisecond, so a receipt in the same second as closing is self-evidently after it; the proposal page carries what
its script needs to warn, while a file uploads shortly before closing, that the upload must complete in time."""
from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time

from tests.eoi.test_vendor_views import _ready_to_submit, _submission, _url
from tests.factories import create_published_exercise, create_vendor_user


def test_a_refusal_in_the_same_second_as_closing_shows_the_receipt_time_to_the_millisecond(login):
    vendor = create_vendor_user()
    exercise = create_published_exercise(closes_in=timedelta(hours=2))
    client = login(vendor)
    _ready_to_submit(client, exercise, vendor)
    closes = exercise.closes_at.replace(microsecond=0)
    exercise.closes_at = closes
    from app.extensions import db
    db.session.commit()
    late = closes + timedelta(milliseconds=653)
    with freeze_time(late):
        page = client.post(_url(exercise, "/submit"), follow_redirects=True,
                           data={"draft_version": str(_submission(exercise, vendor).draft_version)}).get_data(as_text=True)
    shown_closes = closes.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Hong_Kong"))
    # the hour unpadded: "9:03:31" is found in "09:03:31" too; a 12-hour clock would miss "13:03:31"
    stamp = f"{shown_closes.hour}:{shown_closes:%M:%S}"
    assert f"received at " in page and f"{stamp}.653" in page, page[page.find("Refused"):][:200]
    assert f"after the closing time of " in page and f"{stamp}.653" not in page.split("after the closing time of")[1][:40]


def test_the_proposal_page_carries_the_closing_time_and_server_clock_for_the_upload_warning(login):
    vendor = create_vendor_user()
    exercise = create_published_exercise(closes_in=timedelta(minutes=5))
    client = login(vendor)
    client.post(_url(exercise, "/start"))
    page = client.get(_url(exercise)).get_data(as_text=True)
    assert f'data-upload-closes-at="{exercise.closes_at.isoformat()}"' in page
    assert 'data-server-now="' in page and "data-upload-status" in page
    assert "The upload must complete before the closing time of" in page
    assert "A file counts as received when its upload has completed" in page
