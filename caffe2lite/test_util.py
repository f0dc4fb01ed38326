"""Caffe2's ``test_util`` (the face of :mod:`caffe2lite.testing.test_case`):
``TestCase`` and random-data helpers."""

from caffe2lite.testing.test_case import (
    TestCase,
    caffe2_flaky,
    get_default_test_flags,
    is_flaky_test,
    numOps,
    rand_array,
    randBlobFloat32,
    randBlobsFloat32,
    str_compare,
)
