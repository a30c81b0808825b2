"""``auth_required``: the one guard every protected route uses, directly under its route;
``roles_required`` beneath it for routes only some roles may call."""

from functools import wraps

from flask import g, request

from ..errors import Forbidden
from ..openapi import SECURITY_SCHEME, document, error_ref
from . import tokens


def auth_required(fn):
    """Require a valid access token; the view gets the verified ``identity`` as a keyword.

    The token's subject (the user id callers know) is also kept in ``g.user_id`` for the
    request's log lines.
    """

    # Every guarded operation is documented as needing the bearer token and answering 401, and
    # 403 for a banned Better Auth user (auth/better_auth_sessions.py). The documentation is
    # flask-smorest's doc decorator's; guarded takes it over through functools.wraps, as
    # flask-smorest's own decorators pass theirs on, and calls the view itself, so a request
    # does not also run that decorator's wrapper.
    responses = {401: error_ref(401), 403: error_ref(403)}
    documented = document(security=[{SECURITY_SCHEME: []}], responses=responses)(fn)

    @wraps(documented)
    def guarded(*args, **kwargs):
        identity = tokens.verify_access_token(request.environ.get("HTTP_AUTHORIZATION"))
        g.user_id = identity.subject
        return fn(*args, identity=identity, **kwargs)

    return guarded


def roles_required(*roles):
    """Allow the view only to an identity holding one of ``roles``; others get 403 forbidden.

    Goes directly under ``auth_required``, which verifies the token and passes ``identity``::

        @blp.route("/users")
        @auth_required
        @roles_required("admin")
        def list_users(identity): ...

    Two decorators rather than ``auth_required(roles=…)``: every protected route keeps the
    same first line, and a token that is missing or refused stays a 401 before any role is
    looked at. The roles are ``identity.role``, a comma-separated list (Better Auth's admin
    plugin writes ``"user,admin"``), compared exactly.
    """
    allowed = frozenset(roles)
    message = f"This needs the {' or '.join(roles)} role."

    def decorator(fn):
        documented = document(responses={403: error_ref(403)})(fn)  # as in auth_required

        @wraps(documented)
        def guarded(*args, identity, **kwargs):
            if allowed.isdisjoint(roles_of(identity)):
                raise Forbidden(message=message)
            return fn(*args, identity=identity, **kwargs)

        return guarded

    return decorator


def roles_of(identity):
    """The identity's roles: its ``role`` split on commas, blanks dropped."""
    if not identity.role:
        return frozenset()
    return frozenset(filter(None, (part.strip() for part in identity.role.split(","))))
