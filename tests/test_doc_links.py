"""Every relative link in every tracked Markdown file reaches a tracked file (and its #anchor)."""

import re
import subprocess
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"""<a\s+(?:name|id)=["']([^"']+)["']""")


def git_files():
    """The files a clone has: git's index (untracked files in the working tree do not count)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return frozenset()
    return frozenset(out.decode().split("\0")) - {""}


TRACKED = git_files()


def markdown_files():
    return sorted(p for p in TRACKED if p.endswith(".md") and "node_modules/" not in p)


def prose_lines(text):
    """The lines outside fenced code blocks, inline code spans blanked out."""
    inside = False
    for line in text.splitlines():
        if FENCE.match(line):
            inside = not inside
            continue
        if not inside:
            yield re.sub(r"`[^`]*`", lambda m: " " * len(m.group()), line), line


def slug(heading):
    """GitHub's anchor for a heading: its text lower-cased, punctuation dropped, spaces to -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = text.replace("`", "").replace("*", "").lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def read(path):
    return (ROOT / path).read_text(encoding="utf-8")


def anchors(text):
    found, seen = set(), {}
    for _, line in prose_lines(text):
        found.update(HTML_ANCHOR.findall(line))
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(text):
    for blanked, _ in prose_lines(text):
        yield from INLINE_LINK.findall(blanked)
        yield from REFERENCE.findall(blanked)


def broken_links(path, files=TRACKED, read=read):
    """Each link of the file at `path` that a clone holding `files` cannot follow."""
    here = PurePosixPath(path).parent
    for target in links(read(path)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("//"):
            continue  # http:, https:, mailto:: not this repository's files
        target_path, _, anchor = unquote(target).partition("#")
        target_path = target_path.split("?")[0]
        if target_path:
            resolved = PurePosixPath(*_normalise(here / target_path))
            name = resolved.as_posix()
            is_dir = any(f.startswith(name.rstrip("/") + "/") for f in files)
            if name not in files and not is_dir:
                yield f"{path}: {target} (no such file in the repository)"
                continue
        else:
            name = path
        if anchor and name.endswith(".md") and anchor not in anchors(read(name)):
            yield f"{path}: {target} (no heading #{anchor} in {name})"


def _normalise(path):
    parts = []
    for part in path.parts:
        if part == "..":
            if not parts:
                return ["..", "outside-the-repository"]
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return parts or ["."]


def test_github_slugs_match_the_headings_we_link_to():
    assert slug("The server (`gunicorn.conf.py`)") == "the-server-gunicornconfpy"
    assert slug("1. Concurrency — `test_concurrency.py`") == "1-concurrency--test_concurrencypy"
    assert slug("Set-up 2: Better Auth's plugin (EdDSA)") == "set-up-2-better-auths-plugin-eddsa"


def test_the_link_checker_finds_a_missing_file_an_untracked_one_and_a_missing_anchor():
    pages = {
        "README.md": "# Top\n[ok](docs/A.md#second-part) [code](`x`) `[not](a-link.md)`\n"
        "```\n[in a block](nowhere.md)\n```\n"
        "[gone](docs/B.md) [anchor](docs/A.md#third) [untracked](notes.md) [dir](docs/)\n"
        "[self](#top) [web](https://example.com/x.md) ![img](docs/a.png \"t\")\n",
        "docs/A.md": "# A\n## Second part\n[up](../README.md#top)\n",
    }
    files = frozenset({"README.md", "docs/A.md", "docs/a.png"})

    found = [*broken_links("README.md", files, pages.get)]
    found += broken_links("docs/A.md", files, pages.get)

    assert found == [
        "README.md: docs/B.md (no such file in the repository)",
        "README.md: docs/A.md#third (no heading #third in docs/A.md)",
        "README.md: notes.md (no such file in the repository)",
    ]


def test_every_markdown_file_is_checked():
    assert TRACKED, "not a git checkout: these tests read `git ls-files`, so run them in a clone"
    files = markdown_files()
    for expected in ("README.md", "docs/CONFIGURATION.md", "examples/nextjs/README.md"):
        assert expected in files


@pytest.mark.parametrize("path", markdown_files())
def test_every_relative_link_resolves_in_a_clone(path):
    assert list(broken_links(path)) == []
