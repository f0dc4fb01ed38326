"""Fixtures of the DB operator tests: a fresh default workspace rooted in a temporary
folder, and helpers to run Save and Load."""

from __future__ import annotations

import pytest

from caffe2lite import workspace


@pytest.fixture
def ws_root(tmp_path):
    """The current workspace, emptied, with ``tmp_path`` as its root folder."""
    workspace.ResetWorkspace(str(tmp_path))
    yield tmp_path
    workspace.ResetWorkspace()
