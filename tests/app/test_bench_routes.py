"""The benchmarks' bare endpoints (app/bench_routes.py) exist only when BENCH_ROUTES is on."""
from __future__ import annotations

from tests.conftest import _make_app


def test_bench_routes_are_off_by_default(client):
    assert client.get("/_bench/hello").status_code == 404


def test_bench_hello_answers_when_turned_on(migrated_database, tmp_path):
    app = _make_app(tmp_path, migrated_database, BENCH_ROUTES=True)
    with app.app_context():
        response = app.test_client().get("/_bench/hello")
    assert response.status_code == 200 and response.data == b"hello"


def test_floor_routes_are_off_by_default(client):
    assert client.get("/_bench/floor/").status_code == 404


def test_floor_flow_signs_in_stores_audits_and_renders(app, tmp_path):
    """The deadline-rush floor (bench --floor) does the framework's part of a submission for real: the routes are
    signed-in only, the upload is stored with its hash and audited, the submit is audited, both pages render."""
    import io

    import sqlalchemy as sa

    from app.audit.models import AuditEvent
    from app.extensions import db
    from app.storage import StoredFile, stored_path
    from tests.factories import PASSWORD, SMALL_PDF, create_vendor_user

    user = create_vendor_user()
    db.session.commit()
    email, user_id = user.email, user.id
    db.session.close()  # no read transaction left open on SQLite while the bench app writes
    bench = _make_app(tmp_path / "bench", app.config["SQLALCHEMY_DATABASE_URI"], BENCH_ROUTES=True)
    with bench.app_context():
        anonymous = bench.test_client().get("/_bench/floor/")
        assert anonymous.status_code == 302 and "/login" in anonymous.location
        c = bench.test_client()
        assert c.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        up = c.post("/_bench/floor/files", data={"file": (io.BytesIO(SMALL_PDF), "floor.pdf")},
                    content_type="multipart/form-data")
        assert up.status_code == 302 and up.location.endswith("/_bench/floor/")
        stored = db.session.scalar(sa.select(StoredFile).where(StoredFile.uploaded_by_id == user_id))
        assert stored is not None and stored_path(stored.storage_key).read_bytes() == SMALL_PDF
        assert stored.sha256 in c.get("/_bench/floor/").get_data(as_text=True)
        sub = c.post("/_bench/floor/submit")
        assert sub.status_code == 302 and sub.location.endswith("/_bench/floor/receipt")
        assert f"FLOOR-R{stored.id:04d}" in c.get("/_bench/floor/receipt").get_data(as_text=True)
        actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.actor_id == user_id)
                                     .order_by(AuditEvent.id)).all()
        assert actions[-2:] == ["bench.floor_upload", "bench.floor_submit"]
        db.session.remove()
