"""Routes under /api/auth: accounts and the tokens this API issues."""

from ..blueprint import Blueprint
from ..http.ratelimit import auth_rate_limit
from ..openapi import error_responses
from . import service
from .guard import auth_required
from .schemas import (
    MeSchema,
    SignupResponseSchema,
    SuccessSchema,
    TokenPairSchema,
    refresh_schema,
    signin_schema,
    signout_schema,
    signup_schema,
)

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens.")


@blp.route("/signup", methods=["POST"])
@auth_rate_limit
@error_responses(409, 429)
@blp.arguments(signup_schema)
@blp.response(201, SignupResponseSchema)
def signup(body):
    """Create an account with an email and a password."""
    user = service.create_user(**body)
    return {"success": True, "message": "Account created.", "user": user}


@blp.route("/signin", methods=["POST"])
@auth_rate_limit
@error_responses(401, 403, 429)
@blp.arguments(signin_schema)
@blp.response(200, TokenPairSchema)
def signin(body):
    """Exchange an email and a password for an access and a refresh token."""
    return service.issue_token_pair(service.authenticate(**body))


@blp.route("/refresh", methods=["POST"])
@auth_rate_limit
@error_responses(401, 403, 429)
@blp.arguments(refresh_schema)
@blp.response(200, TokenPairSchema)
def refresh(body):
    """Exchange a refresh token for a new token pair."""
    return service.refresh_tokens(body["refresh_token"])


@blp.route("/signout", methods=["POST"])
@auth_required
@blp.arguments(signout_schema, required=False)
@blp.response(200, SuccessSchema)
def signout(body, identity):
    """Sign the current session out: its access and refresh tokens stop working."""
    service.sign_out(identity.user_id, identity.claims, body["refresh_token"])
    return {"success": True}


@blp.route("/me", methods=["GET"])
@auth_required
@blp.response(200, MeSchema)
def me(identity):
    """Return the current user, provisioning a Better Auth subject on first sight."""
    return {"user": service.current_user(identity.user_id, identity.claims)}
