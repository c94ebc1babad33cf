"""Benchmark-only routes (bench/deadline_rush.py, bench/public_pages.py), registered only when the BENCH_ROUTES
config flag is on.

GET /_bench/hello answers a bare "hello": the baseline bench/public_pages.py compares the public pages with, served
by the same gunicorn through the same app (its request hooks included).

POST /_bench/upload takes a multipart `file` and runs it through app.storage.save_upload (the same streaming,
hashing, size and content checks as a vendor's upload), then deletes the temporary file: no sign-in, no
database, no audit. It is the "bare upload" baseline the deadline-rush benchmark compares the full path with.
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from app.extensions import csrf, db
from app.storage import _PENDING_KEY, save_upload

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
