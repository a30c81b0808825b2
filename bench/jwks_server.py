"""A static JWKS on 127.0.0.1, standing in for Better Auth's /api/auth/jwks.

Usage: python -m bench.jwks_server PORT JWKS_FILE. Every fetch is logged to stderr, so the
harness can show that the API caches the keys instead of fetching them per request.
"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def serve(port, jwks):
    body = jwks.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self.path.split("?")[0] != "/api/auth/jwks":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            sys.stderr.write("jwks-fetch " + (fmt % args) + "\n")
            sys.stderr.flush()

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), Path(sys.argv[2]).read_text())
