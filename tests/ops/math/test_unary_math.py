"""The one-input math ops of ops/math/unary_math.py and their gradient ops: values
against scalar references (Python's math module, one element at a time), edge cases,
errors, numeric gradients and the exact gradient ops Caffe2 emitted."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, GradientError, SchemaError, ShapeError
from caffe2lite.workspace import Workspace


def _softplus(x):
    return math.log1p(math.exp(x)) if x < 30 else x + math.log1p(math.exp(-x))


SCALAR = {  # op -> (one element of Y from one element of X, domain of X)
    "Exp": (math.exp, (-5, 5)),
    "Log": (math.log, (0.1, 10)),
    "Log1p": (math.log1p, (-0.9, 10)),
    "Sqr": (lambda x: x * x, (-5, 5)),
    "Sqrt": (math.sqrt, (0.1, 10)),
    "RSqrt": (lambda x: 1 / math.sqrt(x), (0.1, 10)),
    "Rsqrt": (lambda x: 1 / math.sqrt(x), (0.1, 10)),
    "Reciprocal": (lambda x: 1 / x, (0.5, 5)),
    "Cube": (lambda x: x ** 3, (-3, 3)),
    "Cbrt": (lambda x: math.copysign(abs(x) ** (1 / 3), x), (0.1, 8)),
    "Abs": (abs, (-5, 5)),
    "Negative": (lambda x: -x, (-5, 5)),
    "Sign": (lambda x: (x > 0) - (x < 0), (-5, 5)),
    "Sin": (math.sin, (-4, 4)),
    "Cos": (math.cos, (-4, 4)),
    "Acos": (math.acos, (-0.9, 0.9)),
    "Asin": (math.asin, (-0.9, 0.9)),
    "Atan": (math.atan, (-5, 5)),
    "Tan": (math.tan, (-1.2, 1.2)),
    "Erf": (math.erf, (-3, 3)),
    "Ceil": (math.ceil, (-5, 5)),
    "Floor": (math.floor, (-5, 5)),
    "Tanh": (math.tanh, (-4, 4)),
    "Softsign": (lambda x: x / (1 + abs(x)), (-5, 5)),
    "Softplus": (_softplus, (-5, 5)),
}


def naive_unary(op_type):
    f = SCALAR[op_type][0]

    def ref(x):
        out = np.empty(x.shape, x.dtype)
        for idx in np.ndindex(*x.shape):
            out[idx] = f(float(x[idx]))
        return [out]

    return ref


def sample(op_type, shape, dtype, seed):
    lo, hi = SCALAR[op_type][1]
    rng = np.random.default_rng(seed)
    x = rng.uniform(lo, hi, shape)
    if op_type in ("Abs", "Sign", "Negative"):
        x.flat[:: 3] = 0  # exact zeros are the interesting case
    return x.astype(dtype)


@settings(max_examples=40, deadline=None)
@given(op_type=st.sampled_from(sorted(SCALAR)), dtype=st.sampled_from([np.float32, np.float64]),
       shape=st.lists(st.integers(0, 4), max_size=3), seed=st.integers(0, 2**16))
def test_forward_matches_scalar_reference(op_type, dtype, shape, seed):
    x = sample(op_type, shape, dtype, seed)
    rtol = 2e-6 if dtype == np.float32 else 1e-12
    testing.check_reference(CreateOperator(op_type, ["X"], ["Y"]), [x], naive_unary(op_type),
                            atol=1e-30, rtol=rtol)


@pytest.mark.parametrize("op_type", ["Cube", "Negative", "Sign"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_types(op_type, dtype):
    x = np.array([[-7, 0, 3], [5, -1, 2]], dtype)
    testing.check_reference(CreateOperator(op_type, ["X"], ["Y"]), [x], naive_unary(op_type),
                            atol=0, rtol=0)


def test_integer_cube_and_negative_wrap_like_cpp():
    x = np.array([2**11, -2**31], np.int32)
    got = testing.check_reference(CreateOperator("Negative", ["X"], ["Y"]), [x],
                                  lambda v: [np.array([-2**11, -2**31], np.int32)])
    assert got[0].dtype == np.int32
    testing.check_reference(CreateOperator("Cube", ["X"], ["Y"]), [x[:1]],
                            lambda v: [np.array([0], np.int32)])  # 2^33 mod 2^32


def test_special_values():
    inf, nan = np.inf, np.nan
    cases = {
        "Log": ([0, -1, inf], [-inf, nan, inf]),
        "Reciprocal": ([0, -0.0, inf], [inf, -inf, 0]),
        "Sqrt": ([-1, 0, inf], [nan, 0, inf]),
        "Sign": ([nan, -0.0, -inf], [0, 0, -1]),
        "Softplus": ([100, -100, 0], [100, 3.7200760e-44, 0.6931472]),
        "Cbrt": ([-27, inf, 0], [-3, inf, 0]),
    }
    for op_type, (x, y) in cases.items():
        testing.check_reference(CreateOperator(op_type, ["X"], ["Y"]),
                                [np.array(x, np.float32)],
                                lambda v, y=y: [np.array(y, np.float32)], atol=1e-45)


@pytest.mark.parametrize("op_type", sorted(SCALAR))
def test_zero_d_and_empty(op_type):
    op = CreateOperator(op_type, ["X"], ["Y"])
    x0 = sample(op_type, (), np.float32, 1)
    got = testing.check_reference(op, [x0], naive_unary(op_type), rtol=2e-6)
    assert got[0].shape == () and got[0].dtype == np.float32
    got = testing.check_reference(op, [np.zeros((0, 3), np.float64)], naive_unary(op_type))
    assert got[0].shape == (0, 3) and got[0].dtype == np.float64


INPLACE = {"Exp", "Log", "Sqr", "Sqrt", "RSqrt", "Rsqrt", "Reciprocal", "Ceil", "Floor", "Cbrt", "Negative", "Tanh",
           "Softsign", "Softplus"}


@pytest.mark.parametrize("op_type", sorted(SCALAR))
def test_in_place_as_caffe2_allowed(op_type):
    x = sample(op_type, (2, 3), np.float32, 2)
    op = CreateOperator(op_type, ["X"], ["X"])
    if op_type in INPLACE:
        ws = Workspace()
        ws.feed_blob("X", x)
        ws.run_operator_once(op)
        np.testing.assert_allclose(ws.fetch_blob("X"), naive_unary(op_type)(x)[0], rtol=2e-6)
    else:
        testing.check_raises(op, [x], SchemaError, "in-place")


TYPED_READ = {"Softplus", "Ceil", "Floor"}  # Caffe2 kernels that read float data directly


@pytest.mark.parametrize("op_type", sorted(set(SCALAR) - {"Cube", "Negative", "Sign"}))
def test_float_only_ops_refuse_integers(op_type):
    # Caffe2's Softplus kernels read float data directly (a "type mismatch"); the other
    # ops dispatched on the type ("Unsupported type").
    message = ("caller expects elements to be float while tensor contains int"
               if op_type in TYPED_READ else "Unsupported type of tensor: int")
    testing.check_raises(CreateOperator(op_type, ["X"], ["Y"]), [np.ones(3, np.int32)],
                         DTypeError, message)
    if op_type == "Softplus":
        testing.check_raises(CreateOperator("SoftplusGradient", ["Y", "dY"], ["dX"]),
                             [np.ones(3, np.int64)] * 2, DTypeError,
                             "caller expects elements to be float while tensor contains long")


def test_numeric_only_ops_refuse_other_types():
    testing.check_raises(CreateOperator("Sign", ["X"], ["Y"]), [np.ones(3, bool)],
                         DTypeError, "Unsupported type of tensor: bool")
    testing.check_raises(CreateOperator("Cube", ["X"], ["Y"]), [np.ones(3, np.float16)],
                         DTypeError, re.escape("Unsupported type of tensor: c10::Half"))


GRAD_OPS = {  # gradient op -> (its two inputs as (name, source), dX per element)
    "Log1pGradient": ("Log1p", ("X", "dY"), lambda x, dy: dy / (1 + x)),
    "RSqrtGradient": ("RSqrt", ("dY", "Y"), lambda dy, y: -0.5 * dy * y ** 3),
    "RsqrtGradient": ("Rsqrt", ("dY", "Y"), lambda dy, y: -0.5 * dy * y ** 3),
    "ReciprocalGradient": ("Reciprocal", ("Y", "dY"), lambda y, dy: -dy * y * y),
    "CubeGradient": ("Cube", ("dY", "X"), lambda dy, x: 3 * dy * x * x),
    "CbrtGradient": ("Cbrt", ("dY", "Y"), lambda dy, y: dy / (3 * y * y)),
    "AbsGradient": ("Abs", ("X", "dY"), lambda x, dy: 0.0 if x == 0 else (dy if x > 0 else -dy)),
    "SinGradient": ("Sin", ("X", "dY"), lambda x, dy: dy * math.cos(x)),
    "CosGradient": ("Cos", ("X", "dY"), lambda x, dy: -dy * math.sin(x)),
    "AcosGradient": ("Acos", ("X", "dY"), lambda x, dy: -dy / math.sqrt(1 - x * x)),
    "AsinGradient": ("Asin", ("dY", "X"), lambda dy, x: dy / math.sqrt(1 - x * x)),
    "AtanGradient": ("Atan", ("X", "dY"), lambda x, dy: dy / (1 + x * x)),
    "TanGradient": ("Tan", ("X", "dY"), lambda x, dy: dy / math.cos(x) ** 2),
    "ErfGradient": ("Erf", ("X", "dY"),
                    lambda x, dy: 2 / math.sqrt(math.pi) * math.exp(-x * x) * dy),
    "TanhGradient": ("Tanh", ("Y", "dY"), lambda y, dy: dy * (1 - y * y)),
    "SoftsignGradient": ("Softsign", ("X", "dY"), lambda x, dy: dy / (1 + abs(x)) ** 2),
    "SoftplusGradient": ("Softplus", ("Y", "dY"), lambda y, dy: dy * (1 - math.exp(-y))),
}


@pytest.mark.parametrize("grad_type", sorted(GRAD_OPS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_ops_match_scalar_formulas(grad_type, dtype):
    fwd, (a_name, b_name), f = GRAD_OPS[grad_type]
    rng = np.random.default_rng(len(grad_type))
    x = sample(fwd, (3, 4), dtype, 5)
    y = naive_unary(fwd)(x)[0]
    dy = rng.standard_normal((3, 4)).astype(dtype)
    pick = {"X": x, "Y": y, "dY": dy}
    a, b = pick[a_name], pick[b_name]

    def ref(a, b):
        out = np.empty(a.shape, dtype)
        for idx in np.ndindex(*a.shape):
            out[idx] = f(float(a[idx]), float(b[idx]))
        return [out]

    op = CreateOperator(grad_type, [a_name, b_name], ["dX"])
    testing.check_reference(op, [a, b], ref, atol=1e-6, rtol=1e-5)


def test_gradient_ops_check_their_inputs():
    op = CreateOperator("TanhGradient", ["Y", "dY"], ["dX"])
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones(6, np.float32)],
                         ShapeError, re.escape("Y.sizes() == dY.sizes()"))
    testing.check_raises(op, [np.ones(3, np.float32), np.ones(3, np.float64)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    testing.check_raises(op, [np.ones(3, np.int64), np.ones(3, np.int64)], DTypeError,
                         "Unsupported type of tensor: long")
    cube = CreateOperator("CubeGradient", ["dY", "X"], ["dX"])
    testing.check_reference(cube, [np.array([1, 2], np.int64), np.array([3, -2], np.int64)],
                            lambda dy, x: [np.array([27, 24], np.int64)], atol=0)


def test_gradient_in_place_pairs():
    ws = Workspace()
    ws.feed_blob("Y", np.array([0.5, -0.5], np.float32))
    ws.feed_blob("dY", np.array([2, 4], np.float32))
    ws.run_operator_once(CreateOperator("TanhGradient", ["Y", "dY"], ["dY"]))
    np.testing.assert_allclose(ws.fetch_blob("dY"), [1.5, 3])
    testing.check_raises(CreateOperator("SinGradient", ["X", "dY"], ["dY"]),
                         [np.ones(2, np.float32)] * 2, SchemaError, "in-place")


DOMAINS = {op: SCALAR[op][1] for op in SCALAR if op not in ("Sign", "Ceil", "Floor")}


@pytest.mark.parametrize("op_type", sorted(DOMAINS))
def test_numeric_gradient(op_type):
    x = sample(op_type, (2, 3), np.float64, 7)
    if op_type == "Abs":
        x = np.where(np.abs(x) < 0.1, 0.5, x)  # away from the kink
    testing.check_gradient(CreateOperator(op_type, ["X"], ["Y"]), [x], 0, eps=1e-6,
                           atol=1e-6, rtol=1e-5)


def _backward(op_type, inputs=("X",), outputs=("Y",)):
    op = CreateOperator(op_type, list(inputs), list(outputs))
    ops, grads = GradientRegistry.GetBackwardPass([op], {outputs[0]: outputs[0] + "_grad"})
    return [(o.type, list(o.input), list(o.output), {a.name: a.f for a in o.arg})
            for o in ops], grads


EXPECTED_BACKWARD = {
    "Exp": [("Mul", ["Y", "Y_grad"], ["X_grad"], {})],
    "Log": [("Div", ["Y_grad", "X"], ["X_grad"], {})],
    "Log1p": [("Log1pGradient", ["X", "Y_grad"], ["X_grad"], {})],
    "Sqr": [("Scale", ["Y_grad"], ["Y_grad"], {"scale": 2.0}),
            ("Mul", ["Y_grad", "X"], ["X_grad"], {})],
    "Sqrt": [("Scale", ["Y_grad"], ["X_grad"], {"scale": 0.5}),
             ("Div", ["X_grad", "Y"], ["X_grad"], {})],
    "RSqrt": [("RSqrtGradient", ["Y_grad", "Y"], ["X_grad"], {})],
    "Rsqrt": [("RsqrtGradient", ["Y_grad", "Y"], ["X_grad"], {})],
    "Reciprocal": [("ReciprocalGradient", ["Y", "Y_grad"], ["X_grad"], {})],
    "Cube": [("CubeGradient", ["Y_grad", "X"], ["X_grad"], {})],
    "Cbrt": [("CbrtGradient", ["Y_grad", "Y"], ["X_grad"], {})],
    "Abs": [("AbsGradient", ["X", "Y_grad"], ["X_grad"], {})],
    "Negative": [("Negative", ["Y_grad"], ["X_grad"], {})],
    "Sin": [("SinGradient", ["X", "Y_grad"], ["X_grad"], {})],
    "Cos": [("CosGradient", ["X", "Y_grad"], ["X_grad"], {})],
    "Acos": [("AcosGradient", ["X", "Y_grad"], ["X_grad"], {})],
    "Asin": [("AsinGradient", ["Y_grad", "X"], ["X_grad"], {})],
    "Atan": [("AtanGradient", ["X", "Y_grad"], ["X_grad"], {})],
    "Tan": [("TanGradient", ["X", "Y_grad"], ["X_grad"], {})],
    "Erf": [("ErfGradient", ["X", "Y_grad"], ["X_grad"], {})],
    "Tanh": [("TanhGradient", ["Y", "Y_grad"], ["X_grad"], {})],
    "Softsign": [("SoftsignGradient", ["X", "Y_grad"], ["X_grad"], {})],
    "Softplus": [("SoftplusGradient", ["Y", "Y_grad"], ["X_grad"], {})],
}


@pytest.mark.parametrize("op_type", sorted(EXPECTED_BACKWARD))
def test_gradient_ops_list(op_type):
    ops, grads = _backward(op_type)
    assert ops == EXPECTED_BACKWARD[op_type]
    assert str(grads["X"]) == "X_grad"


def test_gradient_op_is_marked_and_named_as_caffe2_did():
    op = CreateOperator("Tanh", ["X"], ["Y"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("TanhGradient", ["Y", "Y_grad"], ["X_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_sign_has_no_gradient_and_softsign_in_place_refuses():
    with pytest.raises(GradientError):
        _backward("Sign")
    with pytest.raises(GradientError, match="Cannot compute softsign gradient if you choose "
                                            "to do an in-place calculation."):
        _backward("Softsign", ["X"], ["X"])


def test_in_place_exp_gradient_uses_the_output():
    # Caffe2's test_exp also checks gradients when Exp runs in place: Mul reads Y == X.
    ops, _ = _backward("Exp", ["X"], ["X"])
    assert ops == [("Mul", ["X", "X_grad"], ["X_grad"], {})]


def test_sign_outputs_are_inferred():
    # math_ops_test.py test_sign: np.sign reference, ensure_outputs_are_inferred.
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    x = np.random.default_rng(8).standard_normal((3, 2)).astype(np.float32)
    op = CreateOperator("Sign", ["X"], ["Y"])
    testing.check_reference(op, [x], lambda x: [np.sign(x)], atol=0)
    assert infer_op(op, [TensorShape((3, 2), np.float32)]) == [TensorShape((3, 2), np.float32)]
    assert infer_op(op, [TensorShape(("N", 2), np.int64)]) == [TensorShape(("N", 2), np.int64)]


@pytest.mark.parametrize("op_type", ["Exp", "Sqrt", "RSqrt", "Rsqrt", "Reciprocal", "Cbrt",
                                     "Tanh", "Softplus", "Negative"])
def test_gradient_of_in_place_op_that_reads_only_the_output(op_type):
    # Caffe2's tests check these gradients with the op run in place (X overwritten by Y).
    x = np.array([0.5, 1.5, 2.0])
    testing.check_gradient(CreateOperator(op_type, ["X"], ["X"]), [x], 0)


def test_rsqrt_is_later_caffe2s_name_for_rsqrt():
    # Caffe2 first registered RSqrt / RSqrtGradient and later renamed them Rsqrt /
    # RsqrtGradient; elementwise_ops_test.py's test_rsqrt (latest version) creates "Rsqrt"
    # in place and checks Y = 1 / sqrt(X). Both names run the same kernel.
    x = np.array([[0.25, 4.0], [9.0, 0.1]], np.float32)
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(CreateOperator("Rsqrt", ["X"], ["X"]))
    y = ws.fetch_blob("X")
    ws.feed_blob("X", x)
    ws.run_operator_once(CreateOperator("RSqrt", ["X"], ["Z"]))
    np.testing.assert_array_equal(y, ws.fetch_blob("Z"))
    np.testing.assert_allclose(y, [[2, 0.5], [1 / 3, 1 / math.sqrt(0.1)]], rtol=1e-6)


def test_trigonometric_ops_as_caffe2s_trigonometric_op_test():
    # trigonometric_op_test.py: Acos / Asin on [-0.7, 0.7], Atan on [-100, 100], Tan on
    # [-0.5, 0.5], numpy's reference, gradient checks; Caffe2 named their blobs input
    # and output and allowed no in-place use.
    rng = np.random.default_rng(11)
    for op_type, ref, (lo, hi) in (("Acos", np.arccos, (-0.7, 0.7)),
                                   ("Asin", np.arcsin, (-0.7, 0.7)),
                                   ("Atan", np.arctan, (-100, 100)),
                                   ("Tan", np.tan, (-0.5, 0.5))):
        x = rng.uniform(lo, hi, (3, 4)).astype(np.float32)
        op = CreateOperator(op_type, ["X"], ["Y"])
        testing.check_reference(op, [x], lambda x, ref=ref: [ref(x)], rtol=1e-6)
        testing.check_gradient(op, [x.astype(np.float64)], 0)
        testing.check_raises(CreateOperator(op_type, ["X"], ["X"]), [x], SchemaError,
                             "in-place")


def test_ceil_and_floor_as_caffe2s_ceil_op_test():
    # ceil_op_test.py / floor: numpy's reference, in place allowed, no gradient yet.
    x = np.array([[8.44598, -6.5098248, -0.03689406], [0.0, -0.0, 2.5]], np.float32)
    for op_type, ref in (("Ceil", np.ceil), ("Floor", np.floor)):
        got = testing.check_reference(CreateOperator(op_type, ["X"], ["Y"]), [x],
                                      lambda x, ref=ref: [ref(x)], atol=0, rtol=0)
        assert np.array_equal(np.signbit(got[0]), np.signbit(ref(x)))  # -0 kept
        with pytest.raises(GradientError, match="not implemented"):
            _backward(op_type)


def test_erf_as_caffe2s_erf_op_test():
    # erf_op_test.py: math.erf element by element on [-0.7, 0.7], gradient check; the
    # double-precision erf also keeps tiny and large arguments right.
    x = np.array([[-0.7, -1e-20, 0.0, 0.3], [0.7, 2.5, -4.0, 9.0]], np.float64)
    want = np.array([[math.erf(v) for v in row] for row in x])
    testing.check_reference(CreateOperator("Erf", ["X"], ["Y"]), [x], lambda x: [want],
                            atol=0, rtol=2e-16)
    testing.check_gradient(CreateOperator("Erf", ["X"], ["Y"]), [x[:, :3].copy()], 0)
