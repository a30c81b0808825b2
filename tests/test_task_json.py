"""task_json, the one way every route answers a task, never drifts from task_schema."""

import random
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from ironmind_api.tasks.models import Task
from ironmind_api.tasks.schemas import task_json, task_schema
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


def test_task_json_equals_marshmallows_dump_on_2000_varied_rows():
    rows = [SimpleNamespace(**values) for values in varied_rows()]
    expected = task_schema.dump(rows, many=True)
    got = [task_json(row) for row in rows]
    assert got == expected
    # The same keys, and the same types (a str is not a datetime, etc.); responses sort keys.
    for mine, theirs in zip(got, expected, strict=True):
        assert sorted(mine) == sorted(theirs)
        assert [type(mine[k]) for k in theirs] == [type(v) for v in theirs.values()]


def test_task_json_reads_every_dumped_attribute_of_the_schema():
    dumped = {f.attribute or name for name, f in task_schema.dump_fields.items()}
    row = SimpleNamespace(**varied_rows(1)[0])
    for attribute in dumped:  # each attribute the schema dumps is one task_json reads
        partial = SimpleNamespace(**{k: v for k, v in vars(row).items() if k != attribute})
        with pytest.raises(AttributeError):
            task_json(partial)
    assert dumped <= set(Task.__table__.c.keys())


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


def test_every_task_route_answers_what_marshmallow_dumps_of_the_stored_task(client, db):
    headers = bearer(mint(sub="dump-route"))
    created = client.post("/api/tasks", json={"title": "Tâche ✓"}, headers=headers)
    task_id = created.get_json()["id"]
    requests = [
        lambda: created,
        lambda: client.get(f"/api/tasks/{task_id}", headers=headers),
        lambda: client.patch(f"/api/tasks/{task_id}", json={"completed": True}, headers=headers),
        lambda: client.put(f"/api/tasks/{task_id}", json={"title": "Done", "description": "d"},
                           headers=headers),
    ]
    for send in requests:
        response = send()
        db.session.expire_all()
        stored = db.session.scalar(select(Task).where(Task.id == task_id))
        assert response.status_code in (200, 201)
        assert response.get_json() == task_schema.dump(stored), response.request.method


def test_the_rows_the_list_and_insert_read_carry_every_column_of_the_table():
    from ironmind_api.tasks.service import TaskRow

    assert set(TaskRow.__annotations__) == set(Task.__table__.c.keys())
