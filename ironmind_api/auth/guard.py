"""``auth_required``: the one guard every protected route uses, directly under its route."""

from functools import wraps

from flask import g, request

from ..openapi import SECURITY_SCHEME, document, error_ref
from . import tokens


def auth_required(fn):
    """Require a valid access token; the view gets the verified ``identity`` as a keyword.

    The token's subject (the user id callers know) is also kept in ``g.user_id`` for the
    request's log lines.
    """

    @wraps(fn)
    def guarded(*args, **kwargs):
        identity = tokens.verify_access_token(request.headers.get("Authorization"))
        g.user_id = identity.subject
        return fn(*args, identity=identity, **kwargs)

    # Every guarded operation is documented as needing the bearer token and answering 401, and
    # 403 for a banned Better Auth user (auth/better_auth_sessions.py).
    responses = {401: error_ref(401), 403: error_ref(403)}
    return document(security=[{SECURITY_SCHEME: []}], responses=responses)(guarded)
