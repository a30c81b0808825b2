"""The Postman environments point where the README's servers listen (newman runs them too:
.ci/steps/60-newman.sh runs the collection twice against the quick start and against gunicorn)."""

import json
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from config import DEVELOPMENT_SECRET

POSTMAN = Path(__file__).resolve().parent.parent / "postman"


def environment(name):
    data = json.loads((POSTMAN / f"{name}.postman_environment.json").read_text())
    return {value["key"]: value["value"] for value in data["values"] if value["enabled"]}


def test_quick_start_environment_matches_flask_run_and_the_development_secret():
    env = environment("quickstart")
    assert env["baseUrl"] == "http://127.0.0.1:5000"  # flask run's default address
    assert env["secret"] == DEVELOPMENT_SECRET


def test_compose_environment_uses_the_port_compose_publishes():
    # Clients reach the API through nginx, the only service that publishes its port.
    services = yaml.safe_load((POSTMAN.parent / "docker-compose.yml").read_text())["services"]
    published = {str(mapping).split(":")[0] for mapping in services["nginx"]["ports"]}
    assert str(urlsplit(environment("compose")["baseUrl"]).port) in published
