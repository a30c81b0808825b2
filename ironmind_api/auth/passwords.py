"""argon2id password hashing, configured per app from its settings."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY
from flask import current_app

DUMMY_PASSWORD = "ironmind-dummy-password"


def init_app(app):
    hasher = PasswordHasher(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST"],
        parallelism=app.config["ARGON2_PARALLELISM"],
        hash_len=RFC_9106_LOW_MEMORY.hash_len,
        salt_len=RFC_9106_LOW_MEMORY.salt_len,
    )
    # Verified against when the email is unknown, so both paths cost one argon2 verify.
    app.extensions["passwords"] = (hasher, hasher.hash(DUMMY_PASSWORD))


def hash_password(password):
    return _hasher().hash(password)


def verify(stored_hash, password):
    """True when ``password`` matches ``stored_hash``; a missing hash costs the same verify."""
    hasher, dummy_hash = current_app.extensions["passwords"]
    try:
        hasher.verify(stored_hash or dummy_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored_hash is not None


def needs_rehash(stored_hash):
    return _hasher().check_needs_rehash(stored_hash)


def _hasher():
    return current_app.extensions["passwords"][0]
