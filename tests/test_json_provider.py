"""orjson as Flask's JSON provider: the documents Flask's default provider wrote, key order and
trailing newline included; what orjson cannot write falls back to Flask's provider."""

import dataclasses
import decimal
import json
import uuid
from datetime import UTC, date, datetime

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from ironmind_api.http.json import OrjsonProvider


@dataclasses.dataclass
class Point:
    x: int
    y: str


def providers(debug=False):
    app = Flask(__name__)
    app.debug = debug
    return OrjsonProvider(app), DefaultJSONProvider(app), app


VALUES = [
    {"b": 1, "a": [True, False, None], "c": {"z": 1.5, "y": "text"}},
    {"title": "Tâche ✓ \u2028 \"quoted\" \\ back", "n": -12345678901234},
    [{"id": str(uuid.UUID(int=7)), "createdAt": "2026-01-01T00:00:00+00:00"}] * 3,
    {"when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "day": date(2026, 1, 2)},
    {"amount": decimal.Decimal("1.10"), "id": uuid.UUID(int=9), "point": Point(1, "b")},
    {"big": 2**80, "small": 1},
    [],
    "plain",
]


def test_documents_equal_flasks_own():
    fast, default, app = providers()
    with app.app_context():
        for value in VALUES:
            assert fast.dumps(value) == default.dumps(value)
            ours, theirs = fast.response(value), default.response(value)
            assert ours.mimetype == theirs.mimetype == "application/json"
            assert ours.get_data().endswith(b"\n") and theirs.get_data().endswith(b"\n")
            assert json.loads(ours.get_data()) == json.loads(theirs.get_data())


def test_keys_sorted_and_compact_as_before():
    fast, default, app = providers()
    value = {"b": {"d": 1, "c": 2}, "a": "x"}
    with app.app_context():
        assert fast.response(value).get_data() == b'{"a":"x","b":{"c":2,"d":1}}\n'
        assert fast.response(value).get_data() == default.response(value).get_data()
        assert fast.response(b=1, a=2).get_data() == b'{"a":2,"b":1}\n'


def test_debug_indent_uses_flasks_provider():
    fast, default, app = providers(debug=True)
    with app.app_context():
        assert fast.response({"a": 1}).get_data() == default.response({"a": 1}).get_data()
    assert b"\n  " in fast.response({"a": 1}).get_data()


def test_the_app_answers_through_orjson(client):
    from ironmind_api import create_app  # noqa: F401 - the app fixture built it

    assert isinstance(client.application.json, OrjsonProvider)
    response = client.get("/health")
    assert response.get_data() == b'{"status":"ok"}\n'
