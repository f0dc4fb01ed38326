from __future__ import annotations

from caffe2lite.core import CreateOperator
from caffe2lite.ops.train.create_mutex import Mutex
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO
from caffe2lite.workspace import Workspace


def test_creates_a_new_unlocked_mutex_each_run():
    ws = Workspace()
    op = CreateOperator("CreateMutex", [], ["m"])
    ws.run_operator_once(op)
    first = ws.fetch_blob("m")
    ws.run_operator_once(op)
    second = ws.fetch_blob("m")
    assert isinstance(first, Mutex) and isinstance(second, Mutex) and first is not second
    assert not second.locked()
    assert repr(second) == "<std::unique_ptr<std::mutex>>"


def test_mutex_is_a_context_manager():
    m = Mutex()
    with m:
        assert m.locked()
    assert not m.locked()


def test_should_not_do_gradient():
    assert GRADIENTS["CreateMutex"].kind == SHOULD_NOT_DO


def test_shape_inference_is_unknown():
    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import UNKNOWN

    assert infer_op(CreateOperator("CreateMutex", [], ["m"]), []) == [UNKNOWN]
