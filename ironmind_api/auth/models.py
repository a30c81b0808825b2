"""Accounts, sessions (token families) and the revocation list, as tables."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Model, UTCDateTime, db, insert_ignoring_conflicts, utcnow
from ..fields import normalize_email
from .roles import DEFAULT_ROLE, MAX_ROLE_LENGTH

MAX_USER_ID_LENGTH = 255
# Identity is (issuer, subject): a Better Auth user's rows are kept under "ba:<sub>", a local
# account's under its own id (32 hex digits, never a colon), so no subject one issuer signs
# can name a row of the other's.
BETTER_AUTH_NAMESPACE = "ba:"


def better_auth_user_id(subject):
    return BETTER_AUTH_NAMESPACE + subject


def is_better_auth_user(user_id):
    return user_id.startswith(BETTER_AUTH_NAMESPACE)


def public_user_id(user_id):
    """The id a caller knows a user by: the token subject, without the namespace."""
    return user_id.removeprefix(BETTER_AUTH_NAMESPACE)


class User(Model):
    __tablename__ = "users"

    # A string: local ids are uuid hex, Better Auth users' are "ba:" + their opaque id.
    id: Mapped[str] = mapped_column(
        String(MAX_USER_ID_LENGTH), primary_key=True, default=lambda: uuid.uuid4().hex
    )
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # A local account's roles, written into its access tokens when they are issued (a
    # Better Auth user's come from its own tokens instead).
    role: Mapped[str] = mapped_column(
        String(MAX_ROLE_LENGTH), nullable=False, default=DEFAULT_ROLE, server_default=DEFAULT_ROLE
    )
    # Set: the account cannot sign in or refresh (`flask users disable`).
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def public_id(self):
        """The id callers know: a Better Auth user's is their token's ``sub``."""
        return public_user_id(self.id)

    def __repr__(self):
        return f"<User {self.id}>"


def ensure_user(user_id, email=None, name=None):
    """Create the user row for a token subject unless it exists; safe under concurrency.

    A subject's email may already belong to another local account: it is then left out
    rather than failing the request, because the subject itself is what owns data here.
    """
    for candidate_email in dict.fromkeys((email and normalize_email(email), None)):
        values = {"id": user_id, "email": candidate_email, "name": name, "created_at": utcnow()}
        db.session.execute(insert_ignoring_conflicts(User).values(**values))
        if db.session.scalar(select(User.id).where(User.id == user_id)) is not None:
            return


class TokenFamily(Model):
    """One signed-in session: the chain of refresh tokens issued from one signin."""

    __tablename__ = "token_families"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # The only refresh token of the family that may be exchanged next.
    refresh_jti: Mapped[str] = mapped_column(String(36), nullable=False)
    # The one it replaced, honoured within REFRESH_REUSE_GRACE of rotated_at.
    previous_jti: Mapped[str | None] = mapped_column(String(36))
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RevokedToken(Model):
    """The list every authenticated request is checked against: token keys and families."""

    __tablename__ = "revoked_tokens"

    # A jti, "sha256:<digest>" for a foreign token without one, or "fam:<family id>".
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    # After this the token is rejected as expired anyway, so the row may be purged.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
