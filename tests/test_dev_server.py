"""`flask --app wsgi run`, the quick start's server: says where it listens, and what is wrong."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import APP_VARIABLES, ROOT
from tests.services import free_port


@pytest.fixture
def dev_server(tmp_path):
    """Start `flask --app wsgi run` on a database no migration has run on; yield its output."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(APP_VARIABLES)}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        DATABASE_URL=f"sqlite:///{tmp_path}/fresh.db",
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen(
        ["flask", "--app", "wsgi", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        yield port, lines
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(lines, text, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(text in line for line in lines):
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not printed within {seconds} s:\n{''.join(lines)}")


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_flask_run_prints_where_it_listens_and_that_the_schema_is_behind(dev_server):
    port, lines = dev_server

    wait_for(lines, f"Running on http://127.0.0.1:{port}")
    # A line a person reads and a terminal can link, not a string escaped inside JSON.
    assert f" * Running on http://127.0.0.1:{port}\n" in lines
    status, body = get(port, "/health/ready")

    assert (status, body) == (503, {"status": "unavailable", "database": "ok", "schema": "behind"})
    wait_for(lines, "/health/ready")  # the app's own access line
    output = "".join(lines)
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(record.get("path") == "/health/ready" for record in records)
    errors = [record for record in records if record["level"] == "ERROR"]
    assert [error["message"] for error in errors] == [
        "database schema is not at the latest migration (at no migration, head is 0004): "
        "run `flask --app wsgi db upgrade`"
    ]
    assert "GET /health/ready HTTP" not in output  # werkzeug's own request line stays off
    assert "\x1b[" not in output
    assert "Traceback" not in output
