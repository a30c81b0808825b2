"""Configuration classes; environment parsing happens here and nowhere else."""

import ipaddress
import os
from datetime import timedelta

import limits
from dotenv import load_dotenv

load_dotenv()

DEVELOPMENT_SECRET = "ironmind-development-secret-do-not-use-in-production"
# Verified with a JWKS public key, never with the shared secret.
ASYMMETRIC_ALGORITHMS = frozenset({"EdDSA", "ES256", "ES384", "ES512", "RS256", "PS256"})


class ConfigError(RuntimeError):
    """A setting the app cannot start with; the message says what to set."""


class InvalidValue:
    """An environment value that does not parse; finalize() refuses it with its name."""

    def __init__(self, name, raw, expected):
        self.name, self.raw, self.expected = name, raw, expected

    def __str__(self):
        return f"{self.name} must be {self.expected}; got {self.raw!r}."


def _env_int(name, default):
    return _env_number(name, default, int, "a whole number")


def _truthy(value):
    return (value or "").strip().lower() not in ("", "0", "false", "no")


def _env_float(name, default):
    return _env_number(name, default, float, "a number")


def _env_number(name, default, parse, expected):
    # Class bodies run at import, where an exception would be a traceback from any entry
    # point: a bad value is kept as InvalidValue and refused by finalize(), as ConfigError.
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return parse(value)
    except ValueError:
        return InvalidValue(name, value, expected)


def _env_choice(name, default, choices):
    value = os.environ.get(name) or default
    return value if value in choices else InvalidValue(name, value, "one of " + ", ".join(choices))


def _env_limit(name, default):
    # Checked only, so that a bad value stops start-up with the others (gunicorn's master reads
    # this too); http/ratelimit.py parses the app's value once in its init_app.
    value = os.environ.get(name) or default
    try:
        limits.parse(value)
    except ValueError:
        return InvalidValue(name, value, "a limit such as '10 per minute'")
    return value


def _env_list(name, default):
    raw = os.environ.get(name) or default
    return [item.strip() for item in raw.split(",") if item.strip()]


class Config:
    APP_ENV = "development"
    DEBUG = False
    TESTING = False

    BETTER_AUTH_SECRET = os.environ.get("BETTER_AUTH_SECRET") or DEVELOPMENT_SECRET
    BETTER_AUTH_URL = os.environ.get("BETTER_AUTH_URL") or None
    BETTER_AUTH_JWKS_URL = os.environ.get("BETTER_AUTH_JWKS_URL") or None
    # Both default to BETTER_AUTH_URL (see finalize), checked on asymmetric tokens only.
    JWT_ISSUER = os.environ.get("JWT_ISSUER") or None
    JWT_AUDIENCE = os.environ.get("JWT_AUDIENCE") or None
    # Better Auth JWT-plugin tokens: accepted algorithms, and how the JWKS is fetched.
    JWKS_ALGORITHMS = _env_list("JWKS_ALGORITHMS", "EdDSA,ES256,RS256,PS256")
    JWKS_FETCH_TIMEOUT = _env_float("JWKS_FETCH_TIMEOUT", 2.0)
    JWKS_REFETCH_INTERVAL = _env_float("JWKS_REFETCH_INTERVAL", 10.0)
    JWKS_MAX_AGE = _env_float("JWKS_MAX_AGE", 300.0)
    # The frontend's Better Auth database (its own connection string works as is; a read-only
    # role is enough): frontend tokens carrying the session id (sid) are accepted only while
    # that session lives and its user is not banned. Unset, sid is not checked.
    BETTER_AUTH_DATABASE_URL = os.environ.get("BETTER_AUTH_DATABASE_URL") or None
    # Refuse frontend tokens without sid (needs BETTER_AUTH_DATABASE_URL).
    BETTER_AUTH_REQUIRE_SESSION = _truthy(os.environ.get("BETTER_AUTH_REQUIRE_SESSION"))
    # Sessions kept only in Better Auth's secondaryStorage are refused at start-up: see
    # docs/DECISIONS.md (they are keyed by session token, which no API token carries).
    BETTER_AUTH_REDIS_URL = os.environ.get("BETTER_AUTH_REDIS_URL") or None

    ACCESS_TOKEN_TTL = _env_int("ACCESS_TOKEN_TTL", 900)
    REFRESH_TOKEN_TTL = _env_int("REFRESH_TOKEN_TTL", 604800)
    # Seconds: the longest an access token may live (exp - iat, or exp - now without iat), the
    # frontend's included; a longer one is refused. Refresh tokens are bounded by their TTL.
    MAX_TOKEN_LIFETIME = _env_int("MAX_TOKEN_LIFETIME", 86400)
    MAX_TOKEN_BYTES = 8192
    # Access tokens kept verified per process (auth/verified_tokens.py): a client reusing its
    # token skips the parse and the signature; 0 verifies every request from scratch.
    TOKEN_CACHE_SIZE = _env_int("TOKEN_CACHE_SIZE", 4096)
    # The scheme and host clients reach the API at ("https://api.example.com"), for absolute
    # Location and Link URLs; unset, they are relative. Never taken from the request's Host.
    PUBLIC_URL = (os.environ.get("PUBLIC_URL") or "").rstrip("/")

    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or "sqlite:///ironmind.db"
    # The revocation copy's LISTEN needs a session of its own: behind a transaction-pooling
    # PgBouncer, a direct URL to PostgreSQL (default: DATABASE_URL itself).
    DATABASE_LISTEN_URL = os.environ.get("DATABASE_LISTEN_URL") or None
    # DATABASE_URL is a transaction-pooling PgBouncer: no server-side prepared statements and no
    # session options at connect (statement_timeout is then set on the role or in PgBouncer).
    DATABASE_TRANSACTION_POOLING = _truthy(os.environ.get("DATABASE_TRANSACTION_POOLING"))
    # Parameters never appear in exception text, so a logged DB error cannot leak a hash.
    SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True, "pool_pre_ping": True}
    # PostgreSQL only (see finalize): no single wait on the database may hold a request up for
    # long, so an unreachable database answers 503 within DB_REQUEST_BOUND seconds.
    # Each gthread thread holds at most one connection: one pooled connection per thread, plus
    # a small overflow. Per gunicorn worker; the server total is workers x (size + overflow).
    DB_POOL_SIZE = _env_int("DB_POOL_SIZE", _env_int("GUNICORN_THREADS", 4))
    DB_MAX_OVERFLOW = _env_int("DB_MAX_OVERFLOW", 2)
    DB_POOL_TIMEOUT = _env_int("DB_POOL_TIMEOUT", 1)  # s waiting for a pooled connection
    DB_POOL_RECYCLE = _env_int("DB_POOL_RECYCLE", 1800)  # s before a connection is replaced
    DB_CONNECT_TIMEOUT = _env_int("DB_CONNECT_TIMEOUT", 2)  # s; libpq's minimum is 2
    DB_STATEMENT_TIMEOUT_MS = _env_int("DB_STATEMENT_TIMEOUT_MS", 2000)
    DB_REQUEST_BOUND = 5  # s: the documented worst case, pool wait + a stalled ping + reconnect

    CORS_ORIGINS = _env_list("CORS_ORIGINS", "http://localhost:3000")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    RATELIMIT_AUTH = _env_limit("RATELIMIT_AUTH", "10 per minute")
    # How `limits` counts RATELIMIT_AUTH: fixed-window (one counter per window, which starts at
    # its first call) or moving-window (the calls of the last window at each call; one stored
    # entry per call, so a burst at a window's edge cannot pass twice the limit).
    RATELIMIT_STRATEGY = _env_choice(
        "RATELIMIT_STRATEGY", "fixed-window", ("fixed-window", "moving-window")
    )
    # How many proxies in front of the app set X-Forwarded-For/-Proto; 0 ignores those headers.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
    # The addresses (or networks) those headers are believed from, by the app and by gunicorn
    # (gunicorn.conf.py); comma-separated, none by default. Set with TRUSTED_PROXIES, or not at all.
    TRUSTED_PROXY_ADDRESSES = os.environ.get("TRUSTED_PROXY_ADDRESSES") or ""
    # Seconds in which a just-rotated refresh token still gets the session's current one
    # (two tabs refreshing at once); 0 turns the grace off. See docs/TOKENS.md.
    REFRESH_REUSE_GRACE = _env_int("REFRESH_REUSE_GRACE", 10)
    # PostgreSQL: answer the per-request revocation check from a per-process copy of the list
    # kept current by LISTEN/NOTIFY (one extra connection per worker); off = query per request.
    REVOCATION_LISTEN = _truthy(os.environ.get("REVOCATION_LISTEN", "true"))
    # Prometheus metrics at GET /metrics (ironmind_api/metrics.py), answered only to clients in
    # METRICS_ALLOWED_NETWORKS (comma-separated; the client address after TRUSTED_PROXIES);
    # every other client gets the 404 of an unknown path. Off: no per-request recording either.
    METRICS_ENABLED = _truthy(os.environ.get("METRICS_ENABLED", "true"))
    METRICS_ALLOWED_NETWORKS = os.environ.get("METRICS_ALLOWED_NETWORKS") or "127.0.0.0/8,::1/128"
    # OpenTelemetry tracing (ironmind_api/tracing.py): on only when an OTLP/HTTP endpoint is set;
    # the SDK reads the other standard OTEL_* variables (sampler, headers, batch delay) itself.
    OTEL_EXPORTER_OTLP_ENDPOINT = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or ""
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or ""
    OTEL_SDK_DISABLED = _truthy(os.environ.get("OTEL_SDK_DISABLED"))
    OTEL_SERVICE_NAME = os.environ.get("OTEL_SERVICE_NAME") or "ironmind-api"
    # Log one error at server start when the database is not at the migrations' head.
    SCHEMA_CHECK_AT_START = True
    LOG_LEVEL = (os.environ.get("LOG_LEVEL") or "INFO").upper()
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 1048576)

    # OWASP's minimum for argon2id: 19 MiB, 2 iterations, parallelism 1.
    ARGON2_TIME_COST = 2
    ARGON2_MEMORY_COST = 19456
    ARGON2_PARALLELISM = 1

    API_TITLE = "IRONMIND API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    # Swagger UI at /api/docs, its assets served from the pinned flask-swagger-ui package.
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/api/docs/assets/"
    OPENAPI_SWAGGER_UI_CONFIG = {"docExpansion": "list", "tryItOutEnabled": False}


class DevelopmentConfig(Config):
    APP_ENV = "development"
    # The quick-start server is one developer's: high enough that the Postman collection (about
    # ten calls of each auth endpoint per run) can run again and again within a minute.
    RATELIMIT_AUTH = _env_limit("RATELIMIT_AUTH", "100 per minute")


class TestingConfig(Config):
    APP_ENV = "testing"
    TESTING = True
    BETTER_AUTH_SECRET = DEVELOPMENT_SECRET
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite:///ironmind-test.db"
    RATELIMIT_STORAGE_URI = "memory://"
    # High enough that no test is limited by accident; tests of the limit lower it.
    RATELIMIT_AUTH = "10000 per minute"
    # Test apps are made before their schema is migrated, many on unreachable databases.
    SCHEMA_CHECK_AT_START = False
    # Cheap hashes keep the suite fast; never used outside tests.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1


class ProductionConfig(Config):
    APP_ENV = "production"
    BETTER_AUTH_SECRET = os.environ.get("BETTER_AUTH_SECRET") or ""


def finalize(config):
    """Derive the settings Flask and its extensions read, then refuse unsafe production ones."""
    invalid = [value for value in config.values() if isinstance(value, InvalidValue)]
    if invalid:
        raise ConfigError(" ".join(map(str, invalid)))
    secret = config["BETTER_AUTH_SECRET"]
    if config["APP_ENV"] == "production":
        if not secret or len(secret.strip()) < 32 or secret == DEVELOPMENT_SECRET:
            raise ConfigError(
                "BETTER_AUTH_SECRET must be set to a value of at least 32 characters "
                "(not the development default) when APP_ENV=production; "
                'generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        # `flask run --debug` sets FLASK_DEBUG and turns app.debug on after create_app returns.
        if config["DEBUG"] or _truthy(os.environ.get("FLASK_DEBUG")):
            raise ConfigError(
                "DEBUG cannot be on when APP_ENV=production: unset FLASK_DEBUG, drop --debug."
            )
    if config["ACCESS_TOKEN_TTL"] > config["MAX_TOKEN_LIFETIME"]:
        raise ConfigError(
            "ACCESS_TOKEN_TTL must not exceed MAX_TOKEN_LIFETIME: the API would refuse its own "
            "access tokens."
        )
    finalize_jwks(config)
    finalize_sessions(config)
    finalize_proxies(config)
    finalize_observability(config)
    jwks_algorithms = config["JWKS_ALGORITHMS"] if config["JWKS_URL"] else []
    config.update(
        SECRET_KEY=secret,
        JWT_SECRET_KEY=secret,
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256", *jwks_algorithms],
        JWT_TOKEN_LOCATION=["headers"],
        JWT_IDENTITY_CLAIM="sub",
        JWT_COOKIE_CSRF_PROTECT=False,
        JWT_DECODE_LEEWAY=10,
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=config["ACCESS_TOKEN_TTL"]),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(seconds=config["REFRESH_TOKEN_TTL"]),
        DATABASE_LISTEN_URL=config["DATABASE_LISTEN_URL"] or config["SQLALCHEMY_DATABASE_URI"],
    )


def finalize_database(config):
    """Derive the settings read from the two database URLs (SQLAlchemy parses them), or refuse.

    Apart from finalize(), and run just before db.init_app: parsing a URL imports SQLAlchemy
    (~0.4 s), which `flask --app wsgi --help` and the commands without a database do not need.
    """
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(config)
    raw = config["BETTER_AUTH_DATABASE_URL"]
    config["BETTER_AUTH_SESSIONS_URL"] = better_auth_database_url(raw) if raw else None


def finalize_jwks(config):
    """Derive the JWKS URL and the expected iss/aud of Better Auth JWT-plugin tokens."""
    base_url = (config["BETTER_AUTH_URL"] or "").rstrip("/") or None
    jwks_url = config["BETTER_AUTH_JWKS_URL"] or (base_url and f"{base_url}/api/auth/jwks")
    config.update(
        JWKS_URL=jwks_url,
        JWT_ISSUER=config["JWT_ISSUER"] or base_url,
        JWT_AUDIENCE=config["JWT_AUDIENCE"] or base_url,
    )
    if not jwks_url:
        return
    if not (config["JWT_ISSUER"] and config["JWT_AUDIENCE"]):
        raise ConfigError(
            "Set BETTER_AUTH_URL, or JWT_ISSUER and JWT_AUDIENCE, with BETTER_AUTH_JWKS_URL."
        )
    unsupported = set(config["JWKS_ALGORITHMS"]) - ASYMMETRIC_ALGORITHMS
    if unsupported or not config["JWKS_ALGORITHMS"]:
        raise ConfigError(
            "JWKS_ALGORITHMS must list asymmetric algorithms only "
            f"({', '.join(sorted(ASYMMETRIC_ALGORITHMS))}); got {sorted(unsupported)}."
        )


def finalize_sessions(config):
    """Refuse session-check settings that cannot work (the URL itself: finalize_database)."""
    if config["BETTER_AUTH_REDIS_URL"]:
        raise ConfigError(
            "BETTER_AUTH_REDIS_URL is not supported: set session.storeSessionInDatabase: true in "
            "the frontend's Better Auth options (sessions then live in its database too) and "
            "unset BETTER_AUTH_REDIS_URL."
        )
    if config["BETTER_AUTH_REQUIRE_SESSION"] and not config["BETTER_AUTH_DATABASE_URL"]:
        raise ConfigError(
            "BETTER_AUTH_REQUIRE_SESSION=true needs BETTER_AUTH_DATABASE_URL, the Better Auth "
            "database the sessions are checked in."
        )


def better_auth_database_url(raw):
    """The psycopg URL of a ``postgresql://`` or ``postgres://`` string, or ConfigError."""
    from sqlalchemy.engine import make_url  # see finalize_database
    from sqlalchemy.exc import ArgumentError

    refusal = ConfigError(
        "BETTER_AUTH_DATABASE_URL must be a PostgreSQL connection string, such as "
        "postgresql://user:password@host:5432/name (the frontend's own works as is)."
    )
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        # Not echoed: a malformed URL may still hold a password.
        raise refusal from None
    if url.drivername not in ("postgresql", "postgres", "postgresql+psycopg") or not url.database:
        raise refusal
    return url.set(drivername="postgresql+psycopg")


def finalize_proxies(config):
    """Parse TRUSTED_PROXY_ADDRESSES; it and TRUSTED_PROXIES are set together or not at all."""
    networks = proxy_networks(config["TRUSTED_PROXY_ADDRESSES"])
    if bool(networks) != (config["TRUSTED_PROXIES"] > 0):
        # Either half alone is a mistake: forwarded headers believed from any peer, or from none
        # (then every client behind the proxy shares the proxy's address and its rate limit).
        raise ConfigError(
            "Set TRUSTED_PROXIES (how many proxies append to X-Forwarded-For) and "
            "TRUSTED_PROXY_ADDRESSES (the addresses they connect from) together, or neither; "
            f"got TRUSTED_PROXIES={config['TRUSTED_PROXIES']} and "
            f"TRUSTED_PROXY_ADDRESSES={config['TRUSTED_PROXY_ADDRESSES']!r}."
        )
    config["TRUSTED_PROXY_NETWORKS"] = networks


def finalize_observability(config):
    """Parse METRICS_ALLOWED_NETWORKS; derive the OTLP traces URL (empty: tracing is off)."""
    try:
        config["METRICS_NETWORKS"] = tuple(
            ipaddress.ip_network(item.strip())
            for item in config["METRICS_ALLOWED_NETWORKS"].split(",")
            if item.strip()
        )
    except ValueError as error:
        raise ConfigError(
            "METRICS_ALLOWED_NETWORKS must be IP networks or addresses, comma-separated "
            f"(such as 127.0.0.0/8,10.0.5.0/24); {error}."
        ) from None
    # The OTLP/HTTP rule: the signal's own URL as given, else the base URL plus /v1/traces.
    base = config["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/")
    url = config["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] or (base and f"{base}/v1/traces")
    config["OTEL_TRACES_URL"] = "" if config["OTEL_SDK_DISABLED"] else url


def proxy_networks(addresses):
    """The networks of a comma-separated list of IP addresses and CIDR networks."""
    try:
        return tuple(
            ipaddress.ip_network(item.strip()) for item in addresses.split(",") if item.strip()
        )
    except ValueError as error:
        raise ConfigError(
            "TRUSTED_PROXY_ADDRESSES must be IP addresses or networks, comma-separated "
            f"(such as 172.16.18.0/24, 10.0.0.7); {error}."
        ) from None


def engine_options(config):
    """The engine's pool and timeouts on PostgreSQL; any other database keeps its defaults."""
    from sqlalchemy.engine import make_url  # see finalize_database
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    try:
        url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    except ArgumentError:
        # Not echoed: a malformed URL may still hold a password.
        raise ConfigError(
            "DATABASE_URL must be a SQLAlchemy database URL, such as "
            "postgresql+psycopg://user:password@host:5432/name or sqlite:///ironmind.db."
        ) from None
    try:
        url.get_dialect().import_dbapi()
    except (ImportError, NoSuchModuleError) as error:
        raise ConfigError(
            f"DATABASE_URL names a database driver that is not installed ({url.drivername}: "
            f"{error}); use postgresql+psycopg://… or sqlite:///…."
        ) from None
    if url.get_backend_name() != "postgresql":
        return options
    connect_args = {
        "connect_timeout": config["DB_CONNECT_TIMEOUT"],
        # A link that stops answering fails a send after this long instead of TCP's ~15 min.
        "tcp_user_timeout": config["DB_CONNECT_TIMEOUT"] * 1000,
    }
    if config["DATABASE_TRANSACTION_POOLING"]:
        # Each transaction may run on another server connection: a statement psycopg prepared
        # on one would be missing on the next, and PgBouncer refuses startup options.
        connect_args["prepare_threshold"] = None
    else:
        # Also caps lock waits: a statement blocked on a row lock is cancelled the same way.
        connect_args["options"] = f"-c statement_timeout={config['DB_STATEMENT_TIMEOUT_MS']}"
    derived = {
        "pool_size": config["DB_POOL_SIZE"],
        "max_overflow": config["DB_MAX_OVERFLOW"],
        "pool_timeout": config["DB_POOL_TIMEOUT"],
        "pool_recycle": config["DB_POOL_RECYCLE"],
        "connect_args": connect_args | options.get("connect_args", {}),
    }
    return derived | options | {"connect_args": derived["connect_args"]}


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env():
    name = os.environ.get("APP_ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(CONFIGS)}; got {name!r}.")
    return CONFIGS[name]


def check_environment():
    """Raise ConfigError for any setting create_app() would refuse, without building an app."""
    config_class = config_from_env()
    settings = {name: getattr(config_class, name) for name in dir(config_class) if name.isupper()}
    finalize(settings)
    finalize_database(settings)
