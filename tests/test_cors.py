"""CORS grants exactly the configured frontend origins."""


def preflight(client, origin):
    return client.options(
        "/api/tasks",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )


def test_preflight_from_the_frontend_is_granted(client):
    response = preflight(client, "http://localhost:3000")

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_another_origin_gets_no_grant(client):
    response = preflight(client, "https://evil.example")

    assert "Access-Control-Allow-Origin" not in response.headers


def test_responses_expose_the_contract_headers(client):
    response = client.get("/health", headers={"Origin": "http://localhost:3000"})

    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-Request-ID", "Link", "Location", "Retry-After"} <= exposed


def test_origins_come_from_configuration(make_app):
    app = make_app(CORS_ORIGINS=["https://app.example"])

    granted = preflight(app.test_client(), "https://app.example")
    refused = preflight(app.test_client(), "http://localhost:3000")

    assert granted.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Access-Control-Allow-Origin" not in refused.headers
