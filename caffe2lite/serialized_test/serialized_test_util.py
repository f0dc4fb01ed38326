"""Caffe2's ``serialized_test_util``: ``SerializedTestCase`` and ``given``.

Caffe2 also saved each test's first example and compared later runs with the saved
outputs; caffe2lite ships no such saved outputs, so ``SerializedTestCase`` is
``HypothesisTestCase`` and ``given`` is hypothesis's ``given`` (the checks each test
makes, ``assertReferenceChecks`` and the rest, are unchanged).

>>> issubclass(SerializedTestCase, HypothesisTestCase)
True
"""

from __future__ import annotations

from typing import Any, Callable

from caffe2lite.testing.hypothesis_util import HypothesisTestCase


class SerializedTestCase(HypothesisTestCase):
    """A HypothesisTestCase (no outputs are saved or compared across runs)."""


def given(*args: Any, **kwargs: Any) -> Callable[..., Any]:
    """Caffe2's ``serial.given``: hypothesis's ``given`` with the same strategies."""
    import hypothesis

    return hypothesis.given(*args, **kwargs)
