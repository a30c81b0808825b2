"""Whose X-Forwarded-For/-Proto are believed: TRUSTED_PROXIES hops, from TRUSTED_PROXY_ADDRESSES."""

from ipaddress import ip_address

from werkzeug.middleware.proxy_fix import ProxyFix

MAX_KNOWN_PEERS = 1024  # peer addresses whose verdict is kept; others are parsed each time


def init_app(app):
    # Without trusted proxies, X-Forwarded-For/-Proto are ignored: remote_addr and scheme are
    # the socket's, so a client cannot pick its rate-limit key or fake HTTPS. With them, only
    # a request whose peer is one of the proxies' addresses has its headers applied.
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies > 0:
        behind_proxy = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
        networks = app.config["TRUSTED_PROXY_NETWORKS"]
        app.wsgi_app = from_proxies_only(networks, behind_proxy, app.wsgi_app)


def from_proxies_only(networks, behind_proxy, direct):
    """A WSGI app: ``behind_proxy`` serves requests whose peer is in ``networks``, ``direct``
    every other one."""

    # A server sees few peers (its proxies, a health checker): each one's verdict is kept,
    # so a request pays a dict lookup instead of parsing its peer's address.
    verdicts = {}

    def dispatch(environ, start_response):
        peer = environ.get("REMOTE_ADDR")
        trusted = verdicts.get(peer)
        if trusted is None:
            trusted = is_in(peer, networks)
            if len(verdicts) < MAX_KNOWN_PEERS:
                verdicts[peer] = trusted
        return (behind_proxy if trusted else direct)(environ, start_response)

    return dispatch


def is_in(address, networks):
    """Whether an IP address (a peer's REMOTE_ADDR) belongs to one of ``networks``."""
    try:
        peer = ip_address(address or "")
    except ValueError:  # not an IP: a UNIX socket's peer, or no peer
        return False
    # An IPv4 client of a server bound to [::] arrives as ::ffff:a.b.c.d.
    peer = getattr(peer, "ipv4_mapped", None) or peer
    return any(peer in network for network in networks)
