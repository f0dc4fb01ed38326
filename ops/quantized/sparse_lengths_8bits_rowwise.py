"""SparseLengths{Sum,WeightedSum,Mean,WeightedMean}8BitsRowwise (Caffe2
lengths_reducer_rowwise_8bit_ops): one table row per reducer."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype, check_lengths, check_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

from ..segment._segment_checks import check_index_type
from ._rowwise import check_lookup_bounds, lookup_8bit

_DATA = np.array([[0, 2], [4, 6]], np.uint8)
_SCALE_BIAS = np.array([[0.5, -1.0], [1.0, 0.0]], np.float32)
_INDICES = np.array([1, 0, 1], np.int64)
_LENGTHS = np.array([2, 0, 1], np.int32)
_SCALARS = np.array([1.0, 2.0, 0.5], np.float32)

_DOC = """{what}, on a table quantised by FloatToRowwiseQuantized8Bits: DATA holds
uint8 codes, scale_bias (float32, one (scale, bias) row per DATA row) restores them
as code * scale + bias.

INDICES (int32 or int64, a vector) picks rows of DATA; LENGTHS (int32) splits INDICES
into segments (sum(LENGTHS) == len(INDICES)). {how} OUTPUT is float32 of shape
(len(LENGTHS),) + DATA.shape[1:], 0 for an empty segment. An index outside DATA's
rows is an error{weights_note}.

Example: DATA=[[0, 2], [4, 6]], scale_bias=[[0.5, -1], [1, 0]] (rows [-1, 0] and
[4, 6]), INDICES=[1, 0, 1], LENGTHS=[2, 0, 1]{extra} -> output={out}"""

_ROWS = [
    (
        "Sum",
        "Gather rows by INDICES and sum them per segment (SparseLengthsSum)",
        "The de-quantised rows are summed.",
        [[3, 6], [0, 0], [4, 6]],
    ),
    (
        "WeightedSum",
        (
            "Gather rows by INDICES, scale each by its SCALARS entry and sum "
            "them per segment (SparseLengthsWeightedSum)"
        ),
        "Row j is multiplied by SCALARS[j] (float32, one per index) and summed.",
        [[2, 6], [0, 0], [2, 3]],
    ),
    (
        "Mean",
        "Gather rows by INDICES and average them per segment (SparseLengthsMean)",
        "The de-quantised rows are summed and the sum multiplied by 1 / length.",
        [[1.5, 3], [0, 0], [4, 6]],
    ),
    (
        "WeightedMean",
        (
            "Gather rows by INDICES, scale each by its SCALARS entry and "
            "average them per segment"
        ),
        (
            "Row j is multiplied by SCALARS[j] (float32, one per index), summed, and the sum "
            "multiplied by 1 / length."
        ),
        [[1, 3], [0, 0], [2, 3]],
    ),
]


def lookup_8bits(data, weights, indices, lengths, scale_bias, *, mean):
    """The checks of Caffe2's SparseLengths8BitsRowwiseOp in its order, then the
    reduction."""
    check_index_type(indices)
    check_dtype(scale_bias, "scale_bias", np.float32)
    check_ndim(lengths, "LENGTHS", 1, "LENGTHS must be a vector")
    check_ndim(scale_bias, "scale_bias", 2, "scale_bias has to be matrix")
    if data.ndim < 1:
        raise ShapeError(
            "DATA must have at least one dimension",
            blob="DATA",
            expected="rank >= 1",
            found="a 0-D tensor",
        )
    if data.shape[0] != scale_bias.shape[0]:
        raise ShapeError(
            f"dataInput.dim(0) == Input(SCALE_BIAS).dim(0). {data.shape[0]} vs "
            f"{scale_bias.shape[0]}. scale_bias must have the same first dim as data",
            blob="scale_bias",
            expected=f"{data.shape[0]} rows",
            found=scale_bias.shape[0],
        )
    if scale_bias.shape[1] != 2:
        raise ShapeError(
            f"2 == Input(SCALE_BIAS).dim(1). 2 vs {scale_bias.shape[1]}. the second "
            "dim of scale_bias has to be equal to 2",
            blob="scale_bias",
            expected="2 columns",
            found=scale_bias.shape[1],
        )
    check_ndim(indices, "INDICES", 1, "INDICES must be a vector")
    check_dtype(data, "DATA", np.uint8)
    if weights is not None:
        check_dtype(weights, "SCALARS", np.float32)
        if weights.ndim != 1 or weights.shape[0] != indices.shape[0]:
            # Caffe2 read past a short SCALARS vector.
            raise EnforceError(
                "SCALARS must be a vector with one value per index",
                blob="SCALARS",
                expected=f"shape ({indices.shape[0]},)",
                found=f"shape {weights.shape}",
            )
    check_lengths(lengths)
    check_lookup_bounds(indices, lengths, data.shape[0])
    table = np.ascontiguousarray(data).reshape(
        data.shape[0], int(np.prod(data.shape[1:]))
    )
    pairs = np.take(scale_bias, indices, axis=0)
    out = lookup_8bit(
        table, table.shape[1], pairs[:, 0], pairs[:, 1], indices, lengths, weights, mean
    )
    return out.reshape((lengths.shape[0],) + data.shape[1:])


def _shape(weighted: bool):
    def shape(*inputs: TensorShape) -> tuple[TensorShape, ...]:
        data, lengths = inputs[0], inputs[3 if weighted else 2]
        rows = lengths.dims[0] if lengths.dims else "len(LENGTHS)"
        if data.dims is None or not data.dims:
            return (TensorShape(None, np.float32),)
        return (TensorShape((rows,) + tuple(data.dims[1:]), np.float32),)

    return shape


def _register(reducer: str, what: str, how: str, out: list) -> None:
    op_type = f"SparseLengths{reducer}8BitsRowwise"
    weighted, mean = reducer.startswith("Weighted"), reducer.endswith("Mean")
    inputs = (
        ["DATA"]
        + (["SCALARS"] if weighted else [])
        + ["INDICES", "LENGTHS", "scale_bias"]
    )
    values = {
        "DATA": _DATA,
        "SCALARS": _SCALARS,
        "INDICES": _INDICES,
        "LENGTHS": _LENGTHS,
        "scale_bias": _SCALE_BIAS,
    }
    out = np.array(out, np.float32)
    schema = {
        "inputs": inputs,
        "outputs": ["output"],
        "shape": _shape(weighted),
        "example": Example({k: values[k] for k in inputs}, {"output": out}),
        "doc": _DOC.format(
            what=what,
            how=how,
            out=out.tolist(),
            extra=", SCALARS=[1, 2, 0.5]" if weighted else "",
            weights_note=", and so is a SCALARS of another length (Caffe2 read past it)"
            if weighted
            else "",
        ),
    }
    if weighted:

        @register_cpu_operator(op_type, **schema)
        def kernel(data, scalars, indices, lengths, scale_bias):
            return (
                lookup_8bits(data, scalars, indices, lengths, scale_bias, mean=mean),
            )

    else:

        @register_cpu_operator(op_type, **schema)
        def kernel(data, indices, lengths, scale_bias):
            return (lookup_8bits(data, None, indices, lengths, scale_bias, mean=mean),)

    no_gradient(op_type)


for _row in _ROWS:
    _register(*_row)
