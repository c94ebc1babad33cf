"""WSGI entry point for gunicorn (`gunicorn wsgi:app`) and the Celery worker (`celery -A wsgi.celery_app worker`).

Production configuration (Secure cookies, HSTS) unless TENDERBOX_DEV=1 (a development server on plain http)."""
from app import create_app
from app.config import config_from_environment

app = create_app(config_from_environment())
celery_app = app.extensions["celery"]
