"""Extension instances, created unbound and attached to each app in create_app."""

from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate

migrate = Migrate()
# Issues the API's own access and refresh tokens; auth/tokens.py verifies every token.
jwt = JWTManager()
cors = CORS()
# Keyed by request.remote_addr, which ProxyFix rewrites only when TRUSTED_PROXIES says so.
limiter = Limiter(key_func=get_remote_address)
