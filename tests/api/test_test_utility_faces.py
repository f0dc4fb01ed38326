"""The Caffe2 test-utility module names that operator test files import."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from caffe2lite import control_ops_grad, device_checker
from caffe2lite import hypothesis_test_util as hu
from caffe2lite.serialized_test import serialized_test_util as serial


def test_faces_name_the_implementations():
    from caffe2lite.ops.control import if_op
    from caffe2lite.testing.device_checker import DeviceChecker

    assert device_checker.DeviceChecker is DeviceChecker
    assert control_ops_grad.disambiguate_grad_if_op_output is if_op.disambiguate_grad_if_op_output
    assert issubclass(serial.SerializedTestCase, hu.HypothesisTestCase)


@settings(max_examples=30, deadline=None)
@given(x=hu.floats(min_value=0.1, max_value=0.2))
def test_floats_are_float32_values_within_the_float32_bounds(x):
    assert float(np.float32(x)) == x
    assert np.float32(0.1) <= x <= np.float32(0.2)


@settings(max_examples=5, deadline=None)
@serial.given(x=hu.floats(min_value=-1, max_value=1))
def test_serial_given_draws(x):
    assert -1 <= x <= 1
