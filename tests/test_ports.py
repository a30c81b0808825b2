"""Tests and CI scripts listen only on the project's fixed port ranges (docs/DEVELOPMENT.md)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Asking the OS for any free port: it lands outside every range, and two runs cannot tell apart
# whose server they reach.
EPHEMERAL = re.compile(
    r"""bind\(\(["']127\.0\.0\.1["'], 0\)\)|make_server\([^,()]+, 0\b|--port[ =]0\b"""
)


def test_no_test_or_ci_script_asks_the_os_for_an_ephemeral_port():
    files = [
        *ROOT.glob("tests/**/*.py"), *ROOT.glob(".ci/**/*"), *ROOT.glob("bench/**/*.py"),
        ROOT / "postman" / "run.sh", ROOT / "bench" / "run",
    ]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files
        if path.is_file() and path.name != "test_ports.py" and "node_modules" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if EPHEMERAL.search(line)
    ]
    assert offenders == []
