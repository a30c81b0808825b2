"""A room says what it holds: every module opens with one line, and the README lists it."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ironmind_api"


def modules():
    return sorted(path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py"))


def test_every_module_opens_with_a_one_line_summary():
    for name in modules():
        docstring = ast.get_docstring(ast.parse((PACKAGE / name).read_text(encoding="utf-8")))
        assert docstring, f"{name} has no docstring"
        assert docstring.splitlines()[0].strip(), f"{name}'s docstring opens with a blank line"


def test_the_readme_layout_table_names_every_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Layout"):]
    end = table.find("\n## ", 1)  # the next section, if the table is not the last one
    table = table if end == -1 else table[:end]
    named = set()
    for cell in re.findall(r"^\| ([^|]+) \|", table, flags=re.MULTILINE):
        paths = re.findall(r"`([^`]+\.py)`", cell)
        folder = ""
        for path in paths:
            path = path.removeprefix("ironmind_api/")
            if "/" in path:
                folder = path.rsplit("/", 1)[0] + "/"
            elif folder and not (PACKAGE / path).exists():
                path = folder + path
            named.add(path)
    assert len(named) > 10, "the table did not parse"
    assert set(modules()) - named == set(), "modules missing from the README's layout table"
