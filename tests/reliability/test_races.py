"""Concurrent requests on one user or one task: no duplicate, no mix, no 500."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from ironmind_api.auth.models import better_auth_user_id

from .harness import Client, mint, subject

pytestmark = pytest.mark.reliability

CONCURRENCY = 16


def all_at_once(count, call):
    """Run call(i) in count threads released together."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait(timeout=10)
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.parametrize("first_request", ["me", "create_task"])
def test_concurrent_first_sight_of_a_subject_provisions_one_user(server, empty_db, first_request):
    sub = subject("newcomer")
    token = mint(sub, email=f"{sub}@example.com", name="New Comer")

    def call(i):
        client = Client(server.port, token)
        try:
            if first_request == "me":
                return client.get("/api/auth/me")
            return client.post("/api/tasks", {"title": f"first {i}"})
        finally:
            client.close()

    responses = all_at_once(CONCURRENCY, call)

    expected = 200 if first_request == "me" else 201
    assert [r.status for r in responses] == [expected] * CONCURRENCY, responses
    users = empty_db.rows("SELECT id, email, name FROM users")
    assert users == [(better_auth_user_id(sub), f"{sub}@example.com", "New Comer")]
    if first_request == "me":
        assert {r.json()["user"]["id"] for r in responses} == {sub}
    else:
        owned = empty_db.rows(
            "SELECT count(*) FROM tasks WHERE user_id = %s", better_auth_user_id(sub)
        )
        assert owned == [(16,)]


def test_concurrent_patches_leave_one_written_state(server, empty_db):
    client = Client(server.port, mint(subject("patcher")))
    task = client.post("/api/tasks", {"title": "original", "description": "original"}).json()
    client.close()
    # Every writer changes every field, alternating completed, so a mix is detectable.
    written = [
        {"title": f"title {i}", "description": f"description {i}", "completed": i % 2 == 0}
        for i in range(CONCURRENCY)
    ]
    token = client.token

    def call(i):
        patcher = Client(server.port, token)
        try:
            return patcher.patch(f"/api/tasks/{task['id']}", written[i])
        finally:
            patcher.close()

    responses = all_at_once(CONCURRENCY, call)

    assert [r.status for r in responses] == [200] * CONCURRENCY, responses
    states = [tuple(state.values()) for state in written]
    for response in responses:
        body = response.json()
        assert (body["title"], body["description"], body["completed"]) in states
    final = empty_db.rows("SELECT title, description, completed FROM tasks WHERE id = %s",
                          task["id"])
    assert len(final) == 1 and final[0] in states
