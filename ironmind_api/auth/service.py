"""Accounts and the tokens this API issues: signup, signin, refresh, signout, provisioning.

Every function takes who is acting as arguments (a user id, a token's claims), never from the
request, so a CLI command or a test calls it the same way a view does.
"""

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db import db
from ..errors import AccountDisabled, EmailTaken, InvalidCredentials, InvalidToken
from ..fields import normalize_email
from . import passwords, revocation, tokens
from .models import User, ensure_user, is_better_auth_user
from .roles import DEFAULT_ROLE

MAX_PROFILE_CLAIM = 200


def create_user(email, password, name=None, role=DEFAULT_ROLE):
    password_hash = passwords.hash_password(password)
    user = User(email=normalize_email(email), name=name, password_hash=password_hash, role=role)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise EmailTaken() from None
    return user


def authenticate(email, password):
    """Return the user whose password matches, costing one argon2 verify either way.

    A disabled account is told so only once its password has matched: without the password,
    it looks exactly like any other failed signin.
    """
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    stored_hash = user.password_hash if user else None
    if not passwords.verify(stored_hash, password):
        raise InvalidCredentials()
    if user.disabled_at is not None:
        raise AccountDisabled()
    if passwords.needs_rehash(stored_hash):
        user.password_hash = passwords.hash_password(password)
        db.session.commit()
    return user


def issue_token_pair(user):
    """Open a new session (token family) for a signed-in user."""
    return _token_pair(user, *revocation.start_family(user.id))


def refresh_tokens(refresh_token):
    """Spend a refresh token for a new pair of the same session (see revocation.rotate)."""
    claims = tokens.verify_refresh_token(refresh_token)
    user = db.session.get(User, claims["sub"])
    if user is not None and user.disabled_at is not None:
        # Before rotating: disabling revoked the session too, but the account's state is
        # what the caller needs to hear.
        raise AccountDisabled()
    family_id, refresh_jti = revocation.rotate(claims)
    if user is None:
        raise InvalidToken(message="The token's user no longer exists.")
    return _token_pair(user, family_id, refresh_jti)


def sign_out(user_id, access_claims, refresh_token=None):
    """Revoke the access token, its session and the given refresh token's session."""
    families = {access_claims.get("fam")}
    if refresh_token:
        refresh_claims = tokens.verify_refresh_token(refresh_token, allow_expired=True)
        if refresh_claims["sub"] != user_id:
            raise InvalidToken(message="The refresh token belongs to another user.")
        families.add(refresh_claims.get("fam"))
    revocation.revoke_token(access_claims)
    for family_id in families:
        if isinstance(family_id, str) and family_id:
            revocation.revoke_family(family_id)
    revocation.purge_expired()
    db.session.commit()


def current_user(user_id, claims):
    """The signed-in user, created from the token's claims on first sight."""
    user = db.session.get(User, user_id)
    if user is None:
        provision_user(user_id, claims)
        db.session.commit()
        user = db.session.get(User, user_id)
    return user


def provision_user(user_id, claims):
    """Create the user row of a Better Auth user first seen here.

    A local account is only ever created by signup: a token of one that is gone is refused.
    """
    if not is_better_auth_user(user_id):
        raise InvalidToken(message="The token's user no longer exists.")
    ensure_user(user_id, email=_profile_claim(claims, "email"), name=_profile_claim(claims, "name"))


def mint_pair(user_id, family_id, refresh_jti, role):
    """An access token and the family's current refresh token, both naming the family and
    this API as their issuer; the access token also carries the account's ``role``."""
    claims = {"fam": family_id, "iss": revocation.API_ISSUER}
    access_claims = {**claims, "role": role}
    access = create_access_token(identity=user_id, additional_claims=access_claims)
    refresh_claims = {**claims, "jti": refresh_jti}
    refresh = create_refresh_token(identity=user_id, additional_claims=refresh_claims)
    return access, refresh


def _token_pair(user, family_id, refresh_jti):
    access, refresh = mint_pair(user.id, family_id, refresh_jti, user.role)
    return {
        "token": access,
        "token_type": "Bearer",
        "expires_in": current_app.config["ACCESS_TOKEN_TTL"],
        "refresh_token": refresh,
        "user": user,
    }


def _profile_claim(claims, name):
    """A profile claim worth storing: a string a database can hold, else nothing."""
    value = claims.get(name)
    if not isinstance(value, str) or not value or tokens.UNSAFE_TEXT.search(value):
        return None
    return value[:MAX_PROFILE_CLAIM]
