"""The package uses its libraries through their front doors (../shared/STYLE.md, point 11).

Read from the source, as an auditor would: no attribute with a leading underscore is read
or written on anything but the package's own objects, no code is generated at run time, and
nothing is installed into a library when an app is built.
"""

import ast
from pathlib import Path

import jwt
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from jwt.api_jws import PyJWS
from jwt.api_jwt import PyJWT
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from marshmallow import Schema
from webargs.flaskparser import FlaskParser

from config import TestingConfig
from ironmind_api import create_app

PACKAGE = Path(__file__).resolve().parent.parent / "ironmind_api"
# The logging HOWTO's own "Optimization" advice: set logging._srcfile to None.
ALLOWED = {("logging", "_srcfile")}
# marshmallow documents custom fields as subclasses that override these two methods.
DOCUMENTED_OVERRIDES = {"_serialize", "_deserialize"}
GENERATED_CODE = {"exec", "eval", "compile"}
ALGORITHMS = ("HS256", "HS384", "HS512", "EdDSA", "ES256", "RS256", "PS256")


def modules(package):
    return sorted(package.rglob("*.py"))


def own_private_names(package):
    """Underscore names the package defines itself: functions, methods, attributes it sets."""
    names = set()
    for path in modules(package):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
    return {name for name in names if name.startswith("_")}


def private_uses(package=PACKAGE):
    own = own_private_names(package)
    found = []
    for path in modules(package):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(package.parent)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in GENERATED_CODE:
                found.append(f"{where} {node.func.id}()")
            if not isinstance(node, ast.Attribute):
                continue
            name = node.attr
            if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and (owner.id, name) in ALLOWED:
                continue
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls") and name in own:
                continue
            is_super = isinstance(owner, ast.Call) and getattr(owner.func, "id", "") == "super"
            if is_super and name in DOCUMENTED_OVERRIDES:
                continue
            found.append(f"{where} {ast.unparse(node)}")
    return found


def test_no_library_private_name_is_used_at_run_time():
    assert private_uses() == []


def test_the_scan_would_see_a_private_use(tmp_path):
    # Guards the scan itself: the patterns the old request path used are all caught.
    sample = tmp_path / "ironmind_api"
    sample.mkdir()
    (sample / "bad.py").write_text(
        "PyJWS._load = memo\n"
        "app.before_request_funcs[None].remove(limiter._check_request_limit)\n"
        "fn._apidoc = {}\n"
        "schema._hooks.get('pre_dump')\n"
        "exec(source, namespace)\n"
        "obj = self._prepare_response_obj(args, kwargs)\n"
    )
    assert len(private_uses(sample)) == 6


def library_state():
    """What a process-wide patch would change: these classes' attributes, PyJWT's algorithms."""
    classes = (
        PyJWS, PyJWT, Flask, FixedWindowRateLimiter, MovingWindowRateLimiter, Schema, FlaskParser,
        DefaultJSONProvider,
    )
    state = {cls.__qualname__: dict(vars(cls)) for cls in classes}
    state["algorithms"] = {name: jwt.get_algorithm_by_name(name) for name in ALGORITHMS}
    return state


def test_building_an_app_changes_no_library(database_uri):
    before = library_state()
    create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_uri)
    assert library_state() == before
