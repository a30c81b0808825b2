"""Proxy trust, no cookie sessions, and the security headers every response carries."""

from flask import request
from flask.sessions import SessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

NO_STORE_PREFIXES = ("/api/auth", "/api/tasks")
HSTS = "max-age=31536000; includeSubDomains"


class NoSessions(SessionInterface):
    """Bearer tokens only: no session cookie is ever parsed, signed or set."""

    def open_session(self, app, request):
        return None  # Flask then uses its NullSession, which refuses writes

    def save_session(self, app, session, response):
        return None


def configure_http(app):
    app.session_interface = NoSessions()
    # Without trusted proxies, X-Forwarded-For/-Proto are ignored: remote_addr and scheme are
    # the socket's, so a client cannot pick its rate-limit key or fake HTTPS.
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.after_request(add_security_headers)


def add_security_headers(response):
    headers = response.headers
    # CORS headers depend on the request's Origin (flask-cors sends none without one).
    vary = headers.get("Vary")
    if vary is None:
        headers["Vary"] = "Origin"
    elif "origin" not in vary.lower():
        headers["Vary"] = f"{vary}, Origin"
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith(NO_STORE_PREFIXES):
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
