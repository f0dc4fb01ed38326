"""SparseItemwiseDropoutWithReplacement: replace single ids of an id list, each with
probability ``ratio`` (Caffe2 sparse_itemwise_dropout_with_replacement_op)."""

from __future__ import annotations

import numpy as np

from caffe2lite.registry import no_gradient, register_cpu_operator

from .sparse_dropout_with_replacement import DROPOUT_ARGS, check_id_list


def itemwise_dropout(
    x: np.ndarray, keep: np.ndarray, replacement_value: int
) -> np.ndarray:
    """X with every element whose ``keep`` is False replaced by ``replacement_value``.

    >>> itemwise_dropout(np.array([1, 2, 3]), np.array([True, False, True]), -1)
    array([ 1, -1,  3])
    """
    # (x - r) * keep + r, in place: branch-free, and exact under int64 wrap-around.
    y = np.subtract(x, replacement_value, dtype=np.int64)
    y *= keep
    y += replacement_value
    return y


@register_cpu_operator(
    "SparseItemwiseDropoutWithReplacement",
    inputs=["X", "Lengths"],
    outputs=["Y", "OutputLengths"],
    num_outputs="same",
    args=DROPOUT_ARGS,
    doc="""`SparseItemwiseDropoutWithReplacement` takes a 1-d int64 input tensor X and
an int32 lengths tensor (the number of X values of each example of the batch). Each
value of X is replaced by `replacement_value` with probability `ratio`, independently
of the others; segments play no part in the draws. Y has exactly as many int64
values as X, and OutputLengths (int32) is a copy of Lengths.

One number is drawn per element of X, in order, from the operator's generator (seeded
by `device_option.random_seed`): the element is kept when `rng.random() < 1 - ratio`.
At ratio 0 or 1 the outcome is certain and nothing is drawn. ratio must lie in [0, 1]
("Ratio should be a valid probability").

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
) -> tuple[np.ndarray, np.ndarray]:
    """Replace each element of X with probability ``ratio``; lengths are unchanged."""
    check_id_list(x, lengths)
    if ratio == 0.0:
        return x, lengths
    if ratio == 1.0:
        return np.full(x.shape[0], replacement_value, dtype=np.int64), lengths
    keep = rng.random(x.shape[0]) < 1.0 - ratio
    return itemwise_dropout(x, keep, replacement_value), lengths


no_gradient("SparseItemwiseDropoutWithReplacement")
