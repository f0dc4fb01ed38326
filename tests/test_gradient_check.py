"""caffe2lite.testing.check_gradient: analytic gradients from the registry against
central differences (dense, sparse, in-place, large inputs, and its failures)."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.schema import registry
from caffe2lite.core import CreateOperator
from caffe2lite.testing import check_gradient


@pytest.fixture
def ops(isolated_registries) -> None:
    """Test-only ops with made-up gradients, registered for one test."""

    @registry.register_cpu_operator(
        "TSquare", inputs=["X"], outputs=["Y"], doc="Example: X=[3] -> Y=[9]"
    )
    def t_square(x):
        return (x * x,)

    @registry.register_cpu_operator(
        "TSquareGradient",
        inputs=["X", "dY"],
        outputs=["dX"],
        doc="Example: X=[3], dY=[1] -> dX=[6]",
    )
    def t_square_gradient(x, dy):
        return (2 * x * dy,)

    @registry.register_gradient("TSquare")
    def square_maker(g):
        return [g.op_def("TSquareGradient", [g.I(0), g.GO(0)], [g.GI(0)])]

    @registry.register_cpu_operator(
        "TExp",
        inputs=["X"],
        outputs=["Y"],
        allow_inplace=[(0, 0)],
        doc="Example: X=[0] -> Y=[1]",
    )
    def t_exp(x):
        return (np.exp(x),)

    @registry.register_cpu_operator(
        "TExpGradient",
        inputs=["Y", "dY"],
        outputs=["dX"],
        doc="Example: Y=[1], dY=[2] -> dX=[2]",
    )
    def t_exp_gradient(y, dy):
        return (y * dy,)

    @registry.register_gradient("TExp")
    def exp_maker(g):  # reads the output, so in-place use is fine
        return [g.op_def("TExpGradient", [g.O(0), g.GO(0)], [g.GI(0)])]

    @registry.register_cpu_operator(
        "TRows",
        inputs=["DATA", "INDICES"],
        outputs=["OUT", "N"],
        doc="Example: DATA=[[1], [2]], INDICES=[1] -> OUT=[[2]]",
    )
    def t_rows(data, indices):
        return data[indices] * 3.0, np.array(len(indices), np.int64)

    @registry.register_cpu_operator(
        "TScale3", inputs=["X"], outputs=["Y"], doc="Example: X=[1] -> Y=[3]"
    )
    def t_scale3(x):
        return (x * 3.0,)

    @registry.register_gradient("TRows")
    def rows_maker(g):
        g.SetSparse(0, g.I(1), g.GO(0) + "_scaled")
        return [g.op_def("TScale3", [g.GO(0)], [g.GO(0) + "_scaled"])]

    @registry.register_cpu_operator(
        "TWrong", inputs=["X", "W"], outputs=["Y"], doc="Example: X=[1], W=[2] -> Y=[2]"
    )
    def t_wrong(x, w):
        return (x * w,)

    @registry.register_gradient("TWrong")
    def wrong_maker(g):  # forgets the factor W: dX = dY
        return [g.op_def("TScale3", [g.GO(0)], [g.GI(0)])]


def test_dense_in_place_and_float32_inputs(ops):
    x = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    got = check_gradient(CreateOperator("TSquare", ["x"], ["y"]), [x], 0)
    assert got[0].dtype == np.float64 and got[0].shape == (2, 2)
    check_gradient(CreateOperator("TExp", ["x"], ["x"]), [x], [0])
    check_gradient(CreateOperator("TExp", ["x"], ["y"]), [x], [0])


def test_large_inputs_use_random_directions(ops):
    x = np.random.default_rng(3).standard_normal((30, 20))
    check_gradient(CreateOperator("TSquare", ["x"], ["y"]), [x], 0)


def test_sparse_gradient_is_scattered_into_the_input_shape(ops):
    data = np.arange(12, dtype=np.float64).reshape(4, 3)
    indices = np.array([2, 0, 2], np.int64)
    got = check_gradient(
        CreateOperator("TRows", ["d", "i"], ["o", "n"]), [data, indices], 0
    )
    assert got[0][1].tolist() == [0, 0, 0] and got[0][3].tolist() == [0, 0, 0]


def test_wrong_gradient_reports_the_worst_entries(ops):
    op = CreateOperator("TWrong", ["x", "w"], ["y"])
    with pytest.raises(AssertionError) as e:
        check_gradient(op, [np.ones(3), np.full(3, 2.0)], 0)
    msg = str(e.value)
    assert msg.startswith(
        "TWrong input 0 ('x'): 3 of 3 checks differ from central "
        "differences (eps=0.0001, atol=1e-05, rtol=0.0001); worst: "
    )
    assert "(0,): analytic" in msg and "numeric" in msg


def test_input_without_gradient(ops):
    op = CreateOperator("TWrong", ["x", "w"], ["y"])
    with pytest.raises(
        AssertionError,
        match=r"TWrong input 1 \('w'\) got no gradient from the "
        "gradient registry",
    ):
        check_gradient(op, [np.ones(3), np.full(3, 2.0)], 1)


def test_integer_input_and_missing_float_outputs(ops):
    op = CreateOperator("TRows", ["d", "i"], ["o", "n"])
    with pytest.raises(AssertionError, match=r"input 1 \('i'\) is not a float tensor"):
        check_gradient(op, [np.ones((2, 2)), np.array([0], np.int64)], 1)
    with pytest.raises(AssertionError, match="no float output"):
        check_gradient(op, [np.ones((2, 2)), np.array([0], np.int64)], 0, outputs=[])
