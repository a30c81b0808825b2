"""The WSGI entry point gunicorn serves: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

from ironmind_api import create_app

app = create_app()
