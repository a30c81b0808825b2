"""The Dockerfile builds the image the way the deployment notes promise."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINES = [
    line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines() if line.strip()
]


def index_of(prefix):
    return next(i for i, line in enumerate(LINES) if line.startswith(prefix))


def test_base_image_is_slim_python_311():
    assert LINES[index_of("FROM")] == "FROM python:3.11-slim"


def test_requirements_are_installed_before_the_code_is_copied():
    assert index_of("COPY requirements.txt") < index_of("RUN pip install") < index_of("COPY . .")


def test_runs_as_a_non_root_user():
    user = LINES[index_of("USER")].split()[1]
    assert user not in ("root", "0")
    assert index_of("USER") > index_of("COPY . .")


def test_output_is_unbuffered_and_healthchecked():
    assert "PYTHONUNBUFFERED=1" in " ".join(LINES)
    assert "docker/healthcheck.py" in LINES[index_of("HEALTHCHECK") + 1]


def test_entrypoint_migrates_then_execs_gunicorn():
    assert LINES[index_of("ENTRYPOINT")] == 'ENTRYPOINT ["./docker/entrypoint.sh"]'
    script = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert script.index("flask --app wsgi db upgrade") < script.index(
        "exec gunicorn -c gunicorn.conf.py wsgi:app"
    )


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for entry in (".env", ".venv", ".git", "tests"):
        assert entry in ignored
