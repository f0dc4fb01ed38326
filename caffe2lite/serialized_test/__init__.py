"""Caffe2's ``serialized_test`` package: ``serialized_test_util`` lets Caffe2's
operator test files that use ``serial.SerializedTestCase`` and ``serial.given`` run."""
