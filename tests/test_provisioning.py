"""A token subject seen for the first time becomes a local user once, even under a race."""

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from ironmind_api.auth.models import User, better_auth_user_id
from ironmind_api.tasks.models import Task
from tests.conftest import bearer, mint

CONCURRENT_REQUESTS = 8
ROUNDS = 5


def first_requests_at_once(app, token):
    """GET /api/auth/me and POST /api/tasks, half each, released together from a barrier."""
    barrier = threading.Barrier(CONCURRENT_REQUESTS)

    def call(index):
        client = app.test_client()
        barrier.wait()
        if index % 2:
            return client.get("/api/auth/me", headers=bearer(token)).status_code
        return client.post("/api/tasks", json={"title": "first"}, headers=bearer(token)).status_code

    with ThreadPoolExecutor(CONCURRENT_REQUESTS) as pool:
        return sorted(pool.map(call, range(CONCURRENT_REQUESTS)))


def test_concurrent_first_requests_provision_the_user_once(app, db):
    for round_ in range(ROUNDS):
        sub = f"ba-racer-{round_}"
        token = mint(sub, email=f"Racer{round_}@example.com", name="Racer")

        statuses = first_requests_at_once(app, token)

        half = CONCURRENT_REQUESTS // 2
        assert statuses == [200] * half + [201] * half
        db.session.remove()
        user_id = better_auth_user_id(sub)
        user = db.session.scalars(select(User).where(User.id == user_id)).one()
        assert (user.email, user.name) == (f"racer{round_}@example.com", "Racer")
        tasks = db.session.scalar(select(func.count()).where(Task.user_id == user_id))
        assert tasks == half


def test_subject_whose_email_belongs_to_a_local_account_is_provisioned_without_it(
    client, user
):
    token = mint("ba-other", email=user["email"], name="Impostor")

    response = client.get("/api/auth/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.get_json()["user"]["email"] is None
    assert response.get_json()["user"]["id"] == "ba-other"
