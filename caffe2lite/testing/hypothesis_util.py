"""Caffe2's ``hypothesis_test_util``: property-based operator tests.

Strategies that draw tensors (``tensor``, ``tensors``, ``tensor1d``, ``arrays``,
``dims``, ``elements_of_type``, segmented and lengths tensors ...), device
strategies (``gcs`` = a gradient-checker device ``gc`` and device-checker devices
``dc``; ``gcs_cpu_only``), and :class:`HypothesisTestCase` with Caffe2's checks:
``assertReferenceChecks``, ``assertGradientChecks``, ``assertDeviceChecks``,
``assertValidationChecks``, ``assertRunOpRaises``.

Importing it registers Caffe2's settings profiles (``sandcastle``, ``dev``,
``debug``) and loads ``dev`` (or ``$CAFFE2_HYPOTHESIS_PROFILE``; ``sandcastle`` on
Caffe2's CI), as Caffe2's module did. Needs the ``test`` extra (hypothesis).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import unittest
from typing import Any, Callable, Iterator, Sequence, cast

import numpy as np

try:
    import hypothesis
    import hypothesis.extra.numpy
    import hypothesis.strategies as st  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "caffe2lite.hypothesis_test_util needs hypothesis: install caffe2lite's test "
        "extra (pip install 'caffe2lite[test]')") from e

from caffe2lite.proto import caffe2_pb2
from caffe2lite.testing.device_checker import DeviceChecker
from caffe2lite.testing.gradient_checker import GradientChecker
from caffe2lite.testing.strategies import *  # noqa: F401,F403  (Caffe2's names, one module)
from caffe2lite.testing.strategies import _device_options_no_hip  # noqa: F401
from caffe2lite.testing.test_case import TestCase


def is_sandcastle() -> bool:
    return os.getenv("SANDCASTLE") == "1" or os.getenv("TW_JOB_USER") == "sandcastle"


def is_travis() -> bool:
    return "TRAVIS" in os.environ


def _register_profiles() -> None:
    # Caffe2's three profiles. They were written for a hypothesis without per-example
    # deadlines; deadline=None keeps that (a slow first example is not a failure).
    slow = [hypothesis.HealthCheck.too_slow]
    verbose = hypothesis.Verbosity.verbose
    hypothesis.settings.register_profile("sandcastle", hypothesis.settings(
        derandomize=True, suppress_health_check=slow, database=None, max_examples=100,
        verbosity=verbose, deadline=None))
    hypothesis.settings.register_profile("dev", hypothesis.settings(
        suppress_health_check=slow, database=None, max_examples=10, verbosity=verbose,
        deadline=None))
    hypothesis.settings.register_profile("debug", hypothesis.settings(
        suppress_health_check=slow, database=None, max_examples=1000, verbosity=verbose,
        deadline=None))
    hypothesis.settings.load_profile(
        "sandcastle" if is_sandcastle() else os.getenv("CAFFE2_HYPOTHESIS_PROFILE", "dev"))


_register_profiles()


@contextlib.contextmanager
def temp_workspace(name: str = "temp_ws") -> Iterator[None]:
    """Run a block in workspace ``name``, then empty it and switch back."""
    from caffe2lite import workspace

    old = workspace.CurrentWorkspace()
    workspace.SwitchWorkspace(name, True)
    try:
        yield
    finally:
        workspace.ResetWorkspace()
        workspace.SwitchWorkspace(old)


def _feed_inputs(op: caffe2_pb2.OperatorDef, inputs: Sequence[Any], option: Any,
                 input_device_options: dict | None) -> None:
    from caffe2lite import core, workspace

    options = input_device_options or core.InferOpBlobDevicesAsDict(op)[0]
    for name, value in zip(op.input, inputs):
        workspace.FeedBlob(name, value, device_option=options.get(name, option))


def runOpOnInput(device_option: Any, op: caffe2_pb2.OperatorDef, inputs: Sequence[Any],
                 input_device_options: dict | None = None) -> list:
    """The outputs of ``op`` run once on ``inputs`` (in a temporary workspace)."""
    from caffe2lite import workspace

    op = copy.deepcopy(op)
    op.device_option.CopyFrom(device_option)
    with temp_workspace():
        if len(op.input) > len(inputs):
            raise ValueError(f"must supply an input for each input on the op: "
                             f"{op.input} vs {inputs}")
        _feed_inputs(op, inputs, device_option, input_device_options)
        workspace.RunOperatorOnce(op)
        return [workspace.FetchBlob(name) for name in op.output]


def runOpBenchmark(device_option: Any, op: caffe2_pb2.OperatorDef, inputs: Sequence[Any],
                   input_device_options: dict | None = None, iterations: int = 10) -> Any:
    """``workspace.BenchmarkNet`` of a one-op net on ``inputs`` (one warm-up run,
    ``iterations`` timed runs, per-op times too), in a temporary workspace."""
    from caffe2lite import workspace

    op = copy.deepcopy(op)
    op.device_option.CopyFrom(device_option)
    net = caffe2_pb2.NetDef(name=op.name or "test")
    net.op.extend([op])
    with temp_workspace():
        _feed_inputs(op, inputs, device_option, input_device_options)
        workspace.CreateNet(net)
        return workspace.BenchmarkNet(net.name, 1, iterations, True)


def expected_failure(test: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a test expected to fail (unittest's expectedFailure)."""
    return unittest.expectedFailure(test)


class HypothesisTestCase(TestCase):
    """A TestCase with Caffe2's operator checks."""

    def assertDeviceChecks(self, device_options: Sequence[Any], op: caffe2_pb2.OperatorDef,
                           inputs: Sequence[Any], outputs_to_check: Sequence[int],
                           input_device_options: dict | None = None,
                           threshold: float = 0.01) -> None:
        """The op gives the same outputs on every device option."""
        checker = DeviceChecker(threshold, device_options=device_options)
        self.assertTrue(checker.CheckSimple(op, inputs, outputs_to_check,
                                            input_device_options))

    def assertGradientChecks(self, device_option: Any, op: caffe2_pb2.OperatorDef,
                             inputs: list[Any], outputs_to_check: int,
                             outputs_with_grads: Sequence[int], grad_ops: Any = None,
                             threshold: float = 0.005, stepsize: float = 0.05,
                             input_device_options: dict | None = None,
                             ensure_outputs_are_inferred: bool = False) -> None:
        """Numeric gradient check of input ``outputs_to_check`` (Caffe2's name for the
        input index) with the loss sum(y**2)/2 over ``outputs_with_grads``; with
        ``ensure_outputs_are_inferred`` the op's and its gradient ops' outputs must
        all get their actual shapes from shape inference."""
        checker = GradientChecker(stepsize=stepsize, threshold=threshold,
                                  device_option=device_option,
                                  workspace_name=str(device_option),
                                  input_device_options=input_device_options)
        ok, grad, estimate = checker.CheckSimple(op, inputs, outputs_to_check,
                                                 outputs_with_grads, grad_ops=grad_ops,
                                                 input_device_options=input_device_options,
                                                 ensure_outputs_are_inferred=(
                                                     ensure_outputs_are_inferred))
        self.assertEqual(np.shape(grad), np.shape(estimate))
        self.assertTrue(ok, "Gradient check failed for input " + str(op.input[outputs_to_check]))

    def _assertGradReferenceChecks(self, op: caffe2_pb2.OperatorDef, inputs: Sequence[Any],
                                   ref_outputs: Sequence[Any], output_to_grad: str,
                                   grad_reference: Callable[..., Any],
                                   threshold: float = 1e-4) -> None:
        from caffe2lite import core, workspace

        grad_blob = output_to_grad + "_grad"
        grad_ops, grad_map = core.GradientRegistry.GetBackwardPass(
            [op], {output_to_grad: grad_blob})
        output_grad = workspace.FetchBlob(output_to_grad)
        grad_ref_outputs = grad_reference(output_grad, ref_outputs, inputs)
        workspace.FeedBlob(grad_blob, workspace.FetchBlob(output_to_grad))
        workspace.RunOperatorsOnce(grad_ops)
        self.assertEqual(len(grad_ref_outputs), len(inputs))
        for name, ref in zip(op.input, grad_ref_outputs):
            grad = grad_map.get(name)
            if not grad:
                self.assertIsNone(ref)
                continue
            if isinstance(grad, core.GradientSlice):
                ref_vals, ref_indices = ref
                val_name = grad.values
            else:
                ref_vals, ref_indices, val_name = ref, None, grad
            np.testing.assert_allclose(
                workspace.FetchBlob(str(val_name)), ref_vals, atol=threshold,
                rtol=threshold,
                err_msg=f"Gradient {val_name} (x) is not matching the reference (y)")
            if ref_indices is not None:
                np.testing.assert_allclose(workspace.FetchBlob(str(grad.indices)),
                                           ref_indices, atol=1e-4, rtol=1e-4)

    def _assertInferTensorChecks(self, name: str, shapes: dict, types: dict, output: Any,
                                 ensure_output_is_inferred: bool = False) -> None:
        from caffe2lite.io.tensor import data_type_of

        self.assertTrue(not ensure_output_is_inferred or name in shapes,
                        f"Shape for {name} was not inferred")
        if name not in shapes:
            return
        try:
            np.testing.assert_array_equal(
                np.array(shapes[name]).astype(np.int32),
                np.array(np.shape(output)).astype(np.int32),
                err_msg=f"Shape {name} mismatch: {shapes[name]} vs. {np.shape(output)}")
            if isinstance(output, np.ndarray):
                np.testing.assert_equal(types[name], data_type_of(output.dtype),
                                        err_msg=f"Type {name} mismatch")
        except AssertionError as e:
            logging.warning(str(e))
            if os.getenv("CAFFE2_ASSERT_SHAPEINFERENCE") == "1":
                raise

    def assertReferenceChecks(self, device_option: Any, op: caffe2_pb2.OperatorDef,
                              inputs: Sequence[Any], reference: Callable[..., Any],
                              input_device_options: dict | None = None,
                              threshold: float = 1e-4, output_to_grad: str | None = None,
                              grad_reference: Callable[..., Any] | None = None,
                              atol: float | None = None,
                              outputs_to_check: Sequence[int] | None = None,
                              ensure_outputs_are_inferred: bool = False) -> list:
        """The op's outputs match ``reference(*inputs)`` within ``threshold``; the
        inferred shapes and types are checked too (warnings unless
        CAFFE2_ASSERT_SHAPEINFERENCE=1)."""
        from caffe2lite import core, workspace

        op = copy.deepcopy(op)
        op.device_option.CopyFrom(device_option)
        with temp_workspace():
            if len(op.input) > len(inputs):
                raise ValueError(f"must supply an input for each input on the op: "
                                 f"{op.input} vs {inputs}")
            _feed_inputs(op, inputs, device_option, input_device_options)
            net = core.Net("opnet")
            net.Proto().op.extend([op])
            shapes = types = None
            try:
                shapes, types = workspace.InferShapesAndTypes([net])
            except RuntimeError as e:
                logging.warning(str(e))
                if os.getenv("CAFFE2_ASSERT_SHAPEINFERENCE") == "1":
                    raise
            workspace.RunNetOnce(net)
            reference_outputs = reference(*inputs)
            if not isinstance(reference_outputs, (tuple, list)):
                raise RuntimeError(
                    "You are providing a wrong reference implementation. A proper one "
                    "should return a tuple/list of numpy arrays.")
            if not outputs_to_check:
                self.assertEqual(len(reference_outputs), len(op.output))
                outputs_to_check = list(range(len(op.output)))
            outs = []
            for index, ref in zip(outputs_to_check, reference_outputs):
                name = op.output[index]
                output = workspace.FetchBlob(name)
                if np.asarray(output).dtype.kind in ("S", "O"):
                    np.testing.assert_array_equal(output, ref)
                else:
                    np.testing.assert_allclose(
                        output, ref, atol=threshold if atol is None else atol,
                        rtol=threshold,
                        err_msg=f"Output {name} is not matching the reference")
                if shapes is not None:
                    self._assertInferTensorChecks(
                        name, shapes, cast(dict, types), output,
                        ensure_output_is_inferred=ensure_outputs_are_inferred)
                outs.append(output)
            if grad_reference is not None:
                assert output_to_grad is not None, \
                    "If grad_reference is set, output_to_grad has to be set as well"
                with core.DeviceScope(device_option):
                    self._assertGradReferenceChecks(op, inputs, reference_outputs,
                                                    output_to_grad, grad_reference,
                                                    threshold=threshold)
            return outs

    def assertValidationChecks(self, device_option: Any, op: caffe2_pb2.OperatorDef,
                               inputs: Sequence[Any], validator: Callable[..., Any],
                               input_device_options: dict | None = None,
                               as_kwargs: bool = True, init_net: Any = None) -> None:
        """Run the op and hand inputs and outputs to ``validator`` (by blob name with
        ``as_kwargs``, else as ``inputs=`` / ``outputs=``)."""
        from caffe2lite import workspace

        if as_kwargs:
            assert len(set(list(op.input) + list(op.output))) == \
                len(op.input) + len(op.output), \
                "in-place ops are not supported in as_kwargs mode"
        op = copy.deepcopy(op)
        op.device_option.CopyFrom(device_option)
        with temp_workspace():
            _feed_inputs(op, inputs, device_option, input_device_options)
            if init_net:
                workspace.RunNetOnce(init_net)
            workspace.RunOperatorOnce(op)
            outputs = [workspace.FetchBlob(n) for n in op.output]
            if as_kwargs:
                validator(**dict(zip(list(op.input) + list(op.output),
                                     list(inputs) + outputs)))
            else:
                validator(inputs=inputs, outputs=outputs)

    def assertRunOpRaises(self, device_option: Any, op: caffe2_pb2.OperatorDef,
                          inputs: Sequence[Any], input_device_options: dict | None = None,
                          exception: Any = (Exception,), regexp: str | None = None) -> None:
        """Running the op on ``inputs`` raises ``exception`` (matching ``regexp``)."""
        from caffe2lite import workspace

        op = copy.deepcopy(op)
        op.device_option.CopyFrom(device_option)
        with temp_workspace():
            _feed_inputs(op, inputs, device_option, input_device_options)
            if regexp is None:
                self.assertRaises(exception, workspace.RunOperatorOnce, op)
            else:
                self.assertRaisesRegex(exception, regexp, workspace.RunOperatorOnce, op)
