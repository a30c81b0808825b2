"""Tasks: each user's own, newest first, a page at a time."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ironmind_api.tasks.models import Task
from tests.conftest import bearer, mint


def create(client, headers, **body):
    body.setdefault("title", "Write the report")
    response = client.post("/api/tasks", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def walk(client, headers, url="/api/tasks?limit=50"):
    """Follow the Link rel="next" headers; return every page's ids."""
    pages = []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        pages.append([task["id"] for task in response.get_json()])
        link = response.headers.get("Link")
        url = link[link.index("<") + 1 : link.index(">")] if link else None
        if link:
            assert link.endswith('rel="next"')
    return pages


def test_create_returns_the_task_and_its_location(client, user, auth_headers):
    response = client.post(
        "/api/tasks",
        json={"title": "  Plan the sprint  ", "description": "Q3"},
        headers=auth_headers,
    )

    assert response.status_code == 201
    task = response.get_json()
    assert task["title"] == "Plan the sprint"
    assert task["description"] == "Q3"
    assert task["completed"] is False
    assert task["userId"] == user["id"]
    assert set(task) == {
        "id",
        "title",
        "description",
        "completed",
        "userId",
        "createdAt",
        "updatedAt",
    }
    assert task["createdAt"].endswith(("Z", "+00:00"))
    assert response.headers["Location"].endswith(f"/api/tasks/{task['id']}")
    assert client.get(response.headers["Location"], headers=auth_headers).get_json() == task


def test_a_forged_user_id_in_the_body_is_ignored(client, user, auth_headers, other_headers):
    task = create(client, auth_headers, userId="someone-else", id="chosen-id")

    assert task["userId"] == user["id"]
    assert task["id"] != "chosen-id"
    assert client.get("/api/tasks", headers=other_headers).get_json() == []


def test_a_token_minted_outside_the_api_can_create_and_list_tasks(client, db):
    headers = bearer(mint("better-auth-user-9"))

    task = create(client, headers, title="From the frontend")
    listed = client.get("/api/tasks", headers=headers).get_json()

    assert task["userId"] == "better-auth-user-9"
    assert [t["id"] for t in listed] == [task["id"]]


def test_list_is_newest_first(client, auth_headers):
    first = create(client, auth_headers, title="first")
    second = create(client, auth_headers, title="second")

    listed = client.get("/api/tasks", headers=auth_headers).get_json()

    assert [t["id"] for t in listed] == [second["id"], first["id"]]


def test_list_filters_by_completion(client, auth_headers):
    done = create(client, auth_headers, title="done", completed=True)
    todo = create(client, auth_headers, title="todo")

    completed = client.get("/api/tasks?completed=true", headers=auth_headers).get_json()
    open_ = client.get("/api/tasks?completed=false", headers=auth_headers).get_json()

    assert [t["id"] for t in completed] == [done["id"]]
    assert [t["id"] for t in open_] == [todo["id"]]


def test_pagination_walks_120_tasks_without_duplicates_or_gaps(client, auth_headers):
    created = [create(client, auth_headers, title=f"task {i}")["id"] for i in range(120)]

    pages = walk(client, auth_headers)

    assert [len(page) for page in pages] == [50, 50, 20]
    ids = [task_id for page in pages for task_id in page]
    assert ids == list(reversed(created))


def test_pagination_is_exact_when_tasks_share_a_creation_timestamp(client, db, user, auth_headers):
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.add_all(
        Task(user_id=user["id"], title=f"same {i}", created_at=moment, updated_at=moment)
        for i in range(120)
    )
    db.session.commit()

    pages = walk(client, auth_headers)

    ids = [task_id for page in pages for task_id in page]
    assert [len(page) for page in pages] == [50, 50, 20]
    assert len(set(ids)) == 120
    assert sorted(ids, reverse=True) == ids


def test_the_next_link_keeps_the_filter_and_limit(client, auth_headers):
    for i in range(3):
        create(client, auth_headers, title=f"done {i}", completed=True)
    create(client, auth_headers, title="open")

    pages = walk(client, auth_headers, "/api/tasks?completed=true&limit=2")

    assert [len(page) for page in pages] == [2, 1]


def test_the_last_page_has_no_next_link(client, auth_headers):
    create(client, auth_headers)

    response = client.get("/api/tasks?limit=1", headers=auth_headers)

    assert "Link" not in response.headers


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=-1", "limit=abc", "completed=maybe"]
)
def test_bad_query_parameters_are_400(client, auth_headers, query):
    response = client.get(f"/api/tasks?{query}", headers=auth_headers)

    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert "fields" not in response.get_json()


def test_a_tampered_cursor_is_400(client, auth_headers):
    for i in range(3):
        create(client, auth_headers, title=f"t{i}")
    link = client.get("/api/tasks?limit=1", headers=auth_headers).headers["Link"]
    cursor = link.split("cursor=")[1].split("&")[0].split(">")[0]

    response = client.get(f"/api/tasks?cursor={cursor[:-2]}xx", headers=auth_headers)

    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"


def test_get_returns_the_task(client, auth_headers):
    task = create(client, auth_headers)

    response = client.get(f"/api/tasks/{task['id']}", headers=auth_headers)

    assert response.status_code == 200
    assert response.get_json() == task


def test_put_replaces_every_writable_field(client, auth_headers):
    task = create(client, auth_headers, title="old", description="old", completed=True)

    response = client.put(f"/api/tasks/{task['id']}", json={"title": "new"}, headers=auth_headers)

    assert response.status_code == 200
    replaced = response.get_json()
    assert (replaced["title"], replaced["description"], replaced["completed"]) == (
        "new",
        None,
        False,
    )
    assert replaced["createdAt"] == task["createdAt"]
    assert replaced["updatedAt"] >= task["updatedAt"]


def test_put_accepts_a_task_sent_back_as_received(client, auth_headers):
    task = create(client, auth_headers)

    response = client.put(
        f"/api/tasks/{task['id']}", json={**task, "completed": True}, headers=auth_headers
    )

    assert response.status_code == 200
    assert response.get_json()["completed"] is True


def test_put_requires_a_title(client, auth_headers):
    task = create(client, auth_headers)

    response = client.put(
        f"/api/tasks/{task['id']}", json={"completed": True}, headers=auth_headers
    )

    assert response.status_code == 422
    assert "title" in response.get_json()["fields"]


def test_patch_changes_only_the_fields_sent(client, auth_headers):
    task = create(client, auth_headers, title="keep", description="keep")

    response = client.patch(
        f"/api/tasks/{task['id']}", json={"completed": True}, headers=auth_headers
    )

    patched = response.get_json()
    assert response.status_code == 200
    assert (patched["title"], patched["description"], patched["completed"]) == (
        "keep",
        "keep",
        True,
    )


def test_patch_can_clear_the_description(client, auth_headers):
    task = create(client, auth_headers, description="x")

    response = client.patch(
        f"/api/tasks/{task['id']}", json={"description": None}, headers=auth_headers
    )

    assert response.get_json()["description"] is None


def test_delete_answers_204_with_an_empty_body(client, db, auth_headers):
    task = create(client, auth_headers)

    response = client.delete(f"/api/tasks/{task['id']}", headers=auth_headers)

    assert response.status_code == 204
    assert response.get_data() == b""
    assert db.session.scalar(select(func.count()).select_from(Task)) == 0
    assert client.get(f"/api/tasks/{task['id']}", headers=auth_headers).status_code == 404


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_a_missing_task_is_404(client, auth_headers, method):
    response = client.open(
        "/api/tasks/does-not-exist", method=method, headers=auth_headers, json={"title": "x"}
    )

    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_other_users_task_is_not_found(client, db, auth_headers, other_headers, method):
    task = create(client, auth_headers, title="mine")

    response = client.open(
        f"/api/tasks/{task['id']}", method=method, headers=other_headers, json={"title": "stolen"}
    )
    missing = client.open(
        "/api/tasks/never-existed", method=method, headers=other_headers, json={"title": "stolen"}
    )

    assert response.status_code == 404
    assert response.get_json()["error"] == missing.get_json()["error"] == "not_found"
    assert response.get_json()["message"] == missing.get_json()["message"]
    assert db.session.get(Task, task["id"]).title == "mine"


def test_lists_never_show_another_users_tasks(client, auth_headers, other_headers):
    mine = create(client, auth_headers, title="mine")
    theirs = create(client, other_headers, title="theirs")

    assert [t["id"] for t in client.get("/api/tasks", headers=auth_headers).get_json()] == [
        mine["id"]
    ]
    assert [t["id"] for t in client.get("/api/tasks", headers=other_headers).get_json()] == [
        theirs["id"]
    ]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": None}, "title"),
        ({"title": 5}, "title"),
        ({"title": "ok", "description": "d" * 2001}, "description"),
        ({"title": "ok", "completed": "yes"}, "completed"),
        ({"title": "ok", "completed": None}, "completed"),
        ({"title": "ok", "priority": 1}, "priority"),
    ],
)
def test_create_rejects_invalid_bodies(client, db, auth_headers, body, field):
    response = client.post("/api/tasks", json=body, headers=auth_headers)

    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert db.session.scalar(select(func.count()).select_from(Task)) == 0


def test_titles_of_exactly_200_characters_after_trimming_are_accepted(client, auth_headers):
    task = create(client, auth_headers, title="  " + "x" * 200 + "  ")

    assert task["title"] == "x" * 200


def test_timestamps_are_utc(client, auth_headers):
    task = create(client, auth_headers)

    created = datetime.fromisoformat(task["createdAt"].replace("Z", "+00:00"))

    assert created.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)
