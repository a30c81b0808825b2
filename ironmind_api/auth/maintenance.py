"""Operator chores on accounts and sessions: the logic behind `flask users` and `flask tokens`."""

from sqlalchemy import delete, or_, select

from ..db import db, utcnow
from ..fields import normalize_email
from . import revocation
from .models import RevokedToken, TokenFamily, User


def find_user(email_or_id):
    """The user with this id, else with this email (normalised as signup stores it), else None."""
    user = db.session.get(User, email_or_id)
    if user is None:
        email = normalize_email(email_or_id.strip())
        user = db.session.scalar(select(User).where(User.email == email))
    return user


def revoke_sessions(user):
    """Revoke every session of the user the way signout does; returns how many were live."""
    # A family expired for longer than the margin has no token left that could be accepted.
    still_valid_after = utcnow() - revocation.PURGE_MARGIN
    family_ids = db.session.scalars(
        select(TokenFamily.id).where(
            TokenFamily.user_id == user.id,
            TokenFamily.revoked_at.is_(None),
            TokenFamily.expires_at >= still_valid_after,
        )
    ).all()
    for family_id in family_ids:
        revocation.revoke_family(family_id)
    db.session.commit()
    return len(family_ids)


def disable(user):
    """Stop the account: no signin or refresh, and every session revoked in the same commit,
    so its outstanding tokens are refused at once. Returns how many sessions were live."""
    if user.disabled_at is None:
        user.disabled_at = utcnow()
    return revoke_sessions(user)


def enable(user):
    """Let a disabled account sign in again (its revoked sessions stay revoked)."""
    user.disabled_at = None
    db.session.commit()


def set_role(user, role):
    """Change the account's role; it is written into the access tokens issued from now on."""
    user.role = role
    db.session.commit()


def purge(batch_size, now=None):
    """Delete what no token can need any more, in short transactions; returns the counts.

    A revocation row goes PURGE_MARGIN after its token's expiry (beyond the decode leeway),
    exactly when signout's own purge would drop it. A session row goes when it has expired
    the same way, or once it is revoked: its `fam:` revocation row, written in the same
    transaction as `revoked_at`, keeps rejecting its tokens, and a refresh token of a session
    without a row is refused as revoked.
    """
    cutoff = (now or utcnow()) - revocation.PURGE_MARGIN
    revocations = _delete_in_batches(RevokedToken.key, RevokedToken.expires_at < cutoff, batch_size)
    sessions = _delete_in_batches(
        TokenFamily.id,
        or_(TokenFamily.expires_at < cutoff, TokenFamily.revoked_at.is_not(None)),
        batch_size,
    )
    return revocations, sessions


def _delete_in_batches(key_column, condition, batch_size):
    """Each batch is its own short transaction, so serving requests never wait on a long lock."""
    table = key_column.class_
    total = 0
    while True:
        batch = select(key_column).where(condition).limit(batch_size).scalar_subquery()
        deleted = db.session.execute(delete(table).where(key_column.in_(batch), condition)).rowcount
        db.session.commit()
        total += deleted
        if deleted < batch_size:
            return total
