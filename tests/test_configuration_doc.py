"""docs/CONFIGURATION.md names every environment variable config.py and gunicorn.conf.py read."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "CONFIGURATION.md"
# The helpers that read one variable by name (config.py's _env_*, gunicorn.conf.py's _int).
READERS = re.compile(r"_env_\w+|_int")


def is_environ(node):
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def variables_read(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Subscript) and is_environ(node.value):
            key = node.slice
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            environ_get = isinstance(func, ast.Attribute) and func.attr == "get" and is_environ(
                func.value
            )
            reader = isinstance(func, ast.Name) and READERS.fullmatch(func.id)
            if not (environ_get or reader):
                continue
            key = node.args[0]
        else:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def documented():
    """The variables named in the first cell of the doc's table rows."""
    text = DOC.read_text(encoding="utf-8")
    cells = re.findall(r"^\| ([^|]+) \|", text, flags=re.MULTILINE)
    return {name for cell in cells for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}


def test_every_variable_the_app_or_gunicorn_reads_has_a_row_in_configuration_md():
    read = variables_read(ROOT / "config.py") | variables_read(ROOT / "gunicorn.conf.py")

    assert len(read) > 30, "the parser found too few variables: did config.py change shape?"
    assert read - documented() == set(), "read by config.py/gunicorn.conf.py, no row in the doc"


def test_configuration_md_names_no_variable_nobody_reads():
    read = variables_read(ROOT / "config.py") | variables_read(ROOT / "gunicorn.conf.py")

    assert documented() - read == set(), "a row in docs/CONFIGURATION.md that nothing reads"
