"""Access tokens already verified, kept per process: a reused token is not parsed again."""

import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verified:
    """What one access token's verification found, and what it depended on."""

    identity: Any  # tokens.Identity: who the token speaks for
    revocation_keys: tuple[str, ...]  # the token's own key and its session's (revocation.py)
    expires_at: float  # exp + leeway: from this second on, the token is refused as expired
    # (kid, key) of the JWKS key that verified it, compared on every hit; None: the secret did.
    jwks_key: tuple[Any, Any] | None = None


class VerifiedTokens:
    """Verified access tokens by their exact text: at most ``max_entries``, none past expiry.

    The whole token string is the key, so no other string (one character changed, another
    signature) can reach an entry, and only a token that passed every check is added. Nothing
    that can change while a token is valid is kept as an answer: the caller compares expiry
    (here, on every hit), the JWKS key, revocation and the Better Auth session each time.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: dict[str, Verified] = {}
        self._lock = threading.Lock()

    def get(self, token, now):
        """The token's entry, or None (never seen, evicted, or expired: dropped now)."""
        entry = self._entries.get(token)
        if entry is not None and now >= entry.expires_at:
            self._entries.pop(token, None)
            return None
        return entry

    def add(self, token, entry):
        if self.max_entries <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._make_room(time.time())
            self._entries[token] = entry

    def _make_room(self, now):
        live = {token: e for token, e in self._entries.items() if now < e.expires_at}
        # Still full of live tokens: forget the oldest quarter (a dict keeps insertion order),
        # so that making room costs one pass per max_entries / 4 additions.
        excess = len(live) - self.max_entries * 3 // 4
        for token in list(live)[: max(0, excess)]:
            del live[token]
        self._entries = live
