"""The headers every response carries: security and caching, and CORS where an Origin asks."""

from flask_cors.core import get_cors_options, set_cors_headers

NO_STORE_PREFIXES = ("/api/auth", "/api/tasks")
HSTS = "max-age=31536000; includeSubDomains"


def cors_options(app):
    """flask-cors' options for the configured origins, computed once per app."""
    return get_cors_options(
        app,
        {
            "origins": app.config["CORS_ORIGINS"],
            "always_send": False,  # an empty Origin is no origin: nothing is granted
            "supports_credentials": True,
            "allow_headers": ["Authorization", "Content-Type", "X-Request-ID"],
            "expose_headers": ["X-Request-ID", "Link", "Location", "Retry-After"],
        },
    )


def add_headers(response, environ, path, cors):
    headers = response.headers
    # A request without an Origin is not a CORS request: no CORS header grants a browser
    # anything there, so flask-cors is consulted only when one is sent. Every response says
    # "Vary: Origin", so no cache mixes the two.
    if "HTTP_ORIGIN" in environ:
        set_cors_headers(response, cors)
    vary = headers.get("Vary")
    if vary is None:
        headers.add("Vary", "Origin")
    elif "origin" not in vary.lower():
        headers["Vary"] = f"{vary}, Origin"
    # No view sets these two, so they are added without first looking for them.
    headers.add("X-Content-Type-Options", "nosniff")
    headers.add("Referrer-Policy", "no-referrer")
    if path.startswith(NO_STORE_PREFIXES):
        headers["Cache-Control"] = "no-store"
    # The scheme as ProxyFix leaves it: X-Forwarded-Proto counts from a trusted proxy only.
    if environ["wsgi.url_scheme"] == "https":
        headers.add("Strict-Transport-Security", HSTS)
