"""Fresh tokens for the distinct-token scenarios (issue 25): minted before the load, each sent once.

wrk's Lua cannot sign a JWT, so the harness mints a pool per kind in Python (the API's own
HS256 token shape, and the Better Auth-style EdDSA token's, each with the same claims as the
same-token scenario's token), and every wrk run of a distinct-token case gets the next unspent
part of it in a file, one token per line (bench/wrk/bench.lua splits it between its threads).
A token a run may have sent is never handed out again, so no cache, in the API or anywhere
else, can have seen it. Before each run the pool is topped up, while every server is idle, to
hold a window of WINDOW_RPS x the run's seconds (more than any server here answers), so it
never runs short and mints little more than the run uses.

What makes each token different:

- HS256 (the API's own access token, as a sign-in mints it): a new ``jti`` (a uuid4, as
  flask-jwt-extended writes it), ``iat``/``nbf`` the pool's start and ``exp`` an hour later;
- EdDSA (Better Auth's JWT plugin writes no ``jti``): token i has ``exp`` i seconds after the
  pool's start + 1 hour, and ``iat`` a second earlier every 80,000 tokens, so the claims are
  those of the same-token case, no two tokens of a pool are alike, and every lifetime stays
  between 1 and 24 hours (MAX_TOKEN_LIFETIME is 86,400 s).
"""

import os
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

# A run's window: tokens for this many req/s (the floor's best is ~3,300 on 2 cores, bare
# Flask's ~6,000); a thread that still runs out stops and is counted (bench/wrk/bench.lua).
WINDOW_RPS = 8000
LIFETIME_S = 3600
EXP_STEPS = 80_000  # EdDSA: tokens per iat second (exp - iat <= 3,600 + 80,000 + a few)


class TokenPool:
    """Tokens of one kind, handed out in order; spent ones are never handed out again.

    ``mint(*args, start, count)`` makes tokens ``start`` .. ``start + count - 1``.
    """

    def __init__(self, kind, mint, args, workers=None):
        self.kind, self.mint = kind, mint
        self.args = (*args, int(time.time()))  # the pool's start: every token's time base
        self.workers = workers or os.cpu_count() or 1
        self.tokens = []
        self.mint_s = 0.0
        self.next = 0
        self.runs = 0
        self.exhausted = 0

    def __repr__(self):
        return f"TokenPool({self.kind}, {self.remaining()} of {len(self.tokens)} left)"

    def remaining(self):
        return len(self.tokens) - self.next

    def ensure(self, count):
        """Mint until at least ``count`` unspent tokens are in the pool."""
        missing = count - self.remaining()
        if missing > 0:
            started = time.monotonic()
            self.tokens += _mint_parallel(self.mint, self.args, len(self.tokens), missing,
                                          self.workers)
            self.mint_s = round(self.mint_s + time.monotonic() - started, 2)

    def take(self):
        """One token, spent at once (for a probe)."""
        self.ensure(1)
        self.next += 1
        return self.tokens[self.next - 1]

    def write_window(self, path, size):
        """The next ``size`` unspent tokens, minted first if need be, one per line."""
        self.ensure(size)
        window = self.tokens[self.next:self.next + size]
        path.write_text("".join(token + "\n" for token in window))
        return len(window)

    def spend(self, used, threads, exhausted=0):
        """Mark what a run took from its window: thread k (1-based) of ``threads`` sent the
        first ``used[k-1]`` of lines k, k + threads, ... (bench.lua's slices). The unused
        lines between the slices' ends are skipped too: spent, if never sent."""
        last = max((k + (count - 1) * threads for k, count in enumerate(used) if count),
                   default=-1)
        self.next += last + 1
        self.runs += 1
        self.exhausted += exhausted

    def summary(self):
        return {"minted": len(self.tokens), "all_distinct": len(set(self.tokens)) == len(
                    self.tokens), "spent": self.next, "mint_s": self.mint_s,
                "runs": self.runs, "runs_out_of_tokens": self.exhausted}


def mint_hs256(secret, template, now, start, count):
    """``count`` HS256 tokens with ``template``'s claims, each a new jti, issued at ``now``."""
    tokens = []
    for _ in range(count):
        claims = {**template, "jti": str(uuid.uuid4()), "iat": now, "exp": now + LIFETIME_S}
        if "nbf" in template:
            claims["nbf"] = now
        tokens.append(jwt.encode(claims, secret, algorithm="HS256"))
    return tokens


def mint_eddsa(private_bytes, kid, template, now, start, count):
    """Tokens ``start`` .. ``start + count - 1`` of an EdDSA pool started at ``now``:
    ``template``'s claims, each with its own (iat, exp)."""
    key = Ed25519PrivateKey.from_private_bytes(private_bytes)
    headers = {"kid": kid}
    tokens = []
    for index in range(start, start + count):
        back, ahead = divmod(index, EXP_STEPS)
        claims = {**template, "iat": now - back, "exp": now + LIFETIME_S + ahead}
        tokens.append(jwt.encode(claims, key, algorithm="EdDSA", headers=headers))
    return tokens


def _mint_parallel(mint, args, first, count, workers):
    """``mint(*args, start, count)`` for tokens first .. first + count - 1, split over
    ``workers`` forked processes (small batches in this one), in order."""
    workers = max(1, min(workers, count // 2000))
    if workers == 1:
        return mint(*args, first, count)
    share = -(-count // workers)
    spans = [(first + done, min(share, count - done)) for done in range(0, count, share)]
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as executor:
        parts = executor.map(mint, *zip(*[(*args, s, n) for s, n in spans], strict=True))
        return [token for part in parts for token in part]


def hs256_pool(secret, template, workers=None):
    return TokenPool("HS256", mint_hs256, (secret, template), workers)


def eddsa_pool(key, kid, template, workers=None):
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return TokenPool("EdDSA", mint_eddsa, (raw, kid, template), workers)
