"""The Next.js example keeps what its README promises a developer who copies or runs it."""

import json
import re

from tests.conftest import ROOT

APP = ROOT / "examples" / "nextjs"


def scripts():
    return json.loads((APP / "package.json").read_text(encoding="utf-8"))["scripts"]


def test_every_script_that_runs_next_turns_telemetry_off():
    running_next = {name: line for name, line in scripts().items() if re.search(r"\bnext\b", line)}

    assert set(running_next) >= {"dev", "build", "start"}
    for name, line in running_next.items():
        assert line.startswith("NEXT_TELEMETRY_DISABLED=1 "), f"npm run {name}: {line}"


def test_the_app_listens_on_127_0_0_1_unless_told_otherwise():
    for name in ("dev", "start"):
        assert "-H 127.0.0.1" in scripts()[name], f"npm run {name} listens on every interface"


def test_the_api_client_is_one_file_to_copy():
    source = (APP / "lib" / "api-client.ts").read_text(encoding="utf-8")
    imports = re.findall(r"""^\s*import\b[^;]*?from\s+["']([^"']+)["']""", source, re.MULTILINE)

    assert imports, "the import parser found nothing"
    assert [name for name in imports if name.startswith((".", "@/"))] == []
