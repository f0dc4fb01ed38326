"""Caffe2's ``test_util``: the ``TestCase`` its Python tests derive from, and small
helpers for random test data.

``TestCase`` runs ``GlobalInit`` with Caffe2's test flags and clears engine
preferences once per class, and gives every test an empty current workspace (and a
fresh standalone one as ``self.ws``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unittest
from pathlib import Path
from typing import Any, Callable

import numpy as np


def rand_array(*dims: int) -> np.ndarray:
    """float32 values in [-0.5, 0.5) of shape ``dims`` (a 0-d array for no dims)."""
    return np.array(np.random.rand(*dims) - 0.5).astype(np.float32)


def randBlobFloat32(*dims: int) -> np.ndarray:
    return np.random.rand(*dims).astype(np.float32)


def randBlobsFloat32(names: list[str], *dims: int) -> list[np.ndarray]:
    return [randBlobFloat32(*dims) for _ in names]


def numOps(net: Any) -> int:
    """How many ops a core.Net or NetDef holds."""
    proto = net.Proto() if hasattr(net, "Proto") else net
    return len(proto.op)


def str_compare(a: Any, b: Any, encoding: str = "utf8") -> bool:
    """Compare str and bytes as text."""
    if isinstance(a, bytes):
        a = a.decode(encoding)
    if isinstance(b, bytes):
        b = b.decode(encoding)
    return a == b


def get_default_test_flags() -> list[str]:
    """The flags Caffe2's tests passed to GlobalInit (more from ``CAFFE2_TEST_FLAGS``)."""
    flags = ["caffe2", "--caffe2_log_level=0", "--caffe2_cpu_allocator_do_zero_fill=0",
             "--caffe2_cpu_allocator_do_junk_fill=1"]
    extra = os.getenv("CAFFE2_TEST_FLAGS")
    if extra:
        flags.extend(extra.split())
    return flags


def caffe2_flaky(test_method: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a test flaky: skipped unless ``CAFFE2_RUN_FLAKY_TESTS=1`` (as in Caffe2)."""
    test_method.__caffe2_flaky__ = True  # type: ignore[attr-defined]
    return test_method


def is_flaky_test(test_method: Callable[..., Any]) -> bool:
    return getattr(test_method, "__caffe2_flaky__", False)


class TestCase(unittest.TestCase):
    """Caffe2's ``test_util.TestCase``."""

    @classmethod
    def setUpClass(cls) -> None:
        from caffe2lite import core, workspace

        workspace.GlobalInit(get_default_test_flags())
        core.SetEnginePref({}, {})

    def setUp(self) -> None:
        from caffe2lite import workspace

        test_method = getattr(self, self._testMethodName)
        if is_flaky_test(test_method) and os.getenv("CAFFE2_RUN_FLAKY_TESTS", "0") != "1":
            raise unittest.SkipTest("Flaky test: set CAFFE2_RUN_FLAKY_TESTS=1 to run it")
        self.ws = workspace.C.Workspace()
        workspace.ResetWorkspace()

    def tearDown(self) -> None:
        from caffe2lite import workspace

        workspace.ResetWorkspace()

    def make_tempdir(self) -> Path:
        """A temporary folder removed after the test."""
        folder = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, folder, True)
        return folder

    def assertApproximatelyEqual(self, x: Any, y: Any, places: int | None = None,
                                 delta: float | None = None, msg: str | None = None) -> None:
        """Element-wise assertAlmostEqual over two array-likes of the same shape."""
        x, y = np.asarray(x), np.asarray(y)
        self.assertEqual(x.shape, y.shape, msg)
        for a, b in zip(x.ravel().tolist(), y.ravel().tolist()):
            # unittest itself refuses places and delta together.
            self.assertAlmostEqual(a, b, places=places, delta=delta, msg=msg)  # type: ignore[arg-type]
