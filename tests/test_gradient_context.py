"""The context a built-in gradient maker sees (Caffe2's GradientMakerBase helpers)
and its errors, wrapped as Caffe2's Python GradientRegistry wrapped them."""

from __future__ import annotations

import re

import pytest
from c2l_test_support.gradients import get, raises

from caffe2lite.schema import registry
from caffe2lite.core import CreateOperator, GradientSlice
from caffe2lite.errors import GradientError
from caffe2lite.gradient.backward import GradientContext


def _register(op_type, body):
    registry.register_gradient(op_type)(body)
    return CreateOperator(op_type, ["x", "w"], ["y", "z"])


@pytest.mark.parametrize(
    "body, g_output, message",
    [
        (
            lambda g: (g.GI(0), g.GI_I(0)),
            ["y_grad", None],
            "Input x already set to dense.",
        ),
        (
            lambda g: (g.GI_V(0), g.GI(0)),
            ["y_grad", None],
            "Input x already set to sparse.",
        ),
        (
            lambda g: (g.SetSparse(1, "i", "v"), g.SetDense(1, "d")),
            ["y_grad", None],
            "Input w already set to sparse.",
        ),
        (
            lambda g: (g.SetDense(1, "d"), g.SetSparse(1, "i", "v")),
            ["y_grad", None],
            "Input w already set to dense.",
        ),
        (
            lambda g: (g.GI_I(0), []),
            ["y_grad", None],
            (
                "For sparse gradient, one should set both indices and values. "
                "Currently we have: (x_grad_indices, )."
            ),
        ),
        (
            lambda g: (g.GO(1),),
            ["y_grad", None],
            "Gradient of output z is not provided!",
        ),
        (
            lambda g: (g.GO(0),),
            [GradientSlice("i", "v"), None],
            "Gradient of output y is sparse (expected dense).",
        ),
        (
            lambda g: (g.GO_I(0),),
            ["y_grad", None],
            "Gradient of output y is dense (expected sparse).",
        ),
        (
            lambda g: (g.GO_V(1),),
            ["y_grad", None],
            "Gradient of output z is not provided!",
        ),
    ],
)
def test_context_errors(isolated_registries, body, g_output, message):
    def maker(g):
        body(g)
        return []

    op = _register("TContext", maker)
    raises(op, g_output, message)


def test_context_index_errors(isolated_registries):
    op = _register("TIndex", lambda g: [g.op_def("T", [g.I(5)], [])])
    with pytest.raises(
        GradientError,
        match=re.escape("Input index 5 is out of range for operator TIndex"),
    ):
        get(op, ["y_grad", None])


def test_context_helpers():
    op = CreateOperator("T", ["x", "w"], ["y", "z"], alpha=0.5, mode="fast", n=3)
    g = GradientContext(op, [GradientSlice("yi", "yv"), "z_grad"])
    assert (g.I(1), g.O(1), g.GO(1), g.GO_I(0), g.GO_V(0)) == (
        "w",
        "z",
        "z_grad",
        "yi",
        "yv",
    )
    assert g.GradOut(0) == GradientSlice("yi", "yv") and g.GradOut(1) == "z_grad"
    assert (
        g.arg("alpha", 0.0),
        g.arg("mode", ""),
        g.arg("n", 0.0),
        g.arg("missing", 7),
    ) == (0.5, "fast", 3.0, 7)
    assert isinstance(g.arg("n", 0.0), float) and g.arg("n", False) is True
    assert (g.GI_I(0), g.GI_V(0)) == ("x_grad_indices", "x_grad_values")
    g.SetDense(1, "shared")
    assert g.g_input() == [GradientSlice("x_grad_indices", "x_grad_values"), "shared"]
    made = g.op_def("TGradient", ["a"], ["b"], k=[1, 2])
    assert (
        made.HasField("name") and made.name == "" and list(made.arg[0].ints) == [1, 2]
    )
