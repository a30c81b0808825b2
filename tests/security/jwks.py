"""The security suite's JWKS: its keys, and a server that serves them on 127.0.0.1."""

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from tests import services

PORTS = range(18400, 18500)  # the security suite's range (README, Quick start)

EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()
ATTACKER_KEY = ec.generate_private_key(ec.SECP256R1())


def public_jwk(private_key, kid, algorithm):
    to_jwk = ECAlgorithm.to_jwk if algorithm == "ES256" else OKPAlgorithm.to_jwk
    jwk = json.loads(to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


JWKS = {"keys": [public_jwk(EC_KEY, "ec-1", "ES256"), public_jwk(ED_KEY, "ed-1", "EdDSA")]}
ATTACKER_JWKS = {"keys": [public_jwk(ATTACKER_KEY, "attacker", "ES256")]}


class JwksServer(ThreadingHTTPServer):
    requested: list


class JwksHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.server.requested.append(self.path)
        body = {"/api/auth/jwks": JWKS, "/attacker/jwks": ATTACKER_JWKS}.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body or {}).encode())

    def log_message(self, *args):
        pass


def free_port():
    return services.free_port(PORTS, reuse_address=True)


@contextlib.contextmanager
def serving_jwks():
    """A JwksServer on a free port of the security range, in a thread, until the block ends."""
    server = JwksServer(("127.0.0.1", free_port()), JwksHandler)
    server.requested = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
