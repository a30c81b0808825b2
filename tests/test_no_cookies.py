"""The API authenticates with bearer tokens only: it never reads or sets a cookie."""

from flask import session

from ironmind_api.http.sessions import NoSessions


def test_no_response_ever_sets_a_cookie(client, signup, signin):
    signup()
    tokens = signin()
    headers = {"Authorization": f"Bearer {tokens['token']}", "Cookie": "session=eyJ4IjoxfQ.x.y"}
    cors = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    responses = [
        client.get("/health", headers=headers),
        client.get("/api/protected", headers=headers),
        client.get("/api/auth/me", headers=headers),
        client.post("/api/tasks", json={"title": "t"}, headers=headers),
        client.get("/api/tasks", headers=headers),
        client.get("/api/openapi.json"),
        client.get("/api/docs"),
        client.get("/nowhere", headers=headers),
        client.delete("/health"),
        client.options("/api/tasks", headers=cors),
        client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
        client.post("/api/auth/signout", json={}, headers=headers),
        client.get("/api/protected", headers=headers),
    ]
    for response in responses:
        assert "Set-Cookie" not in response.headers, response.request.path


def test_no_cookie_session_is_opened(app):
    assert isinstance(app.session_interface, NoSessions)
    with app.test_request_context("/health", headers={"Cookie": "session=anything"}):
        assert session.get("x") is None and not session
