"""Every Python package of the source tree ships in the wheel: pyproject.toml lists
each folder under caffe2lite/ and ops/ that has an __init__.py (a forgotten one
installs as a package that fails to import)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _listed() -> set[str]:
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^packages = \[(.*?)\]", text, re.S | re.M).group(1)
    return set(re.findall(r'"([^"]+)"', block))


def _on_disk() -> set[str]:
    found = set()
    for init in (ROOT / "caffe2lite").rglob("__init__.py"):
        found.add(".".join(init.parent.relative_to(ROOT).parts))
    for init in (ROOT / "ops").rglob("__init__.py"):
        found.add(".".join(("caffe2lite",) + init.parent.relative_to(ROOT).parts))
    return found


def test_every_package_is_listed():
    assert _on_disk() - _listed() == set()
    assert _listed() - _on_disk() == set()
