"""Each converter: a tiny caffe2lite net with the op, exported, checked by
onnx.checker (full), run by onnxruntime and compared with caffe2lite."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caffe2lite import core
from caffe2lite.errors import Caffe2LiteError

RNG = np.random.default_rng(0)


def f32(*shape, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, shape).astype(np.float32)


def pos(*shape):
    return RNG.uniform(0.2, 2.0, shape).astype(np.float32)


def case(op_type, inputs, outputs=("Y",), params=None, keep=None, **args):
    """(op_type, args, input arrays, params for the init net, outputs, the outputs
    the net gives out: all unless ``keep`` says how many)."""
    return pytest.param(
        op_type,
        args,
        inputs,
        params or {},
        list(outputs),
        keep,
        id=f"{op_type}-{'-'.join(f'{k}{v}' for k, v in args.items())}"[:60],
    )


X4 = f32(2, 3, 4, 5)
CASES = [
    *[
        case(t, {"X": f32(2, 3)})
        for t in (
            "Relu",
            "Sigmoid",
            "Tanh",
            "Exp",
            "Abs",
            "Negative",
            "Floor",
            "Ceil",
            "Sin",
            "Cos",
            "Tan",
            "Atan",
            "Erf",
            "Softplus",
            "Softsign",
            "Sign",
            "Copy",
            "Alias",
            "StopGradient",
            "Sqr",
            "Cube",
            "Swish",
            "Mish",
            "Gelu",
            "LeakyRelu",
            "Elu",
            "Selu",
            "HardSigmoid",
            "ThresholdedRelu",
        )
    ],
    *[
        case(t, {"X": pos(2, 3)})
        for t in ("Log", "Sqrt", "Reciprocal", "Rsqrt", "Log1p")
    ],
    case("Asin", {"X": f32(3, lo=-0.9, hi=0.9)}),
    case("Acos", {"X": f32(3, lo=-0.9, hi=0.9)}),
    case("Logit", {"X": f32(4, lo=0.01, hi=0.99)}, eps=1e-3),
    case("Gelu", {"X": f32(2, 3)}, fast_gelu=1),
    case("LeakyRelu", {"X": f32(2, 3)}, alpha=0.3),
    case("Elu", {"X": f32(5)}, alpha=0.5),
    case("Scale", {"X": f32(2, 3)}, scale=2.5),
    case("Not", {"X": np.array([True, False])}),
    *[
        case(t, {"A": f32(2, 3), "B": f32(2, 3)}, ("C",))
        for t in ("Add", "Sub", "Mul", "Div", "EQ", "LT", "GT", "LE", "GE", "NE")
    ],
    case("Add", {"A": f32(2, 3, 4), "B": f32(4)}, ("C",)),
    case("Mul", {"A": f32(2, 3, 4, 5), "B": f32(3)}, ("C",), broadcast=1, axis=1),
    case(
        "Add",
        {"A": f32(2, 3, 4, 5)},
        ("C",),
        params={"B": f32(3, 4, 1)},
        broadcast=1,
        axis=1,
    ),
    case("Sub", {"A": f32(2, 3, 4)}, ("C",), params={"B": f32(1)}, broadcast=1),
    case("Div", {"A": f32(2, 3, 4), "B": pos(3, 4)}, ("C",), broadcast=1),
    case(
        "Mul",
        {"A": f32(2, 3, 4, 5), "B": f32(4)},
        ("C",),
        broadcast=1,
        axis_str="H",
        order="NCHW",
    ),
    *[
        case(
            t,
            {"A": np.array([True, False, True]), "B": np.array([True, True, False])},
            ("C",),
        )
        for t in ("And", "Or", "Xor")
    ],
    case("Pow", {"X": pos(2, 3)}, exponent=2.5),
    case("Pow", {"X": pos(2, 3), "E": f32(2, 3)}),
    *[
        case(t, {"a": f32(2, 3), "b": f32(2, 3), "c": f32(2, 3)})
        for t in ("Sum", "Mean", "Max", "Min")
    ],
    case("Clip", {"X": f32(3, 4)}, min=-0.5, max=0.7),
    case("Clip", {"X": f32(3, 4)}, min=0.0),
    case("Cast", {"X": f32(3, 4, lo=-9, hi=9)}, to=2),
    case("Cast", {"X": np.arange(5, dtype=np.int64)}, to="float"),
    case(
        "Where",
        {"C": np.array([[True, False, True]] * 2), "A": f32(2, 3), "B": f32(2, 3)},
    ),
    case(
        "Where",
        {"C": np.array([True, False]), "A": f32(2, 3), "B": f32(2, 3)},
        broadcast_on_rows=1,
    ),
    *[
        case(t, {"X": f32(2, 3, 4)}, axes=[1], keepdims=k)
        for t in (
            "ReduceSum",
            "ReduceMean",
            "ReduceMax",
            "ReduceMin",
            "ReduceL1",
            "ReduceL2",
        )
        for k in (0, 1)
    ],
    case("ReduceSum", {"X": f32(2, 3, 4)}),
    *[
        case(t, {"X": f32(2, 3, 4)}, num_reduce_dim=2)
        for t in (
            "ReduceFrontSum",
            "ReduceBackSum",
            "ReduceFrontMean",
            "ReduceBackMean",
            "ReduceFrontMax",
            "ReduceBackMax",
        )
    ],
    case("ArgMax", {"X": f32(3, 4)}, axis=1),
    case("ArgMin", {"X": f32(3, 4)}, keepdims=0),
    case("MatMul", {"A": f32(3, 4), "B": f32(4, 5)}),
    case("MatMul", {"A": f32(4, 3), "B": f32(5, 4)}, trans_a=1, trans_b=1),
    case("MatMul", {"A": f32(2, 3, 4), "B": f32(4, 5)}, axis_a=2),
    case("BatchMatMul", {"A": f32(2, 3, 4), "B": f32(2, 4, 5)}),
    case("BatchMatMul", {"A": f32(2, 4, 3), "B": f32(2, 5, 4)}, trans_a=1, trans_b=1),
    case("BatchMatMul", {"A": f32(2, 3, 4), "B": f32(4, 5)}, broadcast=1),
    case("DotProduct", {"X": f32(3, 4), "Y2": f32(3, 4)}),
    case("ElementwiseLinear", {"X": f32(3, 4)}, params={"w": f32(4), "b": f32(4)}),
    case("Gather", {"D": f32(5, 3), "I": np.array([[0, 4], [2, 2]], np.int64)}),
    case("Gather", {"D": f32(5, 3), "I": np.array([2, 0], np.int32)}, axis=1),
    case("BatchGather", {"D": f32(2, 5), "I": np.array([4, 1], np.int64)}),
    case("TopK", {"X": f32(3, 6)}, ("V", "I"), k=2),
    case("Slice", {"X": f32(4, 5, 6)}, starts=[1, 0], ends=[3, -1]),
    case("Slice", {"X": f32(4, 5, 6)}, starts=[0, 0, -3], ends=[-1, -1, -1]),
    case("Slice", {"X": f32(4, 5, 6)}, starts=[0, -4], ends=[-1, -2]),
    case(
        "Slice",
        {"X": f32(4, 5)},
        params={"s": np.array([0, 1], np.int32), "e": np.array([-1, 4], np.int32)},
    ),
    case("Reshape", {"X": f32(2, 3, 4)}, ("Y", "old"), shape=[0, -1]),
    case(
        "Reshape",
        {"X": f32(2, 3, 4)},
        ("Y", "old"),
        params={"s": np.array([4, 6], np.int64)},
    ),
    case("Transpose", {"X": f32(2, 3, 4)}),
    case("Transpose", {"X": f32(2, 3, 4)}, axes=[1, 2, 0]),
    case("NCHW2NHWC", {"X": X4}),
    case("NHWC2NCHW", {"X": X4}),
    case("Flatten", {"X": X4}, axis=2),
    case("FlattenToVec", {"X": X4}),
    case("Squeeze", {"X": f32(2, 1, 3, 1)}, dims=[1, 3]),
    case("ExpandDims", {"X": f32(2, 3)}, dims=[0, 3]),
    case("Shape", {"X": X4}),
    case("Shape", {"X": X4}, axes=[1, 3]),
    case("Size", {"X": X4}),
    case("Tile", {"X": f32(2, 3)}, tiles=3, axis=1),
    case("Tile", {"X": f32(2, 3)}, tiles=2, axis=-2),
    case("Concat", {"a": f32(2, 3), "b": f32(2, 4)}, ("Y", "info")),
    case("Concat", {"a": f32(2, 3), "b": f32(2, 3)}, ("Y", "info"), axis=0, add_axis=1),
    case(
        "Concat",
        {"a": f32(1, 2, 2, 3), "b": f32(1, 2, 2, 1)},
        ("Y", "info"),
        order="NHWC",
    ),
    case("Split", {"X": f32(6, 4)}, ("p", "q"), axis=0),
    case("Split", {"X": f32(2, 7)}, ("p", "q"), axis=1, split=[3, 4]),
    case("Split", {"X": f32(3, 2)}, ("p", "q", "r"), axis=0, add_axis=1),
    case("Dropout", {"X": f32(3, 4)}, ("Y", "mask"), is_test=1),
    case("ConstantFill", {"X": f32(2, 3)}, value=2.0),
    case("ConstantFill", {}, shape=[2, 3], value=7, dtype=2),
    case("GivenTensorFill", {}, shape=[3], values=[1.0, 2.0, 3.0]),
    case(
        "ConstantFill", {"X": np.array([2, 3], np.int64)}, input_as_shape=1, value=1.5
    ),
    case("Mod", {"X": np.arange(-7, 7, dtype=np.int64)}, divisor=3),
    case(
        "Mod",
        {"X": np.arange(-7, 7, dtype=np.int32)},
        divisor=-4,
        sign_follow_divisor=1,
    ),
    case(
        "ReplaceNaN",
        {"X": np.array([1.0, np.nan, -2.0, np.nan], np.float32)},
        value=0.5,
    ),
    case("FloatToHalf", {"X": f32(2, 3)}),
    case("FloatToHalf", {"X": f32(3) * 1e5}, clip=1),
    case("HalfToFloat", {"X": f32(2, 3).astype(np.float16)}),
    case("ReluN", {"X": f32(3, 4, lo=-9, hi=9)}, n=3.0),
    case("Cbrt", {"X": f32(2, 3, lo=-8, hi=8)}),
    *[case("LpNorm", {"X": f32(2, 3)}, p=p, average=a) for p in (1, 2) for a in (0, 1)],
    case("SumElements", {"X": f32(2, 3)}),
    case("SumElements", {"X": f32(2, 3)}, average=1),
    case("SumSqrElements", {"X": f32(4)}, average=1),
    case("Glu", {"X": f32(2, 6)}),
    case("Glu", {"X": f32(4, 3)}, dim=0),
    case(
        "SigmoidCrossEntropyWithLogits",
        {"X": f32(3, 4, lo=-30, hi=30), "T": f32(3, 4, lo=0, hi=1)},
    ),
    case("SigmoidCrossEntropyWithLogits", {"X": f32(5), "T": f32(5, lo=0, hi=1)}),
    case("AveragedLoss", {"X": f32(3, 4)}),
    # segments
    *[
        case(t, {"D": f32(6, 2, 3), "L": np.array([2, 0, 3, 1], np.int32)})
        for t in ("LengthsSum", "LengthsMean")
    ],
    case(
        "LengthsWeightedSum",
        {"D": f32(5, 2), "W": f32(5), "L": np.array([0, 5], np.int32)},
    ),
    *[
        case(
            t,
            {
                "D": f32(4, 3),
                "I": np.array([3, 0, 0, 2, 1], np.int64),
                "L": np.array([1, 3, 0, 1], np.int32),
            },
        )
        for t in ("SparseLengthsSum", "SparseLengthsMean")
    ],
    case(
        "SparseLengthsWeightedSum",
        {
            "D": f32(4, 3),
            "W": f32(3),
            "I": np.array([3, 0, 0], np.int32),
            "L": np.array([2, 1], np.int32),
        },
    ),
    case(
        "SortedSegmentSum", {"D": f32(5, 2), "S": np.array([0, 0, 1, 2, 2], np.int32)}
    ),
    case(
        "UnsortedSegmentSum", {"D": f32(5, 2), "S": np.array([2, 0, 2, 1, 0], np.int32)}
    ),
    case(
        "UnsortedSegmentSum",
        {"D": f32(3), "S": np.array([1, 0, 1], np.int32)},
        num_segments=4,
    ),
    case(
        "SortedSegmentMean", {"D": f32(5, 2), "S": np.array([0, 0, 1, 2, 2], np.int32)}
    ),
    case(
        "UnsortedSegmentMean", {"D": f32(5), "S": np.array([3, 0, 3, 1, 0], np.int32)}
    ),
    case(
        "UnsortedSegmentMean",
        {"D": f32(3, 2), "S": np.array([1, 1, 0], np.int32)},
        num_segments=3,
    ),
    *[
        case(
            t,
            {
                "D": f32(4, 3),
                "I": np.array([3, 0, 0, 2, 1], np.int64),
                "S": np.array([0, 0, 1, 1, 2], np.int32),
            },
        )
        for t in (
            "SparseSortedSegmentSum",
            "SparseUnsortedSegmentSum",
            "SparseSortedSegmentMean",
            "SparseUnsortedSegmentMean",
        )
    ],
    case(
        "FillExamplesWithIndicator",
        {"D": f32(2, 3), "I": np.array([0, 1, 0, 1, 0], np.bool_)},
    ),
    case(
        "FillExamplesWithIndicator", {"D": f32(1), "I": np.array([0, 2, 3], np.int32)}
    ),
    case(
        "Bucketize",
        {"X": np.array([[-1, 0.5, 1], [2, 7, np.nan]], np.float32)},
        boundaries=[0.5, 1.0, 5.0],
    ),
    case(
        "BatchBoxCox",
        {"X": pos(3, 4)},
        params={"l1": np.array([0, 0.5, -1, 2], np.float32), "l2": f32(4, lo=0, hi=1)},
    ),
    case(
        "GatherRanges",
        {
            "D": f32(7),
            "R": np.array(
                [[[0, 1], [2, 2]], [[4, 0], [5, 2]], [[1, 3], [0, 0]]], np.int32
            ),
        },
        ("Y", "lengths"),
    ),
    case(
        "GatherRanges",
        {"D": np.arange(5, dtype=np.int64), "R": np.array([[[3, 2]]], np.int64)},
        ("Y", "lengths"),
    ),
    case("LengthsToSegmentIds", {"L": np.array([2, 0, 3, 1], np.int32)}),
    case("LengthsTile", {"D": f32(3, 2), "L": np.array([2, 0, 3], np.int32)}),
    case("LengthsRangeFill", {"L": np.array([3, 0, 1, 2], np.int32)}),
    case("LengthsToRanges", {"L": np.array([3, 0, 1, 2], np.int32)}),
    case("SparseToDense", {"I": np.array([2, 0, 2], np.int64), "V": f32(3, 2)}),
    case(
        "SparseToDense", {"I": np.array([2, 0, 2], np.int32), "V": f32(3), "S": f32(6)}
    ),
    case(
        "SparseToDense",
        {"I": np.array([1, 1], np.int64), "V": f32(2, 2)},
        output_first_dim=3,
    ),
    case("RowwiseMax", {"X": f32(2, 3, 4)}),
    case("ColwiseMax", {"X": f32(2, 3, 4)}),
    case("ScaleBlobs", {"a": f32(2, 3), "b": f32(4)}, ("Y", "Z"), scale=1.5),
    case("RSqrt", {"X": pos(2, 3)}),
    case("EnsureDense", {"X": f32(2, 3)}),
    case("WeightedSum", {"a": f32(2, 3), "wa": f32(1), "b": f32(2, 3), "wb": f32(1)}),
    case("SumElementsInt", {"X": np.arange(6, dtype=np.int32).reshape(2, 3)}),
    *[
        case(t, {"X": f32(3, 2, 2), "Y2": f32(3, 2, 2)})
        for t in ("L1Distance", "SquaredL2Distance", "CosineSimilarity")
    ],
    case("CosineSimilarity", {"X": f32(4), "Y2": f32(4)}),
    case("SquaredL2Distance", {"X": f32(4), "Y2": f32(4)}),
    case("LabelCrossEntropy", {"X": pos(3, 4) / 8, "L": np.array([3, 0, 1], np.int32)}),
    case(
        "LabelCrossEntropy", {"X": pos(2, 2) / 4, "L": np.array([[1], [0]], np.int32)}
    ),
    case("CrossEntropy", {"X": pos(3, 4) / 8, "L": f32(3, 4, lo=0, hi=1)}),
    case("MakeTwoClass", {"X": f32(3, 2, lo=0, hi=1)}),
    case(
        "WeightedSigmoidCrossEntropyWithLogits",
        {"X": f32(3, 4), "T": f32(3, 4, lo=0, hi=1), "W": pos(3, 4)},
    ),
    case("Expand", {"X": f32(3, 1)}, params={"s": np.array([2, 3, 4], np.int64)}),
    case("MergeDim", {"X": f32(2, 3, 4)}),
    case("PrependDim", {"X": f32(6, 4)}, dim_size=3),
    case("NumpyTile", {"X": f32(2, 3)}, params={"r": np.array([2, 1], np.int64)}),
    case("ResizeLike", {"X": f32(2, 6), "S": f32(3, 4)}),
    case("Range", {"stop": np.array([5], np.int32)}),
    case(
        "Range",
        {
            "a": np.array(1.5, np.float32),
            "b": np.array(4.0, np.float32),
            "c": np.array(0.5, np.float32),
        },
    ),
    case("GivenTensorFp16Fill", {}, shape=[2], values=[1.5, -2.0]),
    case("DiagonalFill", {}, shape=[3, 3], value=2.0),
    case("RangeFill", {}, shape=[2, 3]),
    # layers
    case(
        "Conv", {"X": X4}, params={"w": f32(6, 3, 3, 3), "b": f32(6)}, kernel=3, pad=1
    ),
    case(
        "Conv",
        {"X": f32(1, 4, 7, 6)},
        params={"w": f32(4, 2, 3, 2), "b": f32(4)},
        kernels=[3, 2],
        strides=[2, 1],
        pads=[1, 0, 0, 1],
        group=2,
    ),
    case(
        "Conv",
        {"X": f32(1, 2, 9, 9)},
        params={"w": f32(3, 2, 3, 3)},
        kernel=3,
        dilation=2,
    ),
    case(
        "Conv",
        {"X": f32(1, 5, 5, 2)},
        params={"w": f32(3, 3, 3, 2), "b": f32(3)},
        kernel=3,
        order="NHWC",
    ),
    case(
        "Conv",
        {"X": f32(1, 2, 7, 7)},
        params={"w": f32(3, 2, 3, 3), "b": f32(3)},
        kernel=3,
        stride=2,
        legacy_pad=2,
    ),
    case(
        "Conv",
        {"X": f32(1, 2, 7)},
        params={"w": f32(3, 2, 3), "b": f32(3)},
        kernels=[3],
    ),
    case(
        "Conv1D",
        {"X": f32(1, 2, 7)},
        params={"w": f32(3, 2, 3), "b": f32(3)},
        kernels=[3],
        pads=[1, 0],
    ),
    case("Conv2D", {"X": X4}, params={"w": f32(2, 3, 3, 3), "b": f32(2)}, kernel=3),
    case(
        "Conv3D",
        {"X": f32(1, 2, 4, 5, 3)},
        params={"w": f32(2, 2, 2, 3, 1), "b": f32(2)},
        kernels=[2, 3, 1],
        strides=[2, 1, 1],
    ),
    case("MaxPool1D", {"X": f32(1, 2, 7)}, kernels=[3], strides=[2]),
    case("MaxPool2D", {"X": X4}, kernel=2),
    case("MaxPool3D", {"X": f32(1, 2, 4, 4, 4)}, kernels=[2, 2, 2], strides=[2, 2, 2]),
    case("AveragePool1D", {"X": f32(1, 2, 7)}, kernels=[3], pads=[1, 1]),
    case("AveragePool2D", {"X": X4}, kernel=3, pad=1),
    case("AveragePool3D", {"X": f32(1, 2, 4, 4, 4)}, kernels=[2, 2, 2]),
    case("GivenTensorDoubleFill", {}, shape=[2], values=[0.5, 2.0]),
    case("GivenTensorBoolFill", {}, shape=[3], values=[True, False, True]),
    case("GivenTensorInt16Fill", {}, shape=[2], values=[-3, 9]),
    case("ConvRelu", {"X": X4}, params={"w": f32(2, 3, 1, 1), "b": f32(2)}, kernel=1),
    case(
        "ConvTranspose",
        {"X": f32(1, 2, 3, 3)},
        params={"w": f32(2, 3, 3, 3), "b": f32(3)},
        kernel=3,
        stride=2,
        pad=1,
        adj=1,
    ),
    case(
        "ConvTranspose",
        {"X": f32(1, 3, 3, 2)},
        params={"w": f32(2, 2, 2, 3), "b": f32(3)},
        kernel=2,
        stride=2,
        order="NHWC",
    ),
    case("MaxPool", {"X": X4}, kernel=2, stride=2),
    case("MaxPool", {"X": f32(1, 2, 7, 7)}, kernel=3, stride=2, pad=1),
    case("MaxPool", {"X": f32(1, 2, 6, 6)}, kernel=3, stride=2, legacy_pad=3),
    case("AveragePool", {"X": f32(1, 2, 7, 7)}, kernel=3, stride=2, pad=1),
    case(
        "AveragePool",
        {"X": f32(1, 2, 7, 7)},
        kernel=3,
        stride=2,
        pad=1,
        count_include_pad=1,
    ),
    case("AveragePool", {"X": X4}, global_pooling=1),
    case("MaxPool", {"X": X4}, global_pooling=1),
    case("MaxPool", {"X": f32(1, 4, 5, 3)}, kernel=2, order="NHWC"),
    case("FC", {"X": f32(2, 5)}, params={"W": f32(3, 5), "b": f32(3)}),
    case("FC", {"X": f32(2, 3, 4)}, params={"W": f32(6, 12), "b": f32(6)}),
    case("FC", {"X": f32(2, 3, 4)}, params={"W": f32(6, 4), "b": f32(6)}, axis=2),
    case("FC", {"X": f32(2, 4)}, params={"W": f32(2, 3, 4), "b": f32(6)}, axis_w=2),
    case("FCTransposed", {"X": f32(2, 5)}, params={"W": f32(5, 3), "b": f32(3)}),
    case(
        "FbFCPacked", {"X": f32(2, 3, 5)}, params={"W": f32(4, 5), "b": f32(4)}, axis=2
    ),
    case("LpPool", {"X": f32(1, 2, 6, 6)}, kernel=2, stride=2, p=2.0),
    case("LpPool", {"X": f32(1, 2, 5, 5)}, kernel=3, pad=1, p=1.0),
    case("UpsampleBilinear", {"X": f32(1, 2, 3, 4)}, width_scale=2.0, height_scale=1.5),
    case(
        "RMSNorm",
        {"X": f32(3, 4)},
        ("Y", "rrms"),
        params={"g": pos(4), "bt": f32(4)},
        eps=1e-3,
    ),
    case(
        "RMSNorm",
        {"X": f32(2, 3, 4)},
        ("Y", "rrms"),
        params={"g": pos(12), "bt": f32(12)},
        axis=1,
    ),
    case(
        "SpatialBN",
        {"X": X4},
        params={"s": pos(3), "bb": f32(3), "m": f32(3), "v": pos(3)},
        is_test=1,
        epsilon=1e-3,
    ),
    case(
        "SpatialBN",
        {"X": f32(2, 4, 5, 3)},
        params={"s": pos(3), "bb": f32(3), "m": f32(3), "v": pos(3)},
        is_test=1,
        order="NHWC",
    ),
    case("AffineChannel", {"X": X4}, params={"s": pos(3), "bb": f32(3)}),
    case(
        "AffineChannel",
        {"X": f32(2, 4, 3)},
        params={"s": pos(3), "bb": f32(3)},
        order="NHWC",
    ),
    case(
        "GroupNorm",
        {"X": f32(2, 6, 2, 3)},
        ("Y", "m", "s"),
        keep=1,
        params={"g": pos(6), "bb": f32(6)},
        group=3,
    ),
    case(
        "GroupNorm",
        {"X": f32(2, 2, 3, 4)},
        ("Y", "m", "s"),
        keep=1,
        params={"g": pos(4), "bb": f32(4)},
        group=2,
        order="NHWC",
        epsilon=1e-3,
    ),
    case("InstanceNorm", {"X": X4}, params={"s": pos(3), "bb": f32(3)}),
    case("LayerNorm", {"X": f32(2, 3, 4)}, ("Y", "mean", "std"), keep=1, axis=1),
    case(
        "LayerNorm",
        {"X": f32(2, 3, 4)},
        ("Y", "mean", "std"),
        keep=1,
        params={"g": pos(4), "bt": f32(4)},
        axis=-1,
        elementwise_affine=1,
        epsilon=1e-3,
    ),
    case("Softmax", {"X": f32(3, 5)}),
    case("Softmax", {"X": X4}),
    case("Softmax", {"X": X4}, axis=3),
    case("Softmax", {"X": X4}, axis=2),
    case("PRelu", {"X": X4}, params={"slope": pos(3)}),
    case("PRelu", {"X": X4}, params={"slope": pos(1)}),
    case("PRelu", {"X": f32(2, 4, 3)}, params={"slope": pos(3)}, order="NHWC"),
    case(
        "LRN",
        {"X": f32(1, 5, 3, 3)},
        ("Y", "scale"),
        keep=1,
        size=3,
        alpha=1e-2,
        beta=0.75,
        bias=2.0,
    ),
    case("ChannelShuffle", {"X": f32(2, 6, 2, 3)}, group=3),
    case("ChannelShuffle", {"X": f32(2, 2, 3, 6)}, group=2, order="NHWC"),
    case("ResizeNearest", {"X": f32(1, 2, 3, 4)}, width_scale=2.0, height_scale=1.5),
    case(
        "ResizeNearest",
        {"X": f32(1, 3, 4, 2)},
        width_scale=0.5,
        height_scale=2.0,
        order="NHWC",
    ),
]


@pytest.mark.filterwarnings("ignore::caffe2lite.errors.UnknownArgumentWarning")
@pytest.mark.parametrize("op_type, args, inputs, params, outputs, keep", CASES)
def test_converter_matches_caffe2lite(
    op_type, args, inputs, params, outputs, keep, export_and_compare
):
    net, init = core.Net("n"), core.Net("init")
    for name, value in params.items():
        init.GivenTensorFill(
            [], name, values=value.reshape(-1).tolist(), shape=list(value.shape)
        ) if value.dtype == np.float32 else init.GivenTensorIntFill(
            [], name, values=value.reshape(-1).tolist(), shape=list(value.shape)
        ) if value.dtype == np.int32 else init.GivenTensorInt64Fill(
            [], name, values=value.reshape(-1).tolist(), shape=list(value.shape)
        )
    getattr(net, op_type)(list(inputs) + list(params), outputs, **args)
    for o in outputs[:keep]:
        net.Proto().external_output.append(o)
    export_and_compare(net, inputs, init if params else None)


@pytest.mark.parametrize("opset", [13, 18, 20])
def test_opsets(opset, export_and_compare):
    net = core.Net("n")
    net.ReduceMean(["X"], "m", axes=[1])
    net.Gelu(["m"], "g")
    net.Mish(["g"], "h")
    net.Softmax(["h"], "Y")
    net.Proto().external_output.append("Y")
    model = export_and_compare(net, {"X": f32(2, 3, 4)}, opset=opset)
    assert model.opset_import[0].version == opset


@pytest.mark.parametrize("op_type", ["BitwiseAnd", "BitwiseOr", "BitwiseXor"])
def test_bitwise_ops_need_opset_18(op_type, export_and_compare):
    from caffe2lite.onnx import ExportError

    net = core.Net("n")
    getattr(net, op_type)(["A", "B"], "C")
    net.Proto().external_output.append("C")
    inputs = {"A": np.array([5, 3, 12], np.int32), "B": np.array([3, 6, 10], np.int32)}
    export_and_compare(net, inputs, opset=18)
    with pytest.raises(ExportError, match=f"{op_type} needs opset 18 or later"):
        export_and_compare(net, inputs, opset=17)


def test_lengths_max_needs_opset_18(export_and_compare):
    from caffe2lite.onnx import ExportError

    net = core.Net("n")
    net.LengthsMax(["D", "L"], "Y")
    net.Proto().external_output.append("Y")
    inputs = {"D": f32(6, 2), "L": np.array([2, 0, 3, 1], np.int32)}
    export_and_compare(net, inputs, opset=18)
    with pytest.raises(
        ExportError,
        match=r"- LengthsMax \(1\): op #0 \(ScatterND with "
        r"reduction 'max' needs opset 18 or later\)",
    ):
        export_and_compare(net, inputs, opset=17)


@pytest.mark.parametrize("opset", [13, 18])
def test_every_case_at_other_opsets(opset, onnx_tools):
    """The same cases at the oldest supported opset and at 18 (axes become inputs of
    the reductions, Split takes num_outputs): each matches, or says which opset it
    needs."""
    from caffe2lite.onnx import ExportError, export
    from caffe2lite.schema.shapes import TensorShape

    needs_newer = []
    for param in CASES:
        op_type, args, inputs, params, outputs, keep = param.values
        net, init = core.Net("n"), core.Net("init")
        for name, value in params.items():
            fill = {
                np.dtype(np.float32): "GivenTensorFill",
                np.dtype(np.int32): "GivenTensorIntFill",
            }.get(value.dtype, "GivenTensorInt64Fill")
            getattr(init, fill)(
                [], name, values=value.reshape(-1).tolist(), shape=list(value.shape)
            )
        getattr(net, op_type)(list(inputs) + list(params), outputs, **args)
        net.Proto().external_output.extend(outputs[:keep])
        shapes = {k: TensorShape(v.shape, v.dtype) for k, v in inputs.items()}
        try:
            model = export(net, init if params else None, shapes, opset_version=opset)
        except ExportError as e:
            assert "needs opset" in str(e), (param.id, str(e))
            needs_newer.append(op_type)
            continue
        onnx_tools.compare(model, net.Proto(), init.Proto() if params else None, inputs)
    expected = {
        13: {
            "LayerNorm",
            "LengthsSum",
            "LengthsMean",
            "LengthsWeightedSum",
            "SparseLengthsSum",
            "SparseLengthsMean",
            "SparseLengthsWeightedSum",
            "SortedSegmentSum",
            "UnsortedSegmentSum",
            "SparseToDense",
            "SortedSegmentMean",
            "UnsortedSegmentMean",
            "SparseSortedSegmentSum",
            "SparseUnsortedSegmentSum",
            "SparseSortedSegmentMean",
            "SparseUnsortedSegmentMean",
        },
        18: set(),
    }
    assert set(needs_newer) == expected[opset]


@pytest.mark.parametrize(
    "op_type, quantize",
    [
        ("SparseLengthsSumFused8BitRowwise", "FloatToFused8BitRowwiseQuantized"),
        ("SparseLengthsMeanFused4BitRowwise", "FloatToFused4BitRowwiseQuantized"),
        (
            "SparseLengthsWeightedSumFused2BitRowwise",
            "FloatToFused2BitRowwiseQuantized",
        ),
        ("SparseLengthsWeightedMean8BitsRowwise", "FloatToRowwiseQuantized8Bits"),
        ("SparseLengthsMeanFused8BitRowwise", "FloatToFused8BitRowwiseQuantized"),
        (
            "SparseLengthsWeightedSumFused4BitRowwise",
            "FloatToFused4BitRowwiseQuantized",
        ),
        ("SparseLengthsSumFused2BitRowwise", "FloatToFused2BitRowwiseQuantized"),
        ("SparseLengthsMeanFused2BitRowwise", "FloatToFused2BitRowwiseQuantized"),
        ("SparseLengthsMean8BitsRowwise", "FloatToRowwiseQuantized8Bits"),
    ],
)
def test_quantized_lookups_read_a_dequantized_table(
    op_type, quantize, export_and_compare
):
    """The quantized table is an initializer: exported as the float table caffe2lite's
    dequantize op gives; a table that is an input cannot be exported."""
    from caffe2lite.onnx import ExportError, export

    init, net = core.Net("init"), core.Net("n")
    table = f32(5, 8)
    init.GivenTensorFill([], "T", values=table.reshape(-1).tolist(), shape=[5, 8])
    separate = quantize == "FloatToRowwiseQuantized8Bits"
    init.Proto().op.add(
        type=quantize, input=["T"], output=["Q", "SB"] if separate else ["Q"]
    )
    weighted = "Weighted" in op_type
    ins = (
        ["Q"] + (["W"] if weighted else []) + ["I", "L"] + (["SB"] if separate else [])
    )
    getattr(net, op_type)(ins, "Y")
    net.Proto().external_output.append("Y")
    inputs = {"I": np.array([4, 0, 0, 2], np.int64), "L": np.array([1, 0, 3], np.int32)}
    if weighted:
        inputs["W"] = f32(4)
    model = export_and_compare(net, inputs, init, rtol=1e-5, atol=1e-5)
    assert "Q" not in {t.name for t in model.graph.initializer}
    from caffe2lite.schema.shapes import TensorShape

    with pytest.raises(ExportError, match="a quantized table that is not a constant"):
        export(
            net,
            None,
            {"Q": TensorShape((5, 16), np.uint8), "SB": TensorShape((5, 2), np.float32)}
            | {k: TensorShape(v.shape, v.dtype) for k, v in inputs.items()},
        )


@pytest.mark.parametrize(
    "op_type", ["SparseDropoutWithReplacement", "SparseItemwiseDropoutWithReplacement"]
)
@pytest.mark.parametrize("ratio", [0.0, 1.0])
def test_sparse_dropout_at_its_deterministic_ratios(op_type, ratio, export_and_compare):
    net = core.Net("n")
    getattr(net, op_type)(["X", "L"], ["Y", "OL"], ratio=ratio, replacement_value=-7)
    net.Proto().external_output.extend(["Y", "OL"])
    inputs = {
        "X": np.array([3, 1, 4, 1, 5], np.int64),
        "L": np.array([2, 0, 3], np.int32),
    }
    export_and_compare(net, inputs)


@pytest.mark.parametrize("aligned", [0, 1])
@pytest.mark.parametrize("sampling_ratio", [-1, 2])
@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_roi_align(aligned, sampling_ratio, order, export_and_compare):
    net = core.Net("n")
    net.RoIAlign(
        ["X", "R"],
        "Y",
        pooled_h=2,
        pooled_w=3,
        spatial_scale=0.5,
        sampling_ratio=sampling_ratio,
        aligned=aligned,
        order=order,
    )
    net.Proto().external_output.append("Y")
    x = f32(2, 3, 8, 8) if order == "NCHW" else f32(2, 8, 8, 3)
    rois = np.array([[0, 1, 1, 9, 7], [1, 0.5, 2, 14, 14], [1, 3, 3, 4, 4]], np.float32)
    export_and_compare(net, {"X": x, "R": rois}, rtol=1e-4, atol=1e-5)
    export_and_compare(net, {"X": x[:1], "R": rois[:, 1:]}, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_roi_pool(scale, export_and_compare):
    net = core.Net("n")
    net.RoIPool(
        ["X", "R"], ["Y", "A"], pooled_h=2, pooled_w=3, spatial_scale=scale, is_test=1
    )
    net.Proto().external_output.append("Y")
    rois = np.array([[0, 1, 1, 6, 5], [1, 0.4, 2.6, 7, 7], [1, 3, 3, 3, 3]], np.float32)
    export_and_compare(net, {"X": f32(2, 3, 8, 8), "R": rois})


@pytest.mark.parametrize(
    "build, inputs",
    [
        (lambda n: n.Relu("X", "Y"), {"X": np.zeros((0, 3), np.float32)}),
        (
            lambda n: n.FC(["X", "W", "b"], "Y"),
            {"X": np.zeros((0, 3), np.float32), "W": f32(2, 3), "b": f32(2)},
        ),
        (
            lambda n: n.Concat(["X", "W"], ["Y", "i"], axis=0),
            {"X": np.zeros((0, 3), np.float32), "W": f32(2, 3)},
        ),
        (
            lambda n: n.LengthsSum(["X", "L"], "Y"),
            {"X": np.zeros((0, 2), np.float32), "L": np.zeros(3, np.int32)},
        ),
        (lambda n: n.Softmax("X", "Y"), {"X": np.zeros((0, 4), np.float32)}),
    ],
    ids=["Relu", "FC", "Concat", "LengthsSum", "Softmax"],
)
def test_empty_tensors(build, inputs, export_and_compare):
    net = core.Net("n")
    build(net)
    net.Proto().external_output.append("Y")
    export_and_compare(net, inputs)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)  # stateless
@given(data=st.data())
def test_legacy_broadcast_any_axis(data, onnx_tools):
    """broadcast=1: B's dimensions (with leading and trailing 1s) matched to A's run
    starting at axis, for random shapes, axes and ops."""
    from caffe2lite.onnx import export
    from caffe2lite.schema.shapes import TensorShape

    rank = data.draw(st.integers(1, 4))
    a_shape = data.draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    size = data.draw(st.integers(0, rank))
    axis = data.draw(st.integers(0, rank - size))
    b_shape = a_shape[axis : axis + size]
    pad_front, pad_back = data.draw(st.integers(0, 1)), data.draw(st.integers(0, 1))
    if len(b_shape) + pad_front + pad_back <= rank - axis or not b_shape:
        b_shape = [1] * pad_front + b_shape + [1] * pad_back
    b_shape = b_shape or [1]
    op_type = data.draw(st.sampled_from(["Add", "Sub", "Mul", "Div"]))
    explicit = data.draw(st.booleans()) and len(b_shape) + axis <= rank
    net = core.Net("n")
    getattr(net, op_type)(
        ["A", "B"], "C", broadcast=1, **({"axis": axis} if explicit else {})
    )
    net.Proto().external_output.append("C")
    rng = np.random.default_rng(0)
    inputs = {
        "A": rng.uniform(1, 2, a_shape).astype(np.float32),
        "B": rng.uniform(1, 2, b_shape).astype(np.float32),
    }
    try:
        want = onnx_tools.run_caffe2lite(net.Proto(), None, inputs)
    except Caffe2LiteError:  # a B that Caffe2 refuses with this axis
        return
    shapes = {k: TensorShape(v.shape, v.dtype) for k, v in inputs.items()}
    got = onnx_tools.run_onnxruntime(export(net, None, shapes), inputs)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)


@pytest.mark.parametrize(
    "inputs, args",
    [
        (
            {
                "L": np.array([2, 3, 1], np.int32),
                "I": np.array([0, 1, 2, 3, 2, 5], np.int64),
                "V": f32(6),
            },
            {"dense_last_dim": 6, "default_value": -1.5},
        ),
        (
            {
                "L": np.array([0, 2], np.int64),
                "I": np.array([1, 1], np.int32),
                "V": f32(2),
                "S": f32(2, 3),
            },
            {},
        ),
        (
            {
                "L": np.array([0, 0], np.int32),
                "I": np.zeros(0, np.int64),
                "V": np.zeros(0, np.float32),
            },
            {"dense_last_dim": 2},
        ),
    ],
    ids=["repeated-index", "shape-from-input", "empty"],
)
def test_batch_sparse_to_dense_needs_opset_18(inputs, args, export_and_compare):
    from caffe2lite.onnx import ExportError

    net = core.Net("n")
    net.BatchSparseToDense(list(inputs), "Y", **args)
    net.Proto().external_output.append("Y")
    export_and_compare(net, inputs, opset=18)
    with pytest.raises(ExportError, match="needs opset 18 or later"):
        export_and_compare(net, inputs, opset=17)


@pytest.mark.parametrize(
    "inputs, presence",
    [
        (
            {
                "I": np.array([7, 3, 9, 3, 5], np.int64),
                "V": f32(5),
                "D": np.float32(-1),
                "L": np.array([3, 2], np.int32),
            },
            True,
        ),
        ({"I": np.array([5, 3, 5], np.int32), "V": f32(3, 2), "D": f32(2)}, False),
        (
            {
                "I": np.array([3, -2, 7, 8], np.int64),
                "V": f32(4, 2, 2),
                "D": f32(2, 2),
                "L": np.array([0, 4, 0], np.int32),
            },
            True,
        ),
    ],
    ids=["lengths", "no-lengths", "negative-and-empty-rows"],
)
def test_sparse_to_dense_mask_needs_opset_18(inputs, presence, export_and_compare):
    from caffe2lite.onnx import ExportError

    net = core.Net("n")
    outputs = ["Y", "P"] if presence else ["Y"]
    net.SparseToDenseMask(
        list(inputs), outputs, mask=[3, 7, 5], return_presence_mask=int(presence)
    )
    net.Proto().external_output.extend(outputs)
    inputs = {k: np.asarray(v) for k, v in inputs.items()}
    export_and_compare(net, inputs, opset=18)
    with pytest.raises(ExportError, match="needs opset 18 or later"):
        export_and_compare(net, inputs, opset=17)
