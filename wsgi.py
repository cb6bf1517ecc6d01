"""WSGI entry point: gunicorn wsgi:app, or FLASK_APP=wsgi."""

from grants import create_app

app = create_app()
