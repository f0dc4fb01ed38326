"""The ``caffe2lite`` command line: one module per subcommand, no engine logic."""

from __future__ import annotations

from caffe2lite.cli.main import main  # noqa: F401
