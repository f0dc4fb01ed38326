"""SparseItemwiseDropoutWithReplacement: replace single ids of an id list, each with
probability ``ratio`` (Caffe2 sparse_itemwise_dropout_with_replacement_op).

The kernel works through X in chunks of 2 MiB of ids (a core's cache): it draws the
chunk's bytes (see ``_dropout_draws``), copies the chunk (or fills it with the
replacement when most items drop), and overwrites only the minority: the positions
from ``np.flatnonzero`` of one byte comparison. numpy's ``where`` and masked
copies branch on every element and run several times slower on random masks.

When the optional compiled module is built (``_speedups``), the op runs its
kernel instead: the same draws and the same array, one branch-free vector pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

from .. import _speedups
from ._dropout_draws import draw_bytes, threshold

if TYPE_CHECKING:
    from caffe2lite.runtime.net import OutputBlobs
from .sparse_dropout_with_replacement import (
    DROPOUT_ARGS,
    DROPOUT_EXAMPLE_ARGS,
    DROPOUT_EXAMPLE_INPUTS,
    check_id_list,
    check_id_list_types,
)

# Elements per chunk: a multiple of 8, so the chunks' bytes are one draw's bytes.
_CHUNK = 1 << 18


def itemwise_dropout(
    x: np.ndarray, rng: np.random.Generator, ratio: float, replacement_value: int
) -> np.ndarray:
    """X with each element replaced by ``replacement_value`` with probability
    ``ratio``, drawn from ``rng`` as ``_dropout_draws`` describes.

    >>> itemwise_dropout(np.array([1, 2, 3]), np.random.default_rng(0), 0.5, -1)
    array([ 1, -1, -1])
    """
    n = x.shape[0]
    whole, fraction = threshold(ratio)
    mostly_kept = whole >= 128
    y = np.empty(n, dtype=np.int64)
    ties = []
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        drawn = draw_bytes(rng, stop - start)
        part, source = y[start:stop], x[start:stop]
        # Write the majority in bulk, then the minority at the positions of one byte
        # comparison. Ties go with the minority (drops) or the keeps until settled.
        if mostly_kept:
            np.copyto(part, source)
            minority = np.flatnonzero(drawn >= whole)
            part[minority] = replacement_value
        else:
            part.fill(replacement_value)
            minority = np.flatnonzero(drawn <= whole if fraction else drawn < whole)
            part[minority] = source[minority]
        if fraction:
            tied = minority[drawn[minority] == whole]
            if tied.shape[0]:
                ties.append(tied + start)
    if ties:
        tied = np.concatenate(ties)
        kept = rng.random(tied.shape[0]) < fraction
        if mostly_kept:  # the ties were written as drops
            y[tied[kept]] = x[tied[kept]]
        else:  # and here as keeps
            y[tied[~kept]] = replacement_value
    return y


def _itemwise_shape(
    x: TensorShape, lengths: TensorShape
) -> tuple[TensorShape, TensorShape]:
    """Y: int64 like X; OutputLengths: int32 like Lengths."""
    return (TensorShape(x.dims, np.int64), TensorShape(lengths.dims, np.int32))


@register_cpu_operator(
    "SparseItemwiseDropoutWithReplacement",
    inputs=["X", "Lengths"],
    outputs=["Y", "OutputLengths"],
    shape=_itemwise_shape,
    example=Example(
        DROPOUT_EXAMPLE_INPUTS,
        {
            "Y": np.array([1, -1, 3, -1, 5], np.int64),
            "OutputLengths": np.array([2, 3], np.int32),
        },
        DROPOUT_EXAMPLE_ARGS,
        exact=False,
    ),
    num_outputs="same",
    args=DROPOUT_ARGS,
    doc="""`SparseItemwiseDropoutWithReplacement` takes a 1-d int64 input tensor X and
an int32 lengths tensor (the number of X values of each example of the batch). Each
value of X is replaced by `replacement_value` with probability `ratio`, independently
of the others; segments play no part in the draws. Y has exactly as many int64
values as X, and OutputLengths (int32) is a copy of Lengths.

One decision is drawn per element, for all elements of X, in order, from the
operator's generator (seeded by `device_option.random_seed`), one random byte each:
with s = 256 * (1 - ratio), decision i reads byte i of the generator's raw 64-bit
words (least significant byte first) and keeps when the byte is below floor(s),
drops when it is above; a byte equal to floor(s) is settled after all the bytes, in
order, by one `rng.random()`, kept when below s - floor(s) (when s is whole, it
drops). The keep probability is exactly 1 - ratio. At ratio 0 or 1 the outcome is
certain and nothing is drawn. ratio must lie in [0, 1] ("Ratio should be a valid
probability").

Example: ratio=0.5, replacement_value=-1, X=[1, 2, 3, 4, 5], Lengths=[2, 3] ->
Y=[1, -1, 3, -1, 5], OutputLengths=[2, 3] (one possible result: the second and fourth
values dropped)""",
)
def sparse_itemwise_dropout_with_replacement(
    x: np.ndarray,
    lengths: np.ndarray,
    *,
    ratio: float,
    replacement_value: int,
    rng: np.random.Generator,
    outputs: OutputBlobs | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Replace each element of X with probability ``ratio``; lengths are unchanged."""
    if _speedups.native is not None and 0.0 < ratio < 1.0:
        check_id_list_types(x, lengths)
        y = _speedups.itemwise_dropout(
            x, lengths, rng, ratio, replacement_value, outputs
        )
        if y is None:  # the lengths are wrong: raise Caffe2's error
            check_id_list(x, lengths)
        return y, lengths
    check_id_list(x, lengths)
    if ratio == 0.0:
        return x, lengths
    if ratio == 1.0:
        return np.full(x.shape[0], replacement_value, dtype=np.int64), lengths
    return itemwise_dropout(x, rng, ratio, replacement_value), lengths


no_gradient("SparseItemwiseDropoutWithReplacement")
