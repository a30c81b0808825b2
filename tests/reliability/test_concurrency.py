"""Parallel writers: every acknowledged task exists once, with what was sent."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ironmind_api.auth.models import better_auth_user_id

from .harness import Client, mint, next_link, subject

pytestmark = pytest.mark.reliability

CLIENTS = 8
TASKS_EACH = 250


def create_tasks(port, sub, count):
    client = Client(port, mint(sub))
    sent = []
    try:
        for n in range(count):
            body = {"title": f"{sub} #{n}", "description": f"body {n} of {sub}",
                    "completed": n % 3 == 0}
            sent.append((body, client.post("/api/tasks", body)))
    finally:
        client.close()
    return sub, sent


def listed_ids(port, sub):
    client = Client(port, mint(sub))
    ids, path = [], "/api/tasks?limit=100"
    while path:
        response = client.get(path)
        assert response.status == 200, response
        ids.extend(task["id"] for task in response.json())
        path = next_link(response)
    client.close()
    return ids


def test_parallel_creations_are_all_stored_once_with_their_bodies(server, empty_db):
    subs = [subject(f"writer{i}") for i in range(CLIENTS)]
    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda sub: create_tasks(server.port, sub, TASKS_EACH), subs))
    elapsed = time.monotonic() - started
    slowest = max(response.elapsed for _, sent in results for _, response in sent)
    print(f"creations: {CLIENTS * TASKS_EACH} in {elapsed:.1f} s, slowest {slowest:.2f} s")

    created = {}
    for sub, sent in results:
        for body, response in sent:
            assert response.status == 201, response
            task = response.json()
            assert task["userId"] == sub
            assert {k: task[k] for k in body} == body
            created[task["id"]] = (sub, body)
    assert len(created) == CLIENTS * TASKS_EACH

    rows = empty_db.rows("SELECT id, user_id, title, description, completed FROM tasks")
    assert len(rows) == CLIENTS * TASKS_EACH
    for task_id, user_id, title, description, completed in rows:
        sub, body = created[task_id]
        assert (user_id, title, description, completed) == (
            better_auth_user_id(sub), body["title"], body["description"], body["completed"]
        )
    assert empty_db.rows("SELECT count(*) FROM users")[0][0] == CLIENTS

    for sub in subs:
        ids = listed_ids(server.port, sub)
        assert len(ids) == len(set(ids)) == TASKS_EACH
        assert set(ids) == {i for i, (owner, _) in created.items() if owner == sub}
