"""The task list's compiled dumper never drifts from task_schema, the documented contract."""

import random
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from marshmallow import Schema, fields, post_dump

from ironmind_api.dumping import UnsupportedSchema, compile_dumper
from ironmind_api.tasks.models import Task
from ironmind_api.tasks.schemas import TASK_ROW_ATTRIBUTES, dump_task_row, task_schema
from tests.conftest import bearer, mint

TEXTS = ["", " ", "a", "Buy milk", "Tâche ✓", "日本語のタスク", "emoji 🎉", "quote \" \\ /",
         "line\nbreak\ttab", "\u2028\u2029", "x" * 200, "y" * 2000, "<b>html</b>", "0", "null"]
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]


def varied_rows(count=2000, seed=11):
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        moment = datetime(1970 + rng.randrange(0, 130), rng.randrange(1, 13), rng.randrange(1, 29),
                          rng.randrange(24), rng.randrange(60), rng.randrange(60),
                          rng.choice([0, rng.randrange(1_000_000)]), tzinfo=rng.choice(ZONES))
        values = {
            "id": f"{rng.getrandbits(128):032x}"[: rng.choice([32, 36, 8])],
            "title": rng.choice(TEXTS) + str(i),
            "description": rng.choice([None, *TEXTS]),
            "completed": rng.choice([True, False]),
            "user_id": rng.choice(["user-1", "u" * 255, "sübject"]),
            "created_at": moment,
            "updated_at": moment + timedelta(microseconds=rng.randrange(10**9)),
        }
        rows.append(values)
    return rows


def test_compiled_dump_equals_marshmallows_on_2000_varied_rows():
    rows = varied_rows()
    expected = task_schema.dump([SimpleNamespace(**values) for values in rows], many=True)
    got = [dump_task_row(tuple(values[a] for a in TASK_ROW_ATTRIBUTES)) for values in rows]
    assert got == expected
    # Same keys in the same order, and the same types (a str is not a datetime, etc.).
    for mine, theirs in zip(got, expected, strict=True):
        assert list(mine) == list(theirs)
        assert [type(v) for v in mine.values()] == [type(v) for v in theirs.values()]


def test_the_row_reads_every_dumped_attribute_of_the_schema():
    dumped = {f.attribute or name for name, f in task_schema.dump_fields.items()}
    assert set(TASK_ROW_ATTRIBUTES) == dumped
    assert set(TASK_ROW_ATTRIBUTES) <= set(Task.__table__.c.keys())


def test_the_list_endpoint_answers_what_marshmallow_dumps_of_the_stored_tasks(client, db):
    token = mint(sub="dump-check")
    for i, title in enumerate(TEXTS[1:12]):
        body = {"title": title[:150] + str(i), "description": TEXTS[-i], "completed": i % 2 == 0}
        assert client.post("/api/tasks", json=body, headers=bearer(token)).status_code == 201
    page = client.get("/api/tasks?limit=100", headers=bearer(token)).get_json()
    stored = db.session.scalars(
        db.select(Task).where(Task.user_id == "dump-check")
        .order_by(Task.created_at.desc(), Task.id.desc())
    ).all()
    assert len(page) == 11
    assert page == task_schema.dump(stored, many=True)


class Hooked(Schema):
    name = fields.String()

    @post_dump
    def shout(self, data, **kwargs):
        return data


@pytest.mark.parametrize(
    "schema",
    [
        Hooked(),
        Schema.from_dict({"n": fields.Integer()})(),
        Schema.from_dict({"d": fields.DateTime(format="%Y")})(),
        Schema.from_dict({"s": fields.String(attribute="a.b")})(),
    ],
)
def test_what_it_cannot_reproduce_is_refused_when_compiled(schema):
    with pytest.raises(UnsupportedSchema):
        compile_dumper(schema)


def test_booleans_and_text_follow_marshmallow_for_unusual_values():
    schema = Schema.from_dict({"b": fields.Boolean(), "s": fields.String(data_key="S")})()
    attributes, dump = compile_dumper(schema)
    assert attributes == ("b", "s")
    for b, s in [(1, b"bytes"), ("f", 3), ("no", None), (None, "x"), ([], 1.5), ("on", True)]:
        assert dump((b, s)) == schema.dump({"b": b, "s": s})
