"""The ceiling: a bare Flask app returning a fixed small JSON, served by the same gunicorn
settings as the API (``gunicorn -c gunicorn.conf.py bench.bare_app:app``)."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify(status="ok")
