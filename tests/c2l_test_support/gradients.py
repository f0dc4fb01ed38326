"""Made-up Python gradients, as Caffe2's core_gradients tests define them, and the
helpers the gradient tests share.

The makers are registered for one test at a time by the ``python_gradients`` fixture
of ``tests/conftest.py`` (from ``MAKERS``).
"""

from __future__ import annotations

import pytest

from caffe2lite.core import CreateOperator, GradientRegistry, GradientSlice
from caffe2lite.errors import GradientError


def NeedAll(op, g_output):
    """Every output must have a gradient."""
    for name, g in zip(op.output, g_output):
        if g is None:
            raise RuntimeError(f'Need gradient for "{name}" but it is not provided.')
    return list(g_output)


def GIS(op):
    """The gradient names of the op's inputs: ``<input>_grad``."""
    return [s + "_grad" for s in op.input]


def CopyDeviceOption(op, src_op):
    """Give ``op`` the device option of ``src_op`` (if it has one); returns ``op``."""
    if src_op.HasField("device_option"):
        op.device_option.CopyFrom(src_op.device_option)
    return op


def direct_gradient(op, g_output):
    """Direct: (in -> out) gives (out_grad -> in_grad), on the forward op's device."""
    grad_op = CreateOperator("DirectGradient", NeedAll(op, g_output), GIS(op))
    return CopyDeviceOption(grad_op, op), GIS(op)


def use_output_gradient(op, g_output):
    """UseOutput: the gradient op reads the forward outputs and their gradients."""
    grad_op = CreateOperator(
        "UseOutputGradient", list(op.output) + NeedAll(op, g_output), GIS(op)
    )
    return CopyDeviceOption(grad_op, op), GIS(op)


def use_input_gradient(op, g_output):
    """UseInput: the gradient op reads the forward inputs and the output gradients."""
    grad_op = CreateOperator(
        "UseInputGradient", list(op.input) + NeedAll(op, g_output), GIS(op)
    )
    return CopyDeviceOption(grad_op, op), GIS(op)


def no_gradient(op, g_output):
    """Nogradient: no op, and no gradient for any input."""
    return [], [None for _ in op.input]


def pass_through_gradient(op, g_output):
    """PassThrough: like Sum or the old Add, every input's gradient is the output's,
    with no op."""
    return [], [g_output[0] for _ in op.input]


def sparse_values_gradient(op, g_output):
    """SparseValues: like Gather, values computed by no op, indices taken from
    input 1."""
    return [], [GradientSlice(op.input[1], g_output[0]), None]


def sparse_both_gradient(op, g_output):
    """SparseBoth: like SparseFunHash, one gradient op makes both parts for input 0."""
    i, v = op.input[0] + "_grad_indices", op.input[0] + "_grad_values"
    return CreateOperator("SparseBothGradient", [g_output[0]], [i, v]), [
        GradientSlice(i, v)
    ]


MAKERS = {
    "Direct": direct_gradient,
    "UseOutput": use_output_gradient,
    "UseInput": use_input_gradient,
    "Nogradient": no_gradient,
    "PassThrough": pass_through_gradient,
    "SparseValues": sparse_values_gradient,
    "SparseBoth": sparse_both_gradient,
}


def assert_ops_equal(got, want):
    """Caffe2's assertOperatorListEqual: ignore debug_info and device extra_info."""
    for op in list(got) + list(want):
        op.debug_info = ""
        if op.device_option:
            del op.device_option.extra_info[:]
    assert list(got) == list(want)


def backward(ops, ys):
    """The gradient ops and gradient map of ``ops`` for the outputs ``ys``."""
    return GradientRegistry.GetBackwardPass(ops, ys)


def wrapped(op, message):
    """The message Caffe2's GradientRegistry.GetGradientForOp raised."""
    return f"Exception when creating gradient for [{op.type}]:{message}.\nOp: \n{op}"


def get(op, g_output):
    """The gradient of one op, as GradientRegistry.GetGradientForOp gives it."""
    return GradientRegistry.GetGradientForOp(op, g_output)


def raises(op, g_output, message):
    """Asking for the gradient of ``op`` raises a GradientError with the wrapped
    ``message``."""
    with pytest.raises(Exception) as e:
        get(op, g_output)
    assert isinstance(e.value, GradientError)
    assert str(e.value) == wrapped(op, message)
