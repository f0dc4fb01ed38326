"""Checks shared by the element-wise activations of this family (LeakyRelu, Elu,
Gelu, Swish, Mish, ReluN, HardSigmoid and their gradient ops). Not an operator
module: nothing is registered here."""

from __future__ import annotations

import numpy as np

from .._dense import dims, dispatch, enforce_cmp, enforce_that, float_tensor


def float_input(x: np.ndarray, blob: str = "X") -> np.dtype:
    """A float32 or float64 tensor (Caffe2's ``TensorTypes<float>`` dispatch; float64
    is accepted as well so gradients can be checked in double precision)."""
    return dispatch(x, blob)


def same_sizes(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str) -> np.dtype:
    """Two float tensors of one type and one shape (the gradient ops read them element
    by element): ``"a.sizes() == b.sizes()"`` otherwise."""
    dtype = dispatch(a, a_name)
    float_tensor(b, b_name, dtype)
    if a.shape != b.shape:
        enforce_that(False, f"{a_name}.sizes() == {b_name}.sizes()", blob=b_name,
                     expected=f"{a_name}'s shape {dims(a.shape)}", found=dims(b.shape))
    return dtype


def same_numel(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str,
               expr: str) -> np.ndarray:
    """Caffe2's ``CAFFE_ENFORCE_EQ(a.numel(), b.numel())`` for two float tensors of
    one type; returns ``b`` in ``a``'s shape (the elements pair up by position)."""
    dtype = dispatch(a, a_name)
    float_tensor(b, b_name, dtype)
    if a.size != b.size:
        enforce_cmp(False, expr, a.size, b.size, blob=b_name)
    return b.reshape(a.shape)
