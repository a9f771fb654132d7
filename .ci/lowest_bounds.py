"""Print pip constraints pinning each runtime dependency to its lowest allowed version.

    python .ci/lowest_bounds.py > constraints.txt

Reads pyproject.toml: `strawberry-graphql>=0.330` becomes `strawberry-graphql==0.330`.
A dependency without a lower bound is an error: every range must say where it starts.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def main() -> int:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    for requirement in project["dependencies"]:
        spec = requirement.split(";")[0]
        found = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", spec.strip())
        assert found is not None, requirement
        name, _, ranges = found.groups()
        lowest = re.search(r">=\s*([0-9][^,\s]*)", ranges)
        if lowest is None:
            print(f"{requirement}: no lower bound", file=sys.stderr)
            return 1
        print(f"{name}=={lowest.group(1)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
