"""The floor (issue 17): the least ``GET /api/protected`` the contract allows, as a yardstick.

Bare Flask, ONE PyJWT ``jwt.decode`` of the bearer token and ONE JSON access line per request
(python-json-logger's orjson formatter on stdout, set up as ironmind_api/logs.py does), plus
what the contract asks of every response: an ``X-Request-ID`` header and, on failure, the JSON
error body. No revocation check, no CORS, no rate limit, no schema. Served by bench/run with the
same gunicorn settings as the API and the bare app:

    BETTER_AUTH_SECRET=... BETTER_AUTH_URL=http://127.0.0.1:18702 FLOOR_JWKS_FILE=jwks.json \
        gunicorn -c gunicorn.conf.py bench.floor_app:app

    GET /api/protected         one HS256 decode with BETTER_AUTH_SECRET
    GET /api/protected-eddsa   one EdDSA decode with the first key of FLOOR_JWKS_FILE (the JWKS
                               the harness serves), built once at start-up; iss and aud must be
                               BETTER_AUTH_URL, as the API checks them

Benchmark-only; never part of the API.
"""

import json
import logging
import os
import re
import sys
import time
import uuid
from pathlib import Path

import jwt
from flask import Flask, jsonify, request
from pythonjsonlogger.orjson import OrjsonFormatter

SECRET = os.environ["BETTER_AUTH_SECRET"]
ISSUER = (os.environ.get("BETTER_AUTH_URL") or "").rstrip("/")
JWKS_FILE = os.environ.get("FLOOR_JWKS_FILE")
EDDSA_KEY = jwt.PyJWK(json.loads(Path(JWKS_FILE).read_text())["keys"][0]) if JWKS_FILE else None
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

# The API's formatter settings and logging switches (ironmind_api/logs.py).
logging._srcfile = None
logging.logThreads = False
logging.logMultiprocessing = False
handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(OrjsonFormatter(
    "%(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(process)d",
    rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
    timestamp=True,
))
access_log = logging.getLogger("floor.access")
access_log.addHandler(handler)
access_log.setLevel(logging.INFO)
access_log.propagate = False

app = Flask(__name__)


def decode_hs256(token):
    return jwt.decode(token, SECRET, algorithms=["HS256"], leeway=10,
                      options={"require": ["exp", "sub"]})


def decode_eddsa(token):
    if EDDSA_KEY is None:
        raise jwt.InvalidTokenError("FLOOR_JWKS_FILE is not set")
    return jwt.decode(token, EDDSA_KEY, algorithms=["EdDSA"], leeway=10, issuer=ISSUER,
                      audience=ISSUER, options={"require": ["exp", "sub"]})


def guarded(decode):
    started = time.perf_counter()
    supplied = request.headers.get("X-Request-ID", "")
    request_id = supplied if REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
    user_id = None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        if scheme != "Bearer" or not token:
            raise jwt.InvalidTokenError("no bearer token")
        user_id = decode(token)["sub"]
        response = jsonify(message="Access granted to a protected resource.", user_id=user_id)
    except jwt.InvalidTokenError:
        response = jsonify(error="invalid_token", message="The access token is invalid.",
                           request_id=request_id)
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="ironmind", error="invalid_token"'
    response.headers["X-Request-ID"] = request_id
    access_log.info("request", extra={
        "method": request.method, "path": request.path, "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "remote_addr": request.remote_addr, "request_id": request_id, "user_id": user_id,
    })
    return response


@app.get("/api/protected")
def protected():
    return guarded(decode_hs256)


@app.get("/api/protected-eddsa")
def protected_eddsa():
    return guarded(decode_eddsa)
