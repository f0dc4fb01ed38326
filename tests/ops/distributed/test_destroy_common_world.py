"""DestroyCommonWorld: closes a world in place; collectives on it then fail."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError, SchemaError
from caffe2lite.schema import registry


def test_closes_in_place(world_ws, raises_keeping):
    before = world_ws.fetch_blob("cw")
    world_ws.run_operator_once(CreateOperator("DestroyCommonWorld", ["cw"], ["cw"]))
    after = world_ws.fetch_blob("cw")
    assert after.closed and not before.closed
    world_ws.feed_blob("x", np.ones(2, np.float32))
    raises_keeping(world_ws, CreateOperator("Allreduce", ["cw", "x"], ["x"]), EnforceError,
                   r"Allreduce: the common world was destroyed \(DestroyCommonWorld\)")
    raises_keeping(world_ws, CreateOperator("Barrier", ["cw"], []), EnforceError,
                   "Barrier: the common world was destroyed")


def test_in_place_required(world_ws):
    with pytest.raises(SchemaError, match="are not in-place but should be"):
        world_ws.run_operator_once(CreateOperator("DestroyCommonWorld", ["cw"], ["other"]))


def test_gradient_decision():
    assert registry.gradient_entry("DestroyCommonWorld").kind == registry.SHOULD_NOT_DO
