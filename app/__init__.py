"""Tenderbox application factory."""
from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import ROOT, Config


def create_app(config: type | dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(ROOT / "instance"))
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # noise on every CLI call
    if proxies := int(app.config.get("PROXY_COUNT", 0)):
        # Behind a reverse proxy the client address (used for throttling and audit) is in X-Forwarded-For.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    _init_extensions(app)
    _register_blueprints(app)
    from app.errors import register_error_handlers
    register_error_handlers(app)
    from app.cli import register_cli
    register_cli(app)
    _register_demo_cli(app)
    return app


def _register_demo_cli(app: Flask) -> None:
    """The demo loader spans every area, so it lives beside wsgi.py, outside app/."""
    try:
        from demo import register_demo_cli
    except ImportError:  # an installation without the demo module
        return
    register_demo_cli(app)


def _init_extensions(app: Flask) -> None:
    from app.celery import celery_init_app
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate
    from app.i18n import init_i18n, select_locale
    from app.security import init_security

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Hong_Kong")
    # Flask-Limiter keeps the FIRST app's RATELIMIT_KEY_PREFIX on the shared extension object (`_key_prefix or
    # config`); every app must use its own, or apps sharing a Redis store share their counters.
    limiter._key_prefix = app.config.get("RATELIMIT_KEY_PREFIX", "")
    limiter.init_app(app)
    init_i18n(app)
    init_security(app)
    celery_init_app(app)
    # Models and task modules must be imported so mappers and tasks are registered.
    import app.auth.documents  # noqa: F401
    import app.documents.tasks  # noqa: F401
    import app.notifications  # noqa: F401
    import app.auth.permissions  # noqa: F401
    import app.public_cache  # noqa: F401


def _configure_sqlite(engine) -> None:
    """WAL, a busy timeout and BEGIN IMMEDIATE, so concurrent writers queue instead of failing."""
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy's begin event emit BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.auth import bp as auth_bp
    from app.main import bp as main_bp
    from contracts import bp as contracts_bp
    from eoi import bp as eoi_bp
    from scoring import bp as scoring_bp

    for blueprint in (main_bp, auth_bp, admin_bp, eoi_bp, scoring_bp, contracts_bp):
        app.register_blueprint(blueprint)
    if app.config.get("BENCH_ROUTES"):  # the benchmark's bare upload endpoint, off unless BENCH_ROUTES=1
        from app.bench_routes import bp as bench_bp
        app.register_blueprint(bench_bp)
