"""Accounts and the tokens this API issues."""

from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g
from flask_jwt_extended import decode_token, get_jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import ApiError
from ..extensions import db, passwords
from ..security import check_token_size, claims_are_acceptable
from . import revocation
from .models import User, ensure_user

INVALID_CREDENTIALS = ApiError(401, "invalid_credentials", "Invalid email or password.")


def create_user(email, password, name=None):
    user = User(email=email.lower(), name=name, password_hash=passwords.hasher.hash(password))
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, "email_taken", "An account with this email already exists.") from None
    return user


def authenticate(email, password):
    """Return the user whose password matches, costing one argon2 verify either way."""
    user = db.session.scalar(select(User).where(User.email == email.lower()))
    stored_hash = user.password_hash if user and user.password_hash else passwords.dummy_hash
    try:
        passwords.hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        raise INVALID_CREDENTIALS from None
    if user is None or user.password_hash is None:
        raise INVALID_CREDENTIALS
    if passwords.hasher.check_needs_rehash(user.password_hash):
        user.password_hash = passwords.hasher.hash(password)
        db.session.commit()
    return user


def issue_token_pair(user):
    """Open a new session (token family) for a signed-in user."""
    return token_pair(user, *revocation.start_family(user.id))


def token_pair(user, family_id, refresh_jti):
    access, refresh = revocation.mint_pair(user.id, family_id, refresh_jti)
    return {
        "token": access,
        "token_type": "Bearer",
        "expires_in": current_app.config["ACCESS_TOKEN_TTL"],
        "refresh_token": refresh,
        "user": user,
    }


def refresh_tokens(refresh_token):
    """Spend a refresh token for a new pair of the same session (see revocation.rotate)."""
    claims = decode_refresh_token(refresh_token)
    family_id, refresh_jti = revocation.rotate(claims)
    user = db.session.get(User, claims["sub"])
    if user is None:
        raise ApiError(401, "invalid_token", "The token's user no longer exists.")
    return token_pair(user, family_id, refresh_jti)


def decode_refresh_token(refresh_token, allow_expired=False):
    check_token_size(refresh_token)
    claims = decode_token(refresh_token, allow_expired=allow_expired)
    if claims.get("type") != "refresh" or not claims_are_acceptable(None, claims):
        raise ApiError(401, "invalid_token", "A refresh token is required.")
    return claims


def sign_out(refresh_token=None):
    """Revoke the presented access token, its session and the given refresh token's session."""
    access_claims = get_jwt()
    families = {access_claims.get("fam")}
    if refresh_token:
        refresh_claims = decode_refresh_token(refresh_token, allow_expired=True)
        if refresh_claims["sub"] != g.user_id:
            raise ApiError(401, "invalid_token", "The refresh token belongs to another user.")
        families.add(refresh_claims.get("fam"))
    revocation.revoke_token(access_claims)
    for family_id in families:
        if isinstance(family_id, str) and family_id:
            revocation.revoke_family(family_id)
    revocation.purge_expired()
    db.session.commit()


def current_user():
    """The signed-in user, created from the token's claims on first sight."""
    user = db.session.get(User, g.user_id)
    if user is None:
        provision_current_user()
        db.session.commit()
        user = db.session.get(User, g.user_id)
    return user


def provision_current_user():
    claims = get_jwt()
    ensure_user(g.user_id, email=_claim_str(claims, "email"), name=_claim_str(claims, "name"))


def _claim_str(claims, name):
    value = claims.get(name)
    return value[:200] if isinstance(value, str) and value else None
