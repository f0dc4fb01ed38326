"""Every test here starts from an empty global workspace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from caffe2lite import workspace


@pytest.fixture(autouse=True)
def _fresh_workspace() -> Iterator[None]:
    workspace.ResetWorkspace()
    yield
    workspace.ResetWorkspace()
