"""pyproject.toml describes the project; requirements.txt stays the pinned install file."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pins(lines):
    lines = (line.strip() for line in lines)
    return sorted(line for line in lines if line and not line.startswith(("#", "-")))


def test_the_project_table_lists_exactly_the_pinned_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()

    assert project["name"] == "ironmind-api" and project["version"]
    assert project["requires-python"] == ">=3.11"
    assert sorted(project["dependencies"]) == pins(requirements)


def test_mypy_checks_the_package_in_ci():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["files"] == ["ironmind_api"]
    steps = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / ".ci/steps").glob("*.sh"))
    assert "mypy" in steps
    assert any(line.startswith("mypy==") for line in (ROOT / "requirements-dev.txt").open())
