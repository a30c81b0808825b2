"""Extension instances, created unbound and attached to each app in create_app."""

from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_migrate import Migrate

from .openapi import Api

migrate = Migrate()
# Issues the API's own access and refresh tokens; auth/tokens.py verifies every token.
jwt = JWTManager()
cors = CORS()
api = Api()
