"""WSGI entry point for gunicorn (`gunicorn wsgi:app`) and the Celery worker (`celery -A wsgi.celery_app worker`)."""
from app import create_app

app = create_app()
celery_app = app.extensions["celery"]
