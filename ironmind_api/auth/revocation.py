"""Sessions as refresh-token families: rotation, reuse detection and the revocation list.

Every token this API issues carries ``fam``, the id of its family (one signin). A family
has exactly one refresh token that may be exchanged next; exchanging it rotates the family
to a new one. Presenting any other refresh token of the family revokes the whole family,
access tokens included, because every access token is checked against ``revoked_tokens``
by ``fam`` as well as by its own key. On PostgreSQL that check is answered from a per-process
copy of the list kept current by LISTEN/NOTIFY (see revocation_cache.py), falling back to the
query whenever the copy is not known to be current.
"""

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, make_url, select, update

from ..db import db, insert_ignoring_conflicts, utcnow
from ..errors import InvalidToken, TokenRevoked
from . import revocation_cache
from .models import RevokedToken, TokenFamily

MAX_JTI_LENGTH = 64
# The ``iss`` of every token this API mints: what tells its own tokens, whose ``sub`` is a
# local account, from the frontend's (tokens.py).
API_ISSUER = "ironmind-api"
# Longer than JWT_DECODE_LEEWAY, so a revocation outlives the token's last accepted second.
PURGE_MARGIN = timedelta(minutes=5)


# Claims flask-jwt-extended added to every token it decoded until issue 17. A foreign token's
# digest still includes them, so that revocations written before are still found.
DIGEST_DEFAULTS = {"type": "access", "fresh": False, "jti": None}


def token_key(claims):
    """The key a token is revoked under: its jti, or a digest of a foreign token's claims."""
    jti = claims.get("jti")
    if isinstance(jti, str) and 0 < len(jti) <= MAX_JTI_LENGTH:
        return jti
    canonical = json.dumps(
        DIGEST_DEFAULTS | claims, sort_keys=True, separators=(",", ":"), default=str
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def family_key(family_id):
    return f"fam:{family_id}"


def init_app(app):
    """Keep a per-process copy of the revocation list where the database can notify
    (PostgreSQL); returns it, or None (the table is asked every time)."""
    config = app.config
    if not config["REVOCATION_LISTEN"]:
        return None
    if make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "postgresql":
        return None
    connect_args = config["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args", {})
    # LISTEN holds a session: DATABASE_LISTEN_URL, direct to PostgreSQL behind PgBouncer.
    copy = app.extensions["revocation_cache"] = revocation_cache.cache_for(
        config["DATABASE_LISTEN_URL"], connect_args, PURGE_MARGIN.total_seconds()
    )
    return copy


def revocation_keys(claims):
    """The keys a token may be revoked under: its own, and its session's (``fam``)."""
    keys = [token_key(claims)]
    family_id = claims.get("fam")
    if isinstance(family_id, str) and family_id:
        keys.append(family_key(family_id))
    return tuple(keys)


def is_revoked(claims):
    """Is the token, or its session, revoked?"""
    return any_revoked(revocation_keys(claims), current_app.extensions.get("revocation_cache"))


def any_revoked(keys, copy):
    """Is one of ``keys`` revoked? The synced ``copy`` (init_app's), else one primary-key
    lookup."""
    if copy is not None and copy.answer(keys) is False:
        return False
    # Not synced, or listed in the copy: the table decides (a listed key is confirmed, so a
    # stale entry can never turn a valid token away).
    found = select(RevokedToken.key).where(RevokedToken.key.in_(keys)).limit(1)
    return db.session.scalar(found) is not None


def new_jti():
    return str(uuid.uuid4())


def start_family(user_id):
    """Open a session for a signin; returns (family id, its first refresh jti)."""
    family = TokenFamily(user_id=user_id, refresh_jti=new_jti(), expires_at=_refresh_expiry())
    db.session.add(family)
    db.session.commit()
    return family.id, family.refresh_jti


def rotate(claims):
    """Spend a refresh token; returns (family id, the refresh jti to issue) or raises 401."""
    family_id, jti, user_id = claims.get("fam"), claims.get("jti"), claims["sub"]
    if not isinstance(family_id, str) or not isinstance(jti, str):
        raise InvalidToken(message="The refresh token does not belong to a session.")
    now, fresh_jti = utcnow(), new_jti()
    # Compare-and-swap: of two concurrent exchanges of one token, exactly one rotates.
    swapped = db.session.execute(
        update(TokenFamily)
        .where(
            TokenFamily.id == family_id,
            TokenFamily.user_id == user_id,
            TokenFamily.refresh_jti == jti,
            TokenFamily.revoked_at.is_(None),
        )
        .values(
            refresh_jti=fresh_jti, previous_jti=jti, rotated_at=now, expires_at=_refresh_expiry()
        )
    )
    if swapped.rowcount == 1:
        db.session.commit()
        return family_id, fresh_jti
    family = db.session.execute(
        select(TokenFamily).where(TokenFamily.id == family_id).execution_options(
            populate_existing=True
        )
    ).scalar_one_or_none()
    if family is None or family.user_id != user_id or family.revoked_at is not None:
        db.session.rollback()
        raise TokenRevoked()
    if _within_grace(family, jti, now):
        current_jti = family.refresh_jti
        db.session.rollback()
        return family_id, current_jti
    revoke_family(family_id, now)
    db.session.commit()
    # Imported on this rare path only: `flask users disable` needs this module but neither
    # prometheus_client nor the HTTP blueprint machinery the metrics module brings.
    from ..metrics import refresh_reuse

    refresh_reuse.inc()
    raise TokenRevoked()


def _within_grace(family, jti, now):
    """The token replaced a moment ago by a concurrent exchange (two tabs) may still be used."""
    grace = current_app.config["REFRESH_REUSE_GRACE"]
    return (
        grace > 0
        and family.previous_jti == jti
        and family.rotated_at is not None
        and now - family.rotated_at <= timedelta(seconds=grace)
    )


def revoke_family(family_id, now=None):
    """Stop the family: its refresh token can no longer rotate, its access tokens fail."""
    now = now or utcnow()
    db.session.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family_id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    expires_at = db.session.scalar(
        select(TokenFamily.expires_at).where(TokenFamily.id == family_id)
    )
    _add_revoked(family_key(family_id), expires_at or _refresh_expiry())


def revoke_token(claims):
    """Put one token on the revocation list until it would expire anyway."""
    _add_revoked(token_key(claims), datetime.fromtimestamp(claims["exp"], UTC))


def purge_expired(now=None):
    """Forget revocations and families of tokens that have expired anyway."""
    cutoff = (now or utcnow()) - PURGE_MARGIN
    db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < cutoff))
    db.session.execute(delete(TokenFamily).where(TokenFamily.expires_at < cutoff))


def _add_revoked(key, expires_at):
    row = {"key": key, "expires_at": expires_at}
    db.session.execute(insert_ignoring_conflicts(RevokedToken).values(**row))
    if db.session.get_bind().dialect.name == "postgresql":
        # Sent on commit, and only if the row commits: every process's copy learns the key.
        payload = revocation_cache.payload(key, expires_at)
        db.session.execute(select(func.pg_notify(revocation_cache.CHANNEL, payload)))
    cache = current_app.extensions.get("revocation_cache")
    if cache is not None:
        # Before the commit is safe: a key in the copy is confirmed with the table.
        cache.add(key, expires_at.timestamp())


def _refresh_expiry():
    return utcnow() + timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL"])
