"""Checkers for people who write operators: compare with a reference, expect errors,
check gradients numerically (see :mod:`caffe2lite.testing.checkers`)."""

from __future__ import annotations

from caffe2lite.testing.checkers import (  # noqa: F401
    assert_same,
    check_gradient,
    check_raises,
    check_reference,
)
