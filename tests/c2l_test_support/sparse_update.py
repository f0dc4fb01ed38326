"""The in-place sparse update ops' tests share: running them with the compiled loops
(ops/_caffe2lite_sparse_update.c) and with the numpy ones (``use_loops``, the
``loops`` fixture, ``check_both``), and checking that a run wrote the stored arrays
in place (``run_in_workspace``). A test module uses the fixture by binding it in its
namespace: ``loops = sparse_update.loops`` (an import would make each test's
``loops`` parameter a ruff F811)."""

from __future__ import annotations

import contextlib
import weakref

import pytest
from caffe2lite.ops import _sparse_update_native as sun

from caffe2lite import testing
from caffe2lite.workspace import Workspace

# The compiled loops (ops/_caffe2lite_sparse_update.c) and the numpy ones.
LOOPS = ["compiled", "numpy"]


@contextlib.contextmanager
def use_loops(kind):
    saved = sun.native
    if kind == "compiled" and saved is None:
        pytest.skip(sun.status)
    sun.native = saved if kind == "compiled" else None
    try:
        yield
    finally:
        sun.native = saved


def run_in_workspace(op, inputs, written):
    """Run ``op`` on ``inputs`` fed into a fresh workspace and check that the blobs
    ``written`` were updated in their stored arrays (the same objects, by weak
    references, which do not hold them, and the same memory). Returns the
    workspace."""
    ws = Workspace()
    for name, value in zip(op.input, inputs):
        ws.feed_blob(name, value)
    before = {n: (weakref.ref(ws._blobs[n]), ws._blobs[n].__array_interface__["data"][0])
              for n in written}
    ws.run_operator_once(op)
    for name, (ref, address) in before.items():
        assert ws._blobs[name] is ref(), name
        assert ws._blobs[name].__array_interface__["data"][0] == address, name
    return ws


def check_both(op, inputs, reference, **kw):
    """``testing.check_reference`` with each loop available."""
    for kind in LOOPS[sun.native is None:]:
        with use_loops(kind):
            testing.check_reference(op, inputs, reference, **kw)


@pytest.fixture(params=LOOPS)
def loops(request):
    with use_loops(request.param):
        yield request.param
