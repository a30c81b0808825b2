"""Extension instances, created unbound and attached to each app in create_app."""

from flask_jwt_extended import JWTManager
from flask_migrate import Migrate

migrate = Migrate()
# Issues the API's own access and refresh tokens; auth/tokens.py verifies every token.
jwt = JWTManager()
