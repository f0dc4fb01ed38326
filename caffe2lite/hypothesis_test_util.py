"""Caffe2's ``hypothesis_test_util`` (the face of
:mod:`caffe2lite.testing.hypothesis_util`): strategies for tensors and devices, and
``HypothesisTestCase`` with ``assertReferenceChecks``, ``assertGradientChecks``,
``assertDeviceChecks``, ``assertValidationChecks`` and ``assertRunOpRaises``.
Needs the ``test`` extra (hypothesis)."""

from caffe2lite.testing.hypothesis_util import *  # noqa: F401,F403
from caffe2lite.testing.hypothesis_util import (  # noqa: F401
    _device_options_no_hip,
    HypothesisTestCase,
    arrays,
    cpu_do,
    device_options,
    dims,
    elements_of_type,
    expected_failure,
    floats,
    gcs,
    gcs_cpu_only,
    lengths_tensor,
    runOpOnInput,
    segmented_tensor,
    sparse_lengths_tensor,
    temp_workspace,
    tensor,
    tensor1d,
    tensors,
    tensors1d,
)
