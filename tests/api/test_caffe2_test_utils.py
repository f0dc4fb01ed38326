"""Caffe2's test utilities (hypothesis_test_util, gradient_checker, test_util) and
utils, as Caffe2's own operator tests use them."""

from __future__ import annotations

import unittest

import hypothesis.strategies as st
import numpy as np
import pytest
from google.protobuf.message import DecodeError
from hypothesis import given, settings

import caffe2lite.hypothesis_test_util as hu
from caffe2lite import core, gradient_checker, test_util, utils, workspace
from caffe2lite.proto import caffe2_pb2


class TestHypothesisChecks(hu.HypothesisTestCase):
    @given(X=hu.tensor(), **hu.gcs)
    @settings(max_examples=5)
    def test_relu_reference_gradient_and_devices(self, X, gc, dc):
        X = np.where(X >= 0, X + 0.1, X - 0.1).astype(np.float32)  # away from the kink
        op = core.CreateOperator("Relu", ["X"], ["Y"])
        self.assertReferenceChecks(gc, op, [X], lambda x: (np.maximum(x, 0),),
                                   ensure_outputs_are_inferred=True)
        self.assertGradientChecks(gc, op, [X], 0, [0])
        self.assertDeviceChecks(dc, op, [X], [0])

    def test_gradient_check_ensure_outputs_are_inferred(self):
        x = np.array([[-1.0, 2.0, 3.0]], np.float32)
        relu = core.CreateOperator("Relu", ["X"], ["Y"])
        self.assertGradientChecks(hu.cpu_do, relu, [x], 0, [0],
                                  ensure_outputs_are_inferred=True)

        def double(inputs, outputs):
            outputs[0].reshape(inputs[0].shape)
            outputs[0].data[...] = inputs[0].data * 2

        def double_grad(inputs, outputs):
            outputs[0].reshape(inputs[0].shape)
            outputs[0].data[...] = inputs[2].data * 2

        python_op = core.CreatePythonOperator(double, ["X"], ["Y"], grad_f=double_grad)
        self.assertGradientChecks(hu.cpu_do, python_op, [x], 0, [0])  # numerically right
        with self.assertRaisesRegex(AssertionError, "^Shape for Y was not inferred$"):
            self.assertGradientChecks(hu.cpu_do, python_op, [x], 0, [0],
                                      ensure_outputs_are_inferred=True)

    def test_validation_and_run_op_raises(self):
        op = core.CreateOperator("Relu", ["X"], ["Y"])
        x = np.array([-1.0, 2.0], np.float32)
        seen = {}
        self.assertValidationChecks(hu.cpu_do, op, [x],
                                    lambda X, Y: seen.update(y=Y.tolist()))
        assert seen["y"] == [0.0, 2.0]
        self.assertValidationChecks(hu.cpu_do, op, [x],
                                    lambda inputs, outputs: seen.update(n=len(outputs)),
                                    as_kwargs=False)
        assert seen["n"] == 1
        bad = core.CreateOperator("SparseDropoutWithReplacement", ["X", "L"], ["Y", "LO"])
        self.assertRunOpRaises(hu.cpu_do, bad, [np.zeros(3, np.int64), np.ones(2, np.int32)],
                               exception=RuntimeError, regexp="Inconsistent input data")

    def test_reference_mismatch_fails(self):
        op = core.CreateOperator("Relu", ["X"], ["Y"])
        with self.assertRaises(AssertionError):
            self.assertReferenceChecks(hu.cpu_do, op, [np.ones(2, np.float32)],
                                       lambda x: (x * 3,))

    def test_grad_reference(self):
        op = core.CreateOperator("Relu", ["X"], ["Y"])
        x = np.array([-1.0, 2.0], np.float32)

        def grad_ref(g_out, outputs, inputs):
            return ((g_out * (outputs[0] > 0)).astype(np.float32),)

        self.assertReferenceChecks(hu.cpu_do, op, [x], lambda x: (np.maximum(x, 0),),
                                   output_to_grad="Y", grad_reference=grad_ref)

    def test_workspaces_are_left_as_they_were(self):
        assert workspace.CurrentWorkspace() == "default"
        assert workspace.Blobs() == []


@given(data=st.data())
@settings(max_examples=10)
def test_strategies_draw_what_they_say(data):
    x = data.draw(hu.tensor(min_dim=2, max_dim=3, dtype=np.int32))
    assert 2 <= x.ndim <= 3 and x.dtype == np.int32 and (x >= 0).all()
    assert data.draw(hu.tensor1d(min_len=3, max_len=4)).shape[0] in (3, 4)
    a, b = data.draw(hu.tensors(n=2))
    assert a.shape == b.shape and a.dtype == np.float32
    values, lengths = data.draw(hu.lengths_tensor())
    assert lengths.dtype == np.int32 and lengths.sum() == values.shape[0]
    values, ids = data.draw(hu.segmented_tensor(is_sorted=True))
    assert ids[0] == 0 and (np.diff(ids) >= 0).all() and len(ids) == values.shape[0]
    data_, indices, lengths = data.draw(hu.sparse_lengths_tensor())
    assert lengths.sum() == indices.shape[0] and indices.max() < data_.shape[0]
    b = data.draw(hu.arrays([3], dtype=np.bool_))
    assert b.dtype == np.bool_
    assert -1.0 <= data.draw(hu.elements_of_type(np.float64)) <= 1.0
    assert data.draw(hu.gcs["gc"]) == hu.cpu_do and data.draw(hu.gcs_cpu_only["dc"]) == [hu.cpu_do]


def test_elements_of_an_unknown_type_are_refused():
    with pytest.raises(ValueError, match="Unexpected dtype without elements provided"):
        hu.elements_of_type(np.complex64)


def test_run_op_benchmark():
    op = core.CreateOperator("Relu", ["X"], ["Y"])
    timings = hu.runOpBenchmark(hu.cpu_do, op, [np.ones(4, np.float32)], iterations=2)
    assert len(timings) >= 1 and all(t >= 0 for t in timings)
    assert workspace.CurrentWorkspace() == "default"


def test_run_op_on_input():
    op = core.CreateOperator("Relu", ["X"], ["Y"])
    (y,) = hu.runOpOnInput(hu.cpu_do, op, [np.array([-1.0, 3.0], np.float32)])
    assert y.tolist() == [0.0, 3.0]


def test_gradient_checker_uses_caffe2s_loss():
    op = core.CreateOperator("Relu", ["X"], ["Y"])
    x = np.array([[-0.5, 0.3], [0.8, -0.2]], np.float32)
    checker = gradient_checker.GradientChecker(stepsize=0.01, threshold=0.01)
    ok, grad, estimate = checker.CheckSimple(op, [x], 0, [0])
    assert ok
    # loss = sum(relu(x)**2)/2, so the gradient is relu(x)
    np.testing.assert_allclose(grad, np.maximum(x, 0), atol=1e-6)
    np.testing.assert_allclose(estimate, np.maximum(x, 0), atol=1e-2)
    np.testing.assert_allclose(x, [[-0.5, 0.3], [0.8, -0.2]], atol=1e-6)  # put back


def test_gradient_checker_reports_a_wrong_gradient():
    def f(inputs, outputs):
        outputs[0].feed(inputs[0].data * 2)

    def wrong(inputs, outputs):
        outputs[0].feed(inputs[2].data * 3)

    op = core.CreatePythonOperator(f, ["X"], ["Y"], grad_f=wrong)
    checker = gradient_checker.GradientChecker(stepsize=0.01, threshold=0.01)
    ok, grad, estimate = checker.CheckSimple(op, [np.array([1.0, 2.0], np.float32)], 0, [0])
    assert not ok
    np.testing.assert_allclose(estimate, [4.0, 8.0], rtol=1e-3)  # d/dx (2x)^2/2 = 4x
    np.testing.assert_allclose(grad, [6.0, 12.0])


def test_net_gradient_checker():
    net = core.Net("net_grad")
    net.Relu("x", "y")
    x = np.array([0.5, -0.7, 1.2], np.float32)
    mean, worst = gradient_checker.NetGradientChecker.Check(
        net, ["y"], {"x": x}, "x", step_size=0.01, threshold=0.01, print_net=False)
    assert worst < 0.01
    other = core.Net("net_grad_2")
    other.Relu("x", "y")
    gradient_checker.NetGradientChecker.CompareNets(
        [net, other], [["y"], ["y"]], [0], ["x"], input_values={"x": x})
    workspace.ResetWorkspace()


class TestTestUtil(test_util.TestCase):
    def test_setup_gives_a_fresh_workspace(self):
        assert workspace.Blobs() == []
        assert isinstance(self.ws, workspace.C.Workspace)
        assert test_util.rand_array(2, 3).shape == (2, 3)
        assert test_util.rand_array().shape == ()
        assert self.make_tempdir().is_dir()
        self.assertApproximatelyEqual([1.0, 2.0], [1.0, 2.0 + 1e-9])
        workspace.FeedBlob("left_over", np.ones(1))

    @test_util.caffe2_flaky
    def test_flaky_is_skipped(self):
        raise AssertionError("a flaky test runs only with CAFFE2_RUN_FLAKY_TESTS=1")


def test_expected_failure_marks_a_test():
    class Case(unittest.TestCase):
        @hu.expected_failure
        def test_fails(self):
            raise AssertionError("expected")

    result = unittest.TestResult()
    Case("test_fails").run(result)
    assert len(result.expectedFailures) == 1


def test_utils_arguments_and_tensors():
    args = [utils.MakeArgument("i", 3), utils.MakeArgument("f", 4.0),
            utils.MakeArgument("s", "foo"), utils.MakeArgument("ints", np.array([3, 4])),
            utils.MakeArgument("strs", np.array(["a", "b"]))]
    assert utils.ArgsToDict(args) == {"i": 3, "f": 4.0, "s": b"foo", "ints": [3, 4],
                                      "strs": [b"a", b"b"]}
    assert utils.ArgsToDict([caffe2_pb2.Argument(name="empty")]) == {"empty": None}
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    tensor = utils.NumpyArrayToCaffe2Tensor(arr, "t")
    assert tensor.name == "t" and list(tensor.dims) == [2, 3]
    np.testing.assert_array_equal(utils.Caffe2TensorToNumpyArray(tensor), arr)


def test_utils_proto_reading():
    net = caffe2_pb2.NetDef(name="n")
    text = "name: 'n'"
    assert utils.TryReadProtoWithClass(caffe2_pb2.NetDef, text) == net
    assert utils.TryReadProtoWithClass(caffe2_pb2.NetDef, net.SerializeToString()) == net
    funcs = {caffe2_pb2.NetDef: lambda m: ("net", m.name)}
    assert utils.GetContentFromProto(net, funcs) == ("net", "n")
    assert utils.GetContentFromProto(caffe2_pb2.PlanDef(), funcs) is None
    assert utils.GetContentFromProtoString(text, funcs) == ("net", "n")
    with pytest.raises(DecodeError, match="Cannot find a fit protobuffer class"):
        utils.GetContentFromProtoString(b"\xff\xff\xff", {caffe2_pb2.NetDef: lambda m: m})


def test_utils_reset_blobs_and_mutex_iter():
    workspace.ResetWorkspace()
    workspace.FeedBlob("a", np.ones(2))
    utils.ResetBlobs(["a"])
    assert workspace.HasBlob("a")
    with pytest.raises(RuntimeError, match="created but never fed"):
        workspace.FetchBlob("a")
    init_net, net = core.Net("mutex_init"), core.Net("mutex_train")
    iteration = utils.BuildUniqueMutexIter(init_net, net)
    assert str(iteration) == utils.OPTIMIZER_ITERATION_NAME
    assert [op.type for op in init_net.Proto().op] == ["ConstantFill", "CreateMutex"]
    assert all(op.device_option.extra_info[0] == "device_type_override:cpu"
               for op in list(init_net.Proto().op) + list(net.Proto().op))
    assert str(utils.BuildUniqueMutexIter(init_net, net)) == str(iteration)
    assert len(init_net.Proto().op) == 2
    workspace.ResetWorkspace()


def test_missing_hypothesis_names_the_test_extra(monkeypatch):
    import importlib
    import sys

    for name in ("hypothesis", "hypothesis.extra.numpy", "hypothesis.strategies"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "caffe2lite.testing.hypothesis_util")
    with pytest.raises(ImportError, match=r"pip install 'caffe2lite\[test\]'"):
        importlib.import_module("caffe2lite.testing.hypothesis_util")
    import caffe2lite  # noqa: F401  (the package itself never needs hypothesis)
