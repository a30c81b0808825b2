"""Which proxies' X-Forwarded-For/-Proto headers are believed: TRUSTED_PROXIES of them."""

from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app):
    # Without trusted proxies, X-Forwarded-For/-Proto are ignored: remote_addr and scheme are
    # the socket's, so a client cannot pick its rate-limit key or fake HTTPS.
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
