"""/api/docs rendered by a real headless Chromium, against the API served over HTTP."""

import shutil
import subprocess
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import require_service
from tests.services import chromium_problem, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OPERATIONS = [
    ("GET", "/api/tasks"), ("POST", "/api/tasks"), ("GET", "/api/tasks/{task_id}"),
    ("PUT", "/api/tasks/{task_id}"), ("PATCH", "/api/tasks/{task_id}"),
    ("DELETE", "/api/tasks/{task_id}"), ("POST", "/api/auth/signup"),
    ("POST", "/api/auth/signin"), ("POST", "/api/auth/refresh"),
    ("POST", "/api/auth/signout"), ("GET", "/api/auth/me"), ("GET", "/api/protected"),
    ("GET", "/health"), ("GET", "/health/ready"),
]


@pytest.fixture
def served_app(app, db):
    server = make_server("127.0.0.1", free_port(reuse_address=True), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def chromium(tmp_path, *args):
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-quic", "--no-first-run",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,4000",
        "--virtual-time-budget=15000", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_docs_render_every_operation_in_chromium(served_app, tmp_path):
    require_service(chromium_problem(CHROMIUM))
    dom = chromium(tmp_path, "--dump-dom", f"{served_app}/api/docs").stdout
    assert "swagger-ui" in dom and "IRONMIND API" in dom
    for method, path in OPERATIONS:
        assert f'data-path="{path}"' in dom, path
        assert f"opblock-{method.lower()}" in dom, method
    assert dom.count("opblock-summary-method") >= len(OPERATIONS)

    screenshot = tmp_path / "docs.png"
    chromium(tmp_path, f"--screenshot={screenshot}", f"{served_app}/api/docs")
    png = screenshot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 50_000
