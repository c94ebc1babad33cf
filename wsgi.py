"""WSGI entry point for gunicorn (`gunicorn wsgi:app`) and the Celery worker (`celery -A wsgi.celery_app worker`).

It sits above every area, so it also adds the demo loader's CLI (`FLASK_APP=wsgi flask seed-demo`)."""
from app import create_app
from demo import register_demo_cli

app = create_app()
register_demo_cli(app)
celery_app = app.extensions["celery"]
