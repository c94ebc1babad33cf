"""WSGI entry point for gunicorn (`gunicorn wsgi:app`) and the Celery worker (`celery -A wsgi.celery_app worker`).

Production configuration (Secure cookies, HSTS) unless TENDERBOX_DEV=1 (a development server on plain http).
It sits above every area, so it also adds the demo loader's CLI (`FLASK_APP=wsgi flask seed-demo`)."""
from app import create_app
from app.config import config_from_environment
from demo import register_demo_cli

app = create_app(config_from_environment())
register_demo_cli(app)
celery_app = app.extensions["celery"]
