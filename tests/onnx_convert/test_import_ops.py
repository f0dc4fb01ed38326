"""Per-op ONNX import: one small graph per converter (and per form: attribute vs
input, opset before/after a semantic change), run by onnxruntime and by caffe2lite
after import; the outputs must agree."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
# The expected values come from onnxruntime (onnx's reference evaluator disagrees
# with it on several older-opset semantics, e.g. Softmax-11's 2-D coercion).
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper

from caffe2lite.onnx import backend

F = np.float32
RNG = np.random.default_rng(0)


def _r(*shape, lo=-1.0, hi=1.0):
    return RNG.uniform(lo, hi, size=shape).astype(F)


def _pos(*shape):
    return RNG.uniform(0.5, 2.0, size=shape).astype(F)


def build(nodes, inputs, inits=None, opset=17, outputs=None):
    """An ONNX model: ``inputs`` (name -> array) as graph inputs with their exact
    shapes, ``inits`` as initializers, the last node's outputs as graph outputs."""
    if not isinstance(nodes, list):
        nodes = [nodes]
    ins = [helper.make_tensor_value_info(
        n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape) for n, a in inputs.items()]
    out_names = outputs or [o for o in nodes[-1].output if o]
    outs = [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None) for o in out_names]
    init = [numpy_helper.from_array(np.asarray(a), n) for n, a in (inits or {}).items()]
    graph = helper.make_graph(nodes, "g", ins, outs, init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    if opset <= 21:  # what onnxruntime reads; newer opsets keep onnx's own IR version
        model.ir_version = 8
    return onnx.shape_inference.infer_shapes(model)


def expected_outputs(model, inputs):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, inputs)


def compare(model, inputs, rtol=1e-5, atol=1e-6):
    expected = expected_outputs(model, inputs)
    got = backend.prepare(model).run(inputs)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        g = np.asarray(g)
        assert g.shape == e.shape, (g.shape, e.shape)
        assert g.dtype == e.dtype, (g.dtype, e.dtype)
        if e.dtype.kind in "fc":
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)
        else:
            np.testing.assert_array_equal(g, e)
    return got


def N(op, inputs, outputs=("y",), **attrs):
    return helper.make_node(op, list(inputs), list(outputs), **attrs)


X34 = _r(3, 4)
IMG = _r(2, 3, 5, 5)


# (id, nodes, inputs, initializers, opset)
CASES = [
    # unary and activations
    *[(op, N(op, ["x"]), {"x": X34}, {}, 17) for op in
      ["Relu", "Sigmoid", "Tanh", "Exp", "Abs", "Neg", "Floor", "Ceil", "Erf", "Softplus",
       "Softsign", "Sin", "Cos", "Tan", "Atan", "Sign", "Identity"]],
    *[(op, N(op, ["x"]), {"x": _pos(3, 4)}, {}, 17) for op in ["Log", "Sqrt", "Reciprocal"]],
    *[(op, N(op, ["x"]), {"x": _r(3, 4, lo=-0.9, hi=0.9)}, {}, 17) for op in ["Asin", "Acos"]],
    ("Not", N("Not", ["x"]), {"x": X34 > 0}, {}, 17),
    ("Mish", N("Mish", ["x"]), {"x": X34}, {}, 18),
    ("LeakyRelu", N("LeakyRelu", ["x"], alpha=0.3), {"x": X34}, {}, 17),
    ("LeakyRelu-default", N("LeakyRelu", ["x"]), {"x": X34}, {}, 17),
    ("Elu", N("Elu", ["x"], alpha=0.7), {"x": X34}, {}, 17),
    ("Selu", N("Selu", ["x"]), {"x": X34}, {}, 17),
    ("Selu-attrs", N("Selu", ["x"], alpha=1.5, gamma=2.0), {"x": X34}, {}, 17),
    ("HardSigmoid", N("HardSigmoid", ["x"], alpha=0.3, beta=0.4), {"x": X34 * 3}, {}, 17),
    ("ThresholdedRelu", N("ThresholdedRelu", ["x"], alpha=0.2), {"x": X34}, {}, 17),
    ("Gelu", N("Gelu", ["x"]), {"x": X34 * 3}, {}, 20),
    ("Gelu-tanh", N("Gelu", ["x"], approximate="tanh"), {"x": X34 * 3}, {}, 20),
    ("PRelu-channel", N("PRelu", ["x", "s"]), {"x": IMG}, {"s": _r(3, 1, 1)}, 17),
    ("PRelu-scalar", N("PRelu", ["x", "s"]), {"x": IMG}, {"s": _r(1)}, 17),
    ("PRelu-lastdim", N("PRelu", ["x", "s"]), {"x": IMG}, {"s": _r(5)}, 17),
    ("PRelu-input", N("PRelu", ["x", "s"]), {"x": X34, "s": _r(4)}, {}, 17),
    ("Clip-attrs", N("Clip", ["x"], min=-0.5, max=0.25), {"x": X34}, {}, 6),
    ("Clip-inputs", N("Clip", ["x", "lo", "hi"]), {"x": X34},
     {"lo": np.array(-0.5, F), "hi": np.array(0.25, F)}, 13),
    ("Clip-min-only", N("Clip", ["x", "lo"]), {"x": X34}, {"lo": np.array(0.1, F)}, 13),
    ("Cast-int", N("Cast", ["x"], to=TensorProto.INT32), {"x": X34 * 4}, {}, 17),
    ("Cast-int64", N("Cast", ["x"], to=TensorProto.INT64), {"x": X34 * 4}, {}, 17),
    ("Cast-double", N("Cast", ["x"], to=TensorProto.DOUBLE), {"x": X34}, {}, 17),
    ("Cast-bool", N("Cast", ["x"], to=TensorProto.FLOAT), {"x": X34 > 0}, {}, 17),
    # binary with numpy broadcasting
    *[(op + "-bcast", N(op, ["a", "b"]), {"a": _r(3, 1, 4), "b": _pos(2, 1)}, {}, 17)
      for op in ["Add", "Sub", "Mul", "Div"]],
    ("Add-same", N("Add", ["a", "b"]), {"a": X34, "b": _r(3, 4)}, {}, 17),
    *[(op, N(op, ["a", "b"]), {"a": np.round(_r(3, 4)), "b": np.round(_r(4))}, {}, 17)
      for op in ["Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual"]],
    *[(op, N(op, ["a", "b"]), {"a": X34 > 0, "b": _r(3, 1) > 0}, {}, 17)
      for op in ["And", "Or", "Xor"]],
    ("Pow-scalar", N("Pow", ["a", "e"]), {"a": _pos(3, 4)}, {"e": np.array(2.5, F)}, 17),
    ("Pow-same", N("Pow", ["a", "e"]), {"a": _pos(3, 4), "e": _r(3, 4)}, {}, 17),
    ("Pow-bcast", N("Pow", ["a", "e"]), {"a": _pos(3, 1), "e": _r(1, 4)}, {}, 17),
    ("Sum", N("Sum", ["a", "b", "c"]), {"a": X34, "b": _r(4), "c": _r(3, 1)}, {}, 17),
    ("Sum-one", N("Sum", ["a"]), {"a": X34}, {}, 17),
    ("Mean", N("Mean", ["a", "b"]), {"a": X34, "b": _r(3, 4)}, {}, 17),
    ("Max", N("Max", ["a", "b"]), {"a": X34, "b": _r(3, 4)}, {}, 17),
    ("Min-bcast", N("Min", ["a", "b", "c"]), {"a": X34, "b": _r(4), "c": _r(3, 1)}, {}, 17),
    ("Where", N("Where", ["c", "a", "b"]), {"c": _r(3, 1) > 0, "a": X34, "b": _r(4)}, {}, 17),
    # conv, pool, norm
    ("Conv", N("Conv", ["x", "w", "b"], pads=[1, 1, 1, 1], strides=[2, 2]), {"x": IMG},
     {"w": _r(4, 3, 3, 3), "b": _r(4)}, 17),
    ("Conv-nobias-dil", N("Conv", ["x", "w"], dilations=[2, 2], kernel_shape=[2, 2]),
     {"x": IMG}, {"w": _r(4, 3, 2, 2)}, 17),
    ("Conv-group", N("Conv", ["x", "w"], group=3, pads=[0, 1, 2, 1]), {"x": _r(1, 6, 5, 5)},
     {"w": _r(6, 2, 3, 3)}, 17),
    ("Conv-same", N("Conv", ["x", "w"], auto_pad="SAME_UPPER", strides=[2, 2]),
     {"x": _r(1, 3, 6, 6)}, {"w": _r(2, 3, 4, 4)}, 17),
    ("Conv-same-lower", N("Conv", ["x", "w"], auto_pad="SAME_LOWER"),
     {"x": _r(1, 3, 6, 6)}, {"w": _r(2, 3, 2, 2)}, 17),
    ("Conv-1d", N("Conv", ["x", "w", "b"], pads=[1, 1]), {"x": _r(2, 3, 7)},
     {"w": _r(4, 3, 3), "b": _r(4)}, 17),
    ("ConvTranspose", N("ConvTranspose", ["x", "w", "b"], strides=[2, 2], pads=[1, 1, 1, 1],
                        output_padding=[1, 1]), {"x": IMG}, {"w": _r(3, 2, 3, 3), "b": _r(2)}, 17),
    ("ConvTranspose-group", N("ConvTranspose", ["x", "w"], group=3), {"x": _r(1, 6, 4, 4)},
     {"w": _r(6, 1, 2, 2)}, 17),
    ("MaxPool", N("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
     {"x": IMG}, {}, 17),
    ("AveragePool", N("AveragePool", ["x"], kernel_shape=[2, 2]), {"x": IMG}, {}, 17),
    ("AveragePool-pad", N("AveragePool", ["x"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
     {"x": IMG}, {}, 17),
    ("AveragePool-count-pad", N("AveragePool", ["x"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                count_include_pad=1), {"x": IMG}, {}, 17),
    ("MaxPool-same", N("MaxPool", ["x"], kernel_shape=[2, 2], strides=[2, 2],
                       auto_pad="SAME_UPPER"), {"x": IMG}, {}, 17),
    ("GlobalMaxPool", N("GlobalMaxPool", ["x"]), {"x": IMG}, {}, 17),
    ("GlobalAveragePool", N("GlobalAveragePool", ["x"]), {"x": IMG}, {}, 17),
    ("BatchNormalization", N("BatchNormalization", ["x", "s", "b", "m", "v"], epsilon=1e-3),
     {"x": IMG}, {"s": _r(3), "b": _r(3), "m": _r(3), "v": _pos(3)}, 15),
    ("BatchNormalization-2d", N("BatchNormalization", ["x", "s", "b", "m", "v"]),
     {"x": _r(4, 3)}, {"s": _r(3), "b": _r(3), "m": _r(3), "v": _pos(3)}, 9),
    ("InstanceNormalization", N("InstanceNormalization", ["x", "s", "b"]), {"x": IMG},
     {"s": _r(3), "b": _r(3)}, 17),
    ("LayerNormalization", N("LayerNormalization", ["x", "s", "b"]), {"x": _r(2, 3, 4)},
     {"s": _r(4), "b": _r(4)}, 17),
    ("LayerNormalization-axis", N("LayerNormalization", ["x", "s"], axis=1, epsilon=1e-3),
     {"x": _r(2, 3, 4)}, {"s": _r(3, 4)}, 17),
    ("LRN", N("LRN", ["x"], size=3, alpha=0.01, beta=0.6, bias=1.5), {"x": IMG}, {}, 17),
    ("Dropout", N("Dropout", ["x"], ["y", "mask"]), {"x": X34}, {}, 17),
    ("Dropout-ratio", N("Dropout", ["x", "r"]), {"x": X34}, {"r": np.array(0.3, F)}, 17),
    ("Dropout-old", N("Dropout", ["x"], ratio=0.2), {"x": X34}, {}, 10),
    # matrix
    ("Gemm-fc", N("Gemm", ["a", "b", "c"], transB=1), {"a": X34}, {"b": _r(5, 4), "c": _r(5)},
     17),
    ("Gemm-general", N("Gemm", ["a", "b", "c"], transA=1, alpha=0.5, beta=2.0),
     {"a": _r(4, 3)}, {"b": _r(4, 5), "c": _r(3, 5)}, 17),
    ("Gemm-bcast-c", N("Gemm", ["a", "b", "c"]), {"a": X34}, {"b": _r(4, 5), "c": _r(1, 5)},
     17),
    ("Gemm-no-c", N("Gemm", ["a", "b"], alpha=3.0), {"a": X34}, {"b": _r(4, 5)}, 17),
    ("MatMul-2d", N("MatMul", ["a", "b"]), {"a": X34, "b": _r(4, 2)}, {}, 17),
    ("MatMul-batch", N("MatMul", ["a", "b"]), {"a": _r(2, 3, 4), "b": _r(4, 5)}, {}, 17),
    ("MatMul-bcast", N("MatMul", ["a", "b"]), {"a": _r(2, 1, 3, 4), "b": _r(3, 4, 2)}, {}, 17),
    ("MatMul-vec", N("MatMul", ["a", "b"]), {"a": _r(2, 3, 4), "b": _r(4)}, {}, 17),
    # softmax (both opset semantics)
    ("Softmax-13-last", N("Softmax", ["x"]), {"x": _r(2, 3, 4)}, {}, 13),
    ("Softmax-13-axis1", N("Softmax", ["x"], axis=1), {"x": _r(2, 3, 4)}, {}, 13),
    ("Softmax-13-neg", N("Softmax", ["x"], axis=-3), {"x": _r(2, 3, 4)}, {}, 13),
    ("Softmax-11-axis1", N("Softmax", ["x"], axis=1), {"x": _r(2, 3, 4)}, {}, 11),
    ("Softmax-11-default", N("Softmax", ["x"]), {"x": _r(2, 3, 4)}, {}, 11),
    ("Softmax-11-neg", N("Softmax", ["x"], axis=-1), {"x": _r(2, 3, 4)}, {}, 11),
    ("LogSoftmax-13", N("LogSoftmax", ["x"], axis=0), {"x": _r(2, 3, 4)}, {}, 13),
    ("LogSoftmax-11", N("LogSoftmax", ["x"]), {"x": _r(2, 3, 4)}, {}, 11),
    # shape ops
    ("Reshape-const", N("Reshape", ["x", "s"]), {"x": _r(2, 3, 4)},
     {"s": np.array([0, -1], np.int64)}, 17),
    ("Reshape-dynamic", N("Reshape", ["x", "s"]),
     {"x": _r(2, 3, 4), "s": np.array([4, 6], np.int64)}, {}, 17),
    ("Flatten", N("Flatten", ["x"], axis=2), {"x": _r(2, 3, 4, 5)}, {}, 17),
    ("Flatten-0", N("Flatten", ["x"], axis=0), {"x": _r(2, 3, 4)}, {}, 17),
    ("Flatten-neg", N("Flatten", ["x"], axis=-1), {"x": _r(2, 3, 4)}, {}, 17),
    ("Transpose", N("Transpose", ["x"], perm=[2, 0, 1]), {"x": _r(2, 3, 4)}, {}, 17),
    ("Transpose-default", N("Transpose", ["x"]), {"x": _r(2, 3, 4)}, {}, 17),
    ("Squeeze-attr", N("Squeeze", ["x"], axes=[0, -1]), {"x": _r(1, 3, 1)}, {}, 11),
    ("Squeeze-input", N("Squeeze", ["x", "ax"]), {"x": _r(1, 3, 1)},
     {"ax": np.array([2], np.int64)}, 13),
    ("Squeeze-all", N("Squeeze", ["x"]), {"x": _r(1, 3, 1)}, {}, 13),
    ("Unsqueeze-attr", N("Unsqueeze", ["x"], axes=[0, 3]), {"x": X34}, {}, 11),
    ("Unsqueeze-input", N("Unsqueeze", ["x", "ax"]), {"x": X34},
     {"ax": np.array([-1, 1], np.int64)}, 13),
    ("Concat", N("Concat", ["a", "b"], axis=1), {"a": X34, "b": _r(3, 2)}, {}, 17),
    ("Concat-neg", N("Concat", ["a", "b", "c"], axis=-2), {"a": X34, "b": _r(1, 4), "c": X34},
     {}, 17),
    ("Split-attr", N("Split", ["x"], ["y1", "y2"], axis=1, split=[1, 3]), {"x": X34}, {}, 11),
    ("Split-input", N("Split", ["x", "s"], ["y1", "y2"], axis=-1), {"x": X34},
     {"s": np.array([3, 1], np.int64)}, 13),
    ("Split-equal", N("Split", ["x"], ["y1", "y2"], axis=1), {"x": X34}, {}, 13),
    ("Split-num-outputs", N("Split", ["x"], ["y1", "y2", "y3"], axis=0, num_outputs=3),
     {"x": _r(7, 2)}, {}, 18),
    ("Gather", N("Gather", ["x", "i"]), {"x": X34, "i": np.array([2, -1, 0], np.int64)}, {}, 17),
    ("Gather-axis", N("Gather", ["x", "i"], axis=1),
     {"x": _r(2, 3, 4), "i": np.array([[0, 2], [-2, 1]], np.int32)}, {}, 17),
    ("Slice-10", N("Slice", ["x", "s", "e"]), {"x": _r(5, 6)},
     {"s": np.array([1, -4], np.int64), "e": np.array([100, -1], np.int64)}, 13),
    ("Slice-axes", N("Slice", ["x", "s", "e", "ax", "st"]), {"x": _r(5, 6, 3)},
     {"s": np.array([2], np.int64), "e": np.array([-1], np.int64),
      "ax": np.array([-2], np.int64), "st": np.array([1], np.int64)}, 13),
    ("Slice-attrs", N("Slice", ["x"], starts=[1], ends=[3], axes=[1]), {"x": _r(5, 6)}, {}, 9),
    ("Shape", N("Shape", ["x"]), {"x": _r(2, 3, 4)}, {}, 13),
    ("Shape-start", N("Shape", ["x"], start=1), {"x": _r(2, 3, 4)}, {}, 15),
    ("Shape-end", N("Shape", ["x"], start=0, end=-1), {"x": _r(2, 3, 4)}, {}, 15),
    ("Size", N("Size", ["x"]), {"x": _r(2, 3, 4)}, {}, 17),
    ("Expand", N("Expand", ["x", "s"]), {"x": _r(3, 1)}, {"s": np.array([2, 1, 4], np.int64)},
     17),
    ("Tile", N("Tile", ["x", "r"]), {"x": X34}, {"r": np.array([2, 3], np.int64)}, 17),
    ("Constant", [N("Constant", [], ["c"], value=numpy_helper.from_array(_r(3, 4))),
                  N("Add", ["x", "c"])], {"x": X34}, {}, 17),
    ("Constant-ints", [N("Constant", [], ["c"], value_ints=[4, 3]),
                       N("Reshape", ["x", "c"])], {"x": X34}, {}, 17),
    ("Constant-float", [N("Constant", [], ["c"], value_float=2.0), N("Mul", ["x", "c"])],
     {"x": X34}, {}, 17),
    ("ConstantOfShape", N("ConstantOfShape", ["s"],
                          value=numpy_helper.from_array(np.array([1.5], F))),
     {"s": np.array([2, 3], np.int64)}, {}, 17),
    ("ConstantOfShape-int", N("ConstantOfShape", ["s"],
                              value=numpy_helper.from_array(np.array([7], np.int64))),
     {"s": np.array([2], np.int64)}, {}, 17),
    # reductions
    *[(op, N(op, ["x"], axes=[1], keepdims=0), {"x": _r(2, 3, 4)}, {}, 17)
      for op in ["ReduceMean", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2"]],
    ("ReduceSum-input", N("ReduceSum", ["x", "ax"]), {"x": _r(2, 3, 4)},
     {"ax": np.array([0, -1], np.int64)}, 13),
    ("ReduceSum-all", N("ReduceSum", ["x"], keepdims=0), {"x": _r(2, 3, 4)}, {}, 13),
    ("ReduceSum-keep-all", N("ReduceSum", ["x"]), {"x": _r(2, 3, 4)}, {}, 13),
    ("ReduceSum-noop", N("ReduceSum", ["x"], noop_with_empty_axes=1), {"x": X34}, {}, 13),
    ("ReduceMean-18", N("ReduceMean", ["x", "ax"]), {"x": _r(2, 3, 4)},
     {"ax": np.array([1], np.int64)}, 18),
    ("ReduceMax-all", N("ReduceMax", ["x"], keepdims=1), {"x": _r(2, 3, 4)}, {}, 17),
    ("ArgMax", N("ArgMax", ["x"]), {"x": X34}, {}, 17),
    ("ArgMax-axis", N("ArgMax", ["x"], axis=-1, keepdims=0), {"x": X34}, {}, 17),
    ("ArgMin", N("ArgMin", ["x"], axis=1), {"x": X34}, {}, 17),
    # resize
    ("Upsample-7", N("Upsample", ["x"], scales=[1.0, 1.0, 2.0, 3.0]), {"x": IMG}, {}, 8),
    ("Upsample-9", N("Upsample", ["x", "s"]), {"x": IMG},
     {"s": np.array([1, 1, 2, 2], F)}, 9),
    ("Resize-10", N("Resize", ["x", "s"]), {"x": IMG}, {"s": np.array([1, 1, 3, 2], F)}, 10),
    ("Resize-scales", N("Resize", ["x", "", "s"], mode="nearest"), {"x": IMG},
     {"s": np.array([1, 1, 2, 3], F)}, 13),
    ("Resize-sizes", N("Resize", ["x", "", "", "z"], coordinate_transformation_mode="asymmetric",
                       nearest_mode="floor"), {"x": IMG},
     {"z": np.array([2, 3, 10, 15], np.int64)}, 13),
    ("Resize-nhwc-fraction", N("Resize", ["x", "", "s"], coordinate_transformation_mode=
                               "asymmetric", nearest_mode="floor"), {"x": _r(1, 4, 5, 2)},
     {"s": np.array([1, 1.5, 2.5, 1], F)}, 13),
    ("Upsample-fraction", N("Upsample", ["x"], scales=[1.0, 1.0, 1.5, 2.5]), {"x": _r(1, 2, 4, 4)},
     {}, 8),
    ("TopK", N("TopK", ["x", "k"], ["v", "i"]), {"x": np.round(_r(3, 6) * 2)},
     {"k": np.array([3], np.int64)}, 17),
    ("TopK-axis", N("TopK", ["x", "k"], ["v", "i"], axis=0), {"x": _r(4, 3)},
     {"k": np.array([2], np.int64)}, 17),
    ("TopK-1", N("TopK", ["x"], ["v", "i"], k=2), {"x": _r(4, 3)}, {}, 9),
    ("Cast-half", N("Cast", ["x"], to=TensorProto.FLOAT), {"x": X34.astype(np.float16)}, {}, 17),
    ("Cast-to-half", N("Cast", ["x"], to=TensorProto.FLOAT16), {"x": X34}, {}, 17),
    ("IsNaN", N("IsNaN", ["x"]), {"x": np.array([1, np.nan, -np.inf, 0], F)}, {}, 17),
    *[(f"IsInf-{p}{q}", N("IsInf", ["x"], detect_positive=p, detect_negative=q),
       {"x": np.array([1, np.nan, -np.inf, np.inf], F)}, {}, 17) for p in (0, 1) for q in (0, 1)],
    ("Mod", N("Mod", ["x", "d"]), {"x": np.arange(-5, 6, dtype=np.int64)},
     {"d": np.array(3, np.int64)}, 17),
    ("Mod-neg", N("Mod", ["x", "d"]), {"x": np.arange(-5, 6, dtype=np.int32)},
     {"d": np.array(-3, np.int32)}, 17),
    ("Mod-fmod", N("Mod", ["x", "d"], fmod=1), {"x": np.arange(-5, 6, dtype=np.int32)},
     {"d": np.array(3, np.int32)}, 17),
    ("ReduceSumSquare", N("ReduceSumSquare", ["x"], axes=[0, 2]), {"x": _r(2, 3, 4)}, {}, 13),
    ("Pad-constant", N("Pad", ["x", "p", "v"]), {"x": _r(2, 3, 4)},
     {"p": np.array([0, 1, 2, 1, 0, 3], np.int64), "v": np.array(1.5, F)}, 13),
    ("Pad-constant-default", N("Pad", ["x", "p"]), {"x": _r(1, 2, 3, 3)},
     {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)}, 13),
    ("Pad-int", N("Pad", ["x", "p"]), {"x": np.arange(6, dtype=np.int64).reshape(2, 3)},
     {"p": np.array([1, 0, 0, 2], np.int64)}, 13),
    ("Pad-reflect", N("Pad", ["x", "p"], mode="reflect"), {"x": _r(1, 2, 4, 5)},
     {"p": np.array([0, 0, 2, 1, 0, 0, 1, 3], np.int64)}, 13),
    ("Pad-edge", N("Pad", ["x", "p"], mode="edge"), {"x": _r(1, 2, 4, 5)},
     {"p": np.array([0, 0, 3, 0, 0, 0, 0, 2], np.int64)}, 13),
    ("Pad-wrap", N("Pad", ["x", "p"], mode="wrap"), {"x": _r(2, 4)},
     {"p": np.array([0, 2, 0, 3], np.int64)}, 19),
    ("Pad-axes", N("Pad", ["x", "p", "", "ax"], mode="edge"), {"x": _r(2, 3, 4)},
     {"p": np.array([1, 2], np.int64), "ax": np.array([-1], np.int64)}, 18),
    ("Pad-attrs", N("Pad", ["x"], pads=[0, 0, 1, 2, 0, 0, 2, 1], value=-1.0),
     {"x": _r(1, 2, 3, 3)}, {}, 10),
    ("DepthToSpace-DCR", N("DepthToSpace", ["x"], blocksize=2), {"x": _r(2, 8, 3, 2)}, {}, 13),
    ("DepthToSpace-CRD", N("DepthToSpace", ["x"], blocksize=2, mode="CRD"),
     {"x": _r(2, 8, 3, 2)}, {}, 13),
    ("SpaceToDepth", N("SpaceToDepth", ["x"], blocksize=2), {"x": _r(2, 3, 4, 6)}, {}, 13),
    ("HardSwish", N("HardSwish", ["x"]), {"x": X34 * 4}, {}, 14),
    ("LpPool", N("LpPool", ["x"], kernel_shape=[2, 2], p=3, strides=[1, 1]), {"x": IMG}, {}, 17),
    ("LpPool-pads", N("LpPool", ["x"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
     {"x": IMG}, {}, 17),
    ("GlobalLpPool", N("GlobalLpPool", ["x"]), {"x": IMG}, {}, 17),
    ("Range-int-negative", N("Range", ["a", "b", "c"]),
     {"a": np.array(10, np.int32), "b": np.array(6, np.int32), "c": np.array(-3, np.int32)},
     {}, 17),
    ("Range-int64-const", N("Range", ["a", "b", "c"]), {"a": np.array(2, np.int64)},
     {"b": np.array(9, np.int64), "c": np.array(3, np.int64)}, 17),
    ("MatMul-dot", N("MatMul", ["a", "b"]), {"a": _r(4), "b": _r(4)}, {}, 17),
    ("LayerNormalization-stats", N("LayerNormalization", ["x", "s"], ["y", "mean", "inv"],
                                   axis=1), {"x": _r(2, 3, 4)}, {"s": _r(3, 4)}, 17),
    ("LayerNormalization-inv-only", N("LayerNormalization", ["x", "s"], ["y", "", "inv"]),
     {"x": _r(2, 5)}, {"s": _r(5)}, 17),
    ("TopK-smallest", N("TopK", ["x", "k"], ["v", "i"], largest=0),
     {"x": np.round(_r(3, 6) * 2)}, {"k": np.array([4], np.int64)}, 17),
    ("ArgMax-last", N("ArgMax", ["x"], axis=1, select_last_index=1),
     {"x": np.round(_r(3, 6))}, {}, 17),
    ("ArgMin-last", N("ArgMin", ["x"], axis=0, keepdims=0, select_last_index=1),
     {"x": np.round(_r(5, 3))}, {}, 17),
    ("Clip-computed", N("Clip", ["x", "lo", "hi"]),
     {"x": X34, "lo": np.array(-0.3, F), "hi": np.array(0.4, F)}, {}, 13),
    ("Clip-computed-max", N("Clip", ["x", "", "hi"]), {"x": X34, "hi": np.array(0.2, F)},
     {}, 13),
    ("MaxPool-dilated", N("MaxPool", ["x"], kernel_shape=[2, 2], dilations=[2, 2]),
     {"x": IMG}, {}, 17),
    ("MaxPool-ceil", N("MaxPool", ["x"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
     {"x": IMG}, {}, 17),
    ("MaxPool-ceil-pads", N("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2],
                            pads=[1, 1, 1, 1], ceil_mode=1), {"x": _r(1, 2, 6, 7)}, {}, 17),
    ("AveragePool-ceil", N("AveragePool", ["x"], kernel_shape=[3, 3], strides=[2, 2],
                           ceil_mode=1), {"x": _r(1, 2, 6, 7)}, {}, 17),
    ("Resize-linear-align", N("Resize", ["x", "", "s"], mode="linear",
                              coordinate_transformation_mode="align_corners"),
     {"x": IMG}, {"s": np.array([1, 1, 2, 1.5], F)}, 13),
    ("Resize-sizes-odd", N("Resize", ["x", "", "", "z"], coordinate_transformation_mode=
                           "asymmetric", nearest_mode="floor"), {"x": _r(1, 1, 3, 7)},
     {"z": np.array([1, 1, 10, 23], np.int64)}, 13),
    ("Resize-linear-sizes", N("Resize", ["x", "", "", "z"], mode="linear",
                              coordinate_transformation_mode="align_corners"),
     {"x": _r(1, 2, 3, 4)}, {"z": np.array([1, 2, 7, 10], np.int64)}, 13),
    ("Max-int", N("Max", ["a", "b", "c"]), {"a": np.array([[1, 5, -3]], np.int64),
                                             "b": np.array([[4], [-9]], np.int64),
                                             "c": np.array(2, np.int64)}, {}, 17),
    ("Min-int32", N("Min", ["a", "b"]), {"a": np.array([1, 5, -3], np.int32),
                                         "b": np.array([4, -2, -3], np.int32)}, {}, 17),
    ("Pow-int", N("Pow", ["a", "e"]), {"a": np.array([[2, -3, 4]], np.int64),
                                       "e": np.array([[3], [0]], np.int64)}, {}, 17),
    ("Pow-int-float", N("Pow", ["a", "e"]), {"a": np.array([2, 3, 9], np.int32),
                                             "e": np.array([0.5, 1.5, 0.5], F)}, {}, 17),
    ("Pow-float-int", N("Pow", ["a", "e"]), {"a": _pos(3, 4)},
     {"e": np.array([2, 3, 0, 1], np.int64)}, 17),
    ("Expand-bool", N("Expand", ["x", "s"]), {"x": _r(3, 1) > 0},
     {"s": np.array([2, 3, 4], np.int64)}, 17),
    *[(f"{op}-noop", N(op, ["x"], noop_with_empty_axes=1), {"x": _pos(2, 3) - 1}, {}, 18)
      for op in ["ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceMean"]],
    ("ReduceLogSum", N("ReduceLogSum", ["x", "ax"], keepdims=0), {"x": _pos(2, 3, 4)},
     {"ax": np.array([1], np.int64)}, 18),
    ("ReduceLogSum-noop", N("ReduceLogSum", ["x"], noop_with_empty_axes=1), {"x": _pos(2, 3)},
     {}, 18),
    ("ReduceLogSumExp", N("ReduceLogSumExp", ["x"], axes=[0, 2]), {"x": _r(2, 3, 4) * 30},
     {}, 17),
    ("ReduceLogSumExp-drop", N("ReduceLogSumExp", ["x"], axes=[1], keepdims=0),
     {"x": _r(2, 3, 4) * 30}, {}, 17),
    ("ReduceLogSumExp-all", N("ReduceLogSumExp", ["x"], keepdims=0), {"x": _r(2, 3)}, {}, 17),
    ("Celu", N("Celu", ["x"], alpha=0.7), {"x": X34 * 3}, {}, 17),
    ("Slice-steps", N("Slice", ["x", "s", "e", "ax", "st"]), {"x": _r(5, 6, 7)},
     {"s": np.array([4, 1, -1], np.int64), "e": np.array([-100, 6, 0], np.int64),
      "ax": np.array([0, 1, 2], np.int64), "st": np.array([-2, 2, -3], np.int64)}, 13),
    ("Slice-reverse", N("Slice", ["x", "s", "e", "ax", "st"]), {"x": _r(4, 3)},
     {"s": np.array([-1], np.int64), "e": np.array([-(2**63)], np.int64),
      "ax": np.array([0], np.int64), "st": np.array([-1], np.int64)}, 13),
    ("Trilu-upper", N("Trilu", ["x"]), {"x": _r(2, 3, 4)}, {}, 14),
    ("Trilu-lower-k", N("Trilu", ["x", "k"], upper=0), {"x": _r(2, 4, 3)},
     {"k": np.array(-1, np.int64)}, 14),
    ("Trilu-computed-k", N("Trilu", ["x", "k"], upper=0), {"x": _r(3, 4),
                                                          "k": np.array(1, np.int64)}, {}, 14),
    ("Trilu-int", N("Trilu", ["x", "k"]), {"x": np.arange(12, dtype=np.int64).reshape(3, 4)},
     {"k": np.array(1, np.int64)}, 14),
    *[(op, N(op, ["a", "b"]), {"a": np.array([[5, 3, -8]], np.int32),
                                "b": np.array([[1], [7]], np.int32)}, {}, 18)
      for op in ["BitwiseAnd", "BitwiseOr", "BitwiseXor"]],
    ("Hardmax", N("Hardmax", ["x"]), {"x": np.round(_r(2, 3, 4))}, {}, 13),
    ("Hardmax-axis", N("Hardmax", ["x"], axis=1), {"x": np.round(_r(2, 3, 4))}, {}, 13),
    ("Hardmax-11", N("Hardmax", ["x"], axis=1), {"x": np.round(_r(2, 3, 4))}, {}, 11),
    ("LpNormalization", N("LpNormalization", ["x"]), {"x": _r(3, 4)}, {}, 17),
    ("LpNormalization-zero", N("LpNormalization", ["x"], axis=0),
     {"x": np.array([[0, 1], [0, 2]], np.float64)}, {}, 17),
    ("LpNormalization-l1", N("LpNormalization", ["x"], p=1, axis=0), {"x": _r(3, 4)}, {}, 17),
    ("MeanVarianceNormalization", N("MeanVarianceNormalization", ["x"]), {"x": IMG}, {}, 9),
    ("MeanVarianceNormalization-axes", N("MeanVarianceNormalization", ["x"], axes=[-1]),
     {"x": _r(3, 5)}, {}, 9),
    ("Resize-axes-scales", N("Resize", ["x", "", "s"], axes=[2, 3]), {"x": IMG},
     {"s": np.array([2, 3], F)}, 18),
    ("Resize-axes-sizes", N("Resize", ["x", "", "", "z"], axes=[-1],
                            coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
     {"x": IMG}, {"z": np.array([7], np.int64)}, 18),
    ("GatherElements", N("GatherElements", ["x", "i"], axis=1),
     {"x": _r(3, 4), "i": np.array([[0, 3], [-1, 2], [1, 1]], np.int64)}, {}, 13),
    ("GatherElements-3d", N("GatherElements", ["x", "i"]),
     {"x": _r(3, 2, 4), "i": np.array([[[2, 0, 1, 0]], [[-3, 1, 2, 2]]], np.int32)}, {}, 13),
    ("OneHot", N("OneHot", ["i", "d", "v"]), {"i": np.array([[0, 3], [-1, 2]], np.int64)},
     {"d": np.array(4, np.int64), "v": np.array([0, 1], F)}, 11),
    ("OneHot-axis", N("OneHot", ["i", "d", "v"], axis=0), {"i": np.array([1, -2, 0], np.int64)},
     {"d": np.array([3], np.int64), "v": np.array([-1, 5], np.int64)}, 11),
    ("Range", N("Range", ["a", "b", "c"]), {},
     {"a": np.array(1.0, F), "b": np.array(6.0, F), "c": np.array(1.5, F)}, 17),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_op_matches_onnxruntime(case):
    _, nodes, inputs, inits, opset = case
    nodes = nodes if isinstance(nodes, list) else [nodes]
    outputs = [o for o in nodes[-1].output if o]
    model = build(nodes, inputs, inits, opset, outputs)
    compare(model, inputs)


def test_every_converter_has_a_case():
    covered = set()
    for case in CASES:
        for node in case[1] if isinstance(case[1], list) else [case[1]]:
            covered.add(node.op_type)
    assert set(backend.CONVERTERS) - covered == set()


def test_import_names_ops_after_nodes_and_builds_fills():
    model = build(N("Conv", ["x", "w", "b"], name="conv1"), {"x": IMG},
                  {"w": _r(4, 3, 3, 3), "b": _r(4)})
    init_net, predict_net = backend.onnx_to_caffe2_nets(model)
    assert [op.type for op in init_net.op] == ["GivenTensorFill", "GivenTensorFill"]
    assert [op.output[0] for op in init_net.op] == ["w", "b"]
    assert predict_net.op[0].type == "Conv" and predict_net.op[0].name == "conv1"
    assert list(predict_net.external_input) == ["x", "w", "b"]
    assert list(predict_net.external_output) == ["y"]
    assert (init_net.name, predict_net.name) == ("g_init", "g_predict")


@pytest.mark.parametrize("dtype,fill", [
    (np.float32, "GivenTensorFill"), (np.float64, "GivenTensorDoubleFill"),
    (np.int64, "GivenTensorInt64Fill"), (np.int32, "GivenTensorIntFill"),
    (np.bool_, "GivenTensorBoolFill"), (np.float16, "GivenTensorFp16Fill"),
    (np.int8, "GivenTensorIntFill"), (np.uint8, "GivenTensorIntFill"),
])
def test_initializer_fill_types_keep_the_dtype(dtype, fill):
    value = (np.arange(6).reshape(2, 3) % 2).astype(dtype)
    model = build(N("Identity", ["c"]), {}, {"c": value})
    init_net, _ = backend.onnx_to_caffe2_nets(model)
    assert init_net.op[0].type == fill
    out = backend.prepare(model).run([]).y
    assert out.dtype == value.dtype
    np.testing.assert_array_equal(out, value)


def test_legacy_broadcast_attributes_of_opset_6():
    # onnxruntime has no Add-6 kernel: compare with numpy (B matched at axis 1).
    a, b = _r(2, 3, 4), _r(3)
    model = build(N("Add", ["a", "b"], broadcast=1, axis=1), {"a": a}, {"b": b}, opset=6)
    _, predict_net = backend.onnx_to_caffe2_nets(model)
    args = {arg.name: arg.i for arg in predict_net.op[0].arg}
    assert args == {"broadcast": 1, "axis": 1}
    np.testing.assert_allclose(backend.prepare(model).run([a]).y, a + b[:, None], rtol=1e-6)


def test_space_to_depth_crd_mode_matches_the_onnx_reference():
    # onnxruntime does not know SpaceToDepth's mode (opset 28) yet: onnx's own
    # reference evaluator gives the expected values.
    from onnx.reference import ReferenceEvaluator

    if onnx.defs.onnx_opset_version() < 28:
        pytest.skip("this onnx predates SpaceToDepth's mode")
    x = _r(1, 2, 4, 6)
    model = build(N("SpaceToDepth", ["x"], blocksize=2, mode="CRD"), {"x": x}, opset=28)
    (want,) = ReferenceEvaluator(model).run(None, {"x": x})
    np.testing.assert_array_equal(backend.prepare(model).run([x]).y, want)


def test_split_sizes_computed_at_run_time():
    # shape inference cannot type the outputs, so the graph states them
    x, sizes = _r(2, 7), np.array([2, 4, 1], np.int64)
    graph = helper.make_graph(
        [N("Split", ["x", "s"], ["y1", "y2", "y3"], axis=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 7]),
         helper.make_tensor_value_info("s", TensorProto.INT64, [3])],
        [helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, [2, "n"]) for i in (1, 2, 3)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    got = compare(model, {"x": x, "s": sizes})
    assert [g.shape for g in got] == [(2, 2), (2, 4), (2, 1)]


def test_shape_arithmetic_on_constants_is_known_at_import():
    # Shape -> Gather -> Unsqueeze -> Concat -> Reshape, Range -> ReduceSum's axes and
    # Concat -> Pad's pads: computed, but from values known before running.
    x = _r(2, 3, 4)
    nodes = [
        N("Shape", ["x"], ["shape"]),
        N("Gather", ["shape", "zero"], ["batch"], axis=0),
        N("Unsqueeze", ["batch", "zero_axes"], ["batch1"]),
        N("Concat", ["batch1", "minus_one"], ["new_shape"], axis=0),
        N("Reshape", ["x", "new_shape"], ["flat"]),
        N("Range", ["one", "two", "one"], ["axes"]),
        N("ReduceSum", ["flat", "axes"], ["summed"], keepdims=0),
        N("Concat", ["zero_axes", "one_pad"], ["pads"], axis=0),
        N("Pad", ["summed", "pads"], ["y"]),
    ]
    inits = {"zero": np.array(0, np.int64), "zero_axes": np.array([0], np.int64),
             "minus_one": np.array([-1], np.int64), "one": np.array(1, np.int64),
             "two": np.array(2, np.int64), "one_pad": np.array([1], np.int64)}
    model = build(nodes, {"x": x}, inits, opset=13)
    del model.graph.output[:]  # inference cannot size Pad's output: state it
    model.graph.output.append(helper.make_tensor_value_info("y", TensorProto.FLOAT, [3]))
    compare(model, {"x": x})
    _, predict_net = backend.onnx_to_caffe2_nets(model)
    reshape = next(op for op in predict_net.op if op.type == "Reshape")
    assert [a.name for a in reshape.arg] == ["shape"] and list(reshape.input) == ["x"]


def _symbolic(nodes, inputs, symbolic_shapes, opset=17):
    """A model whose graph inputs have the given (partly symbolic) shapes."""
    ins = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype),
                                         symbolic_shapes[n]) for n, a in inputs.items()]
    outs = [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None)
            for o in nodes[-1].output]
    model = helper.make_model(helper.make_graph(nodes, "g", ins, outs),
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return onnx.shape_inference.infer_shapes(model)


@pytest.mark.parametrize("upper, k", [(1, 0), (0, -1), (1, 2)])
def test_trilu_on_sizes_known_only_at_run_time(upper, k):
    x = _r(2, 4, 5)
    nodes = [N("Constant", [], ["k"], value=numpy_helper.from_array(np.array(k, np.int64))),
             N("Trilu", ["x", "k"], upper=upper)]
    model = _symbolic(nodes, {"x": x}, {"x": ["B", "M", "N"]}, opset=14)
    compare(model, {"x": x})
    compare(model, {"x": _r(1, 3, 2)})


def test_constant_pad_on_sizes_known_only_at_run_time():
    x = _r(2, 3, 4)
    nodes = [N("Constant", [], ["p"], value=numpy_helper.from_array(
                 np.array([0, 1, 2, 0, 0, 1], np.int64))),
             N("Constant", [], ["v"], value=numpy_helper.from_array(np.array(0.5, F))),
             N("Pad", ["x", "p", "v"])]
    model = _symbolic(nodes, {"x": x}, {"x": ["B", 3, "T"]}, opset=13)
    compare(model, {"x": x})
    compare(model, {"x": _r(1, 3, 1)})


def test_constants_are_not_expanded_at_import_when_large():
    # a ConstantOfShape of 10^10 elements from a constant shape: never run at import
    nodes = [N("ConstantOfShape", ["s"], ["big"]), N("Shape", ["big"], ["y"])]
    model = build(nodes, {}, {"s": np.array([100000, 100000], np.int64)})
    _, predict_net = backend.onnx_to_caffe2_nets(model)
    assert [op.type for op in predict_net.op] == ["ConstantFill", "Shape"]
