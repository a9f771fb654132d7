"""A non-editable install carries GraphiQL's vendored files and serves its page from them.

`installed` (tests/test_packaging.py) builds the wheel from this tree and
installs it, with its dependencies, into a fresh virtualenv outside the tree.
"""

from __future__ import annotations

import json
import zipfile

from edgehog_creds.http.graphiql import ASSETS_DIR

from .test_packaging import Installed, run
from .test_packaging import installed as installed  # a fixture, shared

PACKAGE_DIR = "edgehog_creds/http/graphiql_assets"


def vendored() -> dict[str, bytes]:
    """Every file of the assets directory in this tree, by its path in the wheel."""
    return {
        f"{PACKAGE_DIR}/{p.relative_to(ASSETS_DIR)}": p.read_bytes()
        for p in ASSETS_DIR.rglob("*")
        if p.is_file()
    }


def test_the_wheel_carries_every_vendored_file(installed: Installed):
    files = vendored()
    assert f"{PACKAGE_DIR}/graphiql-3.8.3.min.js" in files
    assert f"{PACKAGE_DIR}/licenses/graphiql-3.8.3.LICENSE" in files
    with zipfile.ZipFile(installed.wheel) as whl:
        shipped = {n for n in whl.namelist() if n.startswith(PACKAGE_DIR + "/")}
        assert shipped == set(files)
        for name, body in files.items():
            assert whl.read(name) == body, name


def test_the_installed_package_serves_the_page_from_its_own_files(installed: Installed, tmp_path):
    probe = (
        "import json\n"
        "from edgehog_creds.http.graphiql import ASSETS_DIR, assets, graphiql_html\n"
        "html = graphiql_html()\n"
        "print(json.dumps({'dir': str(ASSETS_DIR), 'files': sorted(assets()),"
        " 'external': '://' in html}))\n"
    )
    out = run([installed.venv / "bin" / "python", "-c", probe], tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    found = json.loads(out.stdout)
    assert found["dir"] == str(installed.package / "http" / "graphiql_assets")
    manifest = json.loads((ASSETS_DIR / "manifest.json").read_text())
    assert found["files"] == sorted(manifest["files"])
    assert found["external"] is False
