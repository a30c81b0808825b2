"""The security and caching headers every response carries."""

from flask import request

NO_STORE_PREFIXES = ("/api/auth", "/api/tasks")
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app):
    app.after_request(add_security_headers)


def add_security_headers(response):
    headers = response.headers
    # CORS headers depend on the request's Origin (flask-cors sends none without one).
    vary = headers.get("Vary")
    if vary is None:
        headers.add("Vary", "Origin")
    elif "origin" not in vary.lower():
        headers["Vary"] = f"{vary}, Origin"
    # No view sets these two, so they are added without first looking for them.
    headers.add("X-Content-Type-Options", "nosniff")
    headers.add("Referrer-Policy", "no-referrer")
    if request.path.startswith(NO_STORE_PREFIXES):
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers.add("Strict-Transport-Security", HSTS)
    return response
