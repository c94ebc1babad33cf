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
