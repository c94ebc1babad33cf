"""Benchmark-only routes (bench/deadline_rush.py, bench/public_pages.py), registered only when the BENCH_ROUTES
config flag is on.

GET /_bench/hello answers a bare "hello": the baseline bench/public_pages.py compares the public pages with, served
by the same gunicorn through the same app (its request hooks included).

POST /_bench/upload takes a multipart `file` and runs it through app.storage.save_upload (the same streaming,
hashing, size and content checks as a vendor's upload), then deletes the temporary file: no sign-in, no
database, no audit. It is the "bare upload" baseline the deadline-rush benchmark compares the full path with.

/_bench/floor/... (signed in, CSRF-checked) is the framework floor of a vendor's submission (`--floor`): below.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.audit.chain import record
from app.boundary import commit
from app.extensions import csrf, db
from app.storage import _PENDING_KEY, StoredFile, save_upload

bp = Blueprint("bench", __name__, url_prefix="/_bench")
csrf.exempt(bp)

MAX_BYTES = 60 * 1024 * 1024


@bp.get("/hello")
def hello():
    return "hello", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.post("/upload")
def upload():
    item = request.files.get("file")
    if item is None:
        abort(400)
    saved = save_upload(item.stream, item.filename, max_bytes=MAX_BYTES)
    # save_upload parks the file until the session commits; there is no transaction here, so drop it now.
    for tmp, _final in db.session().info.pop(_PENDING_KEY, []):
        tmp.unlink(missing_ok=True)
    return jsonify(sha256=saved.sha256, size=saved.size)


# --- the framework floor of a vendor's submission (bench/deadline_rush.py --floor) -------------------------------
# The same four requests as a vendor's browser makes (upload -> page -> submit -> receipt), signed in, CSRF-checked,
# each page rendered through base.html, each write a StoredFile row or an audit event committed through the one
# boundary, and nothing else: no exercise, no sealing, no versions, no receipts, no notifications. What the
# application's own work may cost is the deadline-rush ratio's budget minus this.

floor = Blueprint("bench_floor", __name__, url_prefix="/_bench/floor")


def _latest_file() -> StoredFile | None:
    return db.session.scalar(sa.select(StoredFile).where(StoredFile.uploaded_by_id == current_user.id)
                             .order_by(StoredFile.id.desc()).limit(1))


@floor.post("/files")
@login_required
def floor_upload():
    item = request.files.get("file")
    if item is None:
        abort(400)
    saved = save_upload(item.stream, item.filename, max_bytes=MAX_BYTES)
    stored = StoredFile(storage_key=saved.storage_key, original_name=saved.original_name,
                        content_type=saved.content_type, size=saved.size, sha256=saved.sha256,
                        uploaded_by_id=current_user.id)
    db.session.add(stored)
    record(current_user, "bench.floor_upload", stored)
    commit()
    return redirect(url_for(".floor_page"))


@floor.get("/")
@login_required
def floor_page():
    return render_template("bench_floor.html", file=_latest_file(), receipt=None)


@floor.post("/submit")
@login_required
def floor_submit():
    stored = _latest_file()
    record(current_user, "bench.floor_submit", stored)
    commit()
    return redirect(url_for(".floor_receipt"))


@floor.get("/receipt")
@login_required
def floor_receipt():
    stored = _latest_file()
    return render_template("bench_floor.html", file=stored, receipt=f"FLOOR-R{stored.id:04d}" if stored else None)
