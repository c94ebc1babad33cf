"""Tenderbox application factory."""
from __future__ import annotations

import logging

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import ROOT, Config
from app.hooks import HomePanel, apply_periodic_tasks, hooks, init_hooks


def create_app(config: type | dict | None = None) -> Flask:
    """config -> hooks -> extensions -> the core's blueprints -> each area of AREAS (init_app) -> errors -> CLI.
    The demo loader's CLI is added by wsgi.py, above every area."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(ROOT / "instance"))
    from app.forms import init_input
    init_input(app)  # query parameters cleaned and bounded, ids bounded: before any route is added
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

    init_hooks(app)
    _init_extensions(app)
    _register_core(app)
    _register_areas(app)
    apply_periodic_tasks(app)
    from app.errors import register_error_handlers
    register_error_handlers(app)
    from app.cli import register_cli
    register_cli(app)
    return app


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
    import app.audit.tasks  # noqa: F401
    import app.documents.tasks  # noqa: F401
    import app.notifications  # noqa: F401
    import app.outbox  # noqa: F401
    import app.storage  # noqa: F401
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


def _register_core(app: Flask) -> None:
    """The core's own pages, document and periodic task, through the same hooks the areas use."""
    from app.admin import bp as admin_bp
    from app.auth import bp as auth_bp
    from app.auth.documents import build_registration_confirmation, registration_confirmation_name
    from app.auth.models import Role
    from app.main import admin_home
    from app.main import bp as main_bp

    for blueprint in (main_bp, auth_bp, admin_bp):
        app.register_blueprint(blueprint)
    registry = hooks(app)
    registry.add_document_builder("registration_confirmation", _l("Registration confirmation"),
                                  build_registration_confirmation, registration_confirmation_name)
    from app.audit import labels as audit_labels
    registry.add_audit_labels(audit_labels.ACTIONS, audit_labels.OBJECTS)
    registry.add_home_panel("admin", HomePanel(frozenset({Role.admin}), "admin/_home.html", admin_home))
    registry.add_periodic_task("sweep-documents", "app.sweep_documents", 300.0)
    registry.add_periodic_task("checkpoint-audit", "app.checkpoint_audit", 300.0)
    registry.add_periodic_task("relay-outbox", "app.relay_outbox", float(app.config["OUTBOX_RELAY_SECONDS"]))
    registry.add_periodic_task("clean-orphans", "app.clean_orphans", float(app.config["CLEAN_ORPHANS_SECONDS"]))
    if app.config.get("BENCH_ROUTES"):  # the benchmark's bare upload endpoint, off unless BENCH_ROUTES=1
        from app.bench_routes import bp as bench_bp, floor as bench_floor
        app.register_blueprint(bench_bp)
        app.register_blueprint(bench_floor)


def _register_areas(app: Flask) -> None:
    """The one place app/ reaches up to the areas (the ignore_imports of .importlinter): each area's
    init_app registers its blueprint and adds to the hooks. Areas left out of AREAS are not there at all."""
    import contracts
    import eoi
    import scoring

    for area in (eoi, scoring, contracts):
        if area.__name__ in app.config["AREAS"]:
            area.init_app(app)
