"""Sub and SubGradient: the broadcasting binary op tests of
``c2l_test_support.broadcast`` with C = A - B."""

from __future__ import annotations

from c2l_test_support.broadcast import BinaryOpTests


class TestSub(BinaryOpTests):
    OP = "Sub"

    @staticmethod
    def F(x, y):
        """One output element."""
        return x - y

    @staticmethod
    def G(g, x, y):
        """(contribution to dA, contribution to dB) of one output element's gradient."""
        return g, -g


def test_shape_and_cost_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op, op_cost
    from caffe2lite.schema.shapes import Cost, TensorShape

    f8 = np.dtype(np.float64)
    op = CreateOperator("Sub", ["A", "B"], ["C"])
    a, b = TensorShape((4, 1), f8), TensorShape((1, 5), f8)
    assert infer_op(op, [a, b]) == [TensorShape((4, 5), f8)]
    assert op_cost(op, [a, b]) == Cost(4, 72, 32, 0)
    grad = CreateOperator("SubGradient", ["dC", "A", "B"], ["dA", "dB"])
    assert infer_op(grad, [TensorShape((4, 5), f8), a, b]) == [a, b]
