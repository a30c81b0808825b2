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


def test_a_request_without_origin_gets_no_cors_headers_and_every_response_varies_on_origin(
    client,
):
    plain = client.get("/health")
    from_frontend = client.get("/health", headers={"Origin": "http://localhost:3000"})

    assert not [name for name in plain.headers.keys() if name.startswith("Access-Control-")]
    assert from_frontend.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert from_frontend.headers["Access-Control-Allow-Credentials"] == "true"
    for response in (plain, from_frontend):
        assert response.headers.getlist("Vary") == ["Origin"]


def test_several_origins_still_vary_on_origin_once(make_app):
    app = make_app(CORS_ORIGINS=["https://a.example", "https://b.example"])

    response = app.test_client().get("/health", headers={"Origin": "https://b.example"})

    assert response.headers["Access-Control-Allow-Origin"] == "https://b.example"
    vary_lines = response.headers.getlist("Vary")
    varies = [v.strip().lower() for line in vary_lines for v in line.split(",")]
    assert varies.count("origin") == 1


def test_refusals_and_errors_from_the_frontend_carry_its_grant(client):
    # A browser hides an answer without the grant: the frontend must see the 401 to refresh.
    origin = {"Origin": "http://localhost:3000"}
    refused = client.get("/api/protected", headers=origin)
    missing = client.get("/api/no-such-route", headers=origin)
    bad_body = client.post("/api/tasks", headers=origin, data="{", content_type="text/plain")

    for response, status in ((refused, 401), (missing, 404), (bad_body, 415)):
        assert response.status_code == status
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert response.headers.getlist("Vary") == ["Origin"]


def test_an_empty_origin_is_granted_nothing(client):
    response = client.get("/health", headers={"Origin": ""})

    assert not [name for name in response.headers.keys() if name.startswith("Access-Control-")]
