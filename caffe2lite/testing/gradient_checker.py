"""Caffe2's numeric gradient checkers, with Caffe2's algorithm.

:class:`GradientChecker` checks one op: the loss is ``sum(y**2) / 2`` over the chosen
outputs (so each output's gradient, fed as ``<y>_grad``, is ``y`` itself); the
gradient ops come from the gradient registry; each element of the checked input is
moved by ``+-stepsize`` in place and the central difference of the loss is compared
with the analytic gradient by ``numpy.isclose(atol=threshold, rtol=threshold)``.

:class:`NetGradientChecker` compares the gradients of whole nets, with each other
(``CompareNets``) or with central differences of the sum of their outputs (``Check``).

These work through the current workspace (the op checker switches to a workspace of
its own and back), as Caffe2's did. For checks in the style of this project see
:func:`caffe2lite.testing.check_gradient`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from caffe2lite.proto import caffe2_pb2


def getGradientForOp(op: caffe2_pb2.OperatorDef) -> tuple[list, list]:
    """The gradient ops of ``op`` with its outputs' gradients named ``<output>_grad``."""
    from caffe2lite import core

    return core.GradientRegistry.GetGradientForOp(op, [s + "_grad" for s in op.output])


def _dense(grad: Any, like: np.ndarray) -> np.ndarray:
    """A gradient blob as a dense array of the input's shape (a GradientSlice is
    scatter-added into zeros)."""
    from caffe2lite import core, workspace

    if isinstance(grad, core.GradientSlice):
        indices = np.asarray(workspace.FetchBlob(str(grad.indices))).reshape(-1)
        values = np.asarray(workspace.FetchBlob(str(grad.values)))
        dense = np.zeros(like.shape, dtype=np.float32)
        np.add.at(dense, indices.astype(np.int64),
                  values.reshape((indices.size,) + like.shape[1:]))
        return dense
    return workspace.FetchBlob(str(grad))


class GradientChecker:
    """Caffe2's ``gradient_checker.GradientChecker``."""

    def __init__(self, stepsize: float, threshold: float, device_option: Any = None,
                 workspace_name: str = "gradient_check",
                 input_device_options: dict | None = None) -> None:
        self._stepsize = stepsize
        self._threshold = threshold
        self._device_option = device_option or caffe2_pb2.DeviceOption()
        self._workspace_name = workspace_name
        self._input_device_options = input_device_options or {}

    def GetLossAndGrad(self, op: caffe2_pb2.OperatorDef, grad_ops: Sequence[Any],
                       inputs: Sequence[np.ndarray], input_names: Sequence[str],
                       input_to_check: int, grad_name: Any,
                       outputs_with_grads: Sequence[int]) -> tuple[float, np.ndarray]:
        """Run the op and its gradient ops on ``inputs``: ``(loss, gradient of the
        checked input)``."""
        from caffe2lite import workspace

        for name, value in zip(input_names, inputs):
            workspace.FeedBlob(name, value,
                               self._input_device_options.get(name, self._device_option))
        workspace.RunOperatorOnce(op)
        loss = 0.0
        for index in outputs_with_grads:
            name = op.output[index]
            y = workspace.FetchBlob(name)
            loss += float((y.astype(np.float64) ** 2).sum())
            workspace.FeedBlob(name + "_grad", y, self._device_option)
        loss /= 2.0
        workspace.RunOperatorsOnce(list(grad_ops))
        return loss, _dense(grad_name, np.asarray(inputs[input_to_check]))

    def _assert_outputs_inferred(self, op: caffe2_pb2.OperatorDef, grad_ops: Sequence[Any],
                                 inputs: Sequence[np.ndarray],
                                 outputs_with_grads: Sequence[int]) -> None:
        """Shape inference over ``op`` and ``grad_ops`` (with the workspace's blobs
        after a run) gives every output the shape it has in the workspace."""
        from caffe2lite import core, workspace

        net = core.Net("gradient_check_inference")
        net.Proto().op.extend([op] + list(grad_ops))
        known = [str(n) for n in op.input] + [op.output[i] + "_grad" for i in outputs_with_grads]
        net.Proto().external_input.extend(known)
        shapes, _ = workspace.InferShapesAndTypes(
            [net], {n: list(np.shape(workspace.FetchBlob(n))) for n in known})
        for each in [op] + list(grad_ops):
            for name in each.output:
                if name not in shapes:
                    raise AssertionError(f"Shape for {name} was not inferred")
                actual = list(np.shape(workspace.FetchBlob(name)))
                if list(shapes[name]) != actual:
                    raise AssertionError(f"Shape {name} mismatch: inferred {list(shapes[name])}"
                                         f" vs. {actual}")

    def CheckSimple(self, op: caffe2_pb2.OperatorDef, inputs: list[np.ndarray],
                    input_to_check: int, outputs_with_grads: Sequence[int],
                    grad_ops: Sequence[Any] | None = None,
                    input_device_options: dict | None = None,
                    ensure_outputs_are_inferred: bool = False
                    ) -> tuple[bool, np.ndarray, np.ndarray]:
        """``(passed, analytic gradient, estimated gradient)`` for input
        ``input_to_check`` of ``op``. ``inputs`` are moved and restored in place.

        With ``ensure_outputs_are_inferred`` every output of the op and of its
        gradient ops must get a shape from shape inference, equal to the one it has
        after running (an ``AssertionError`` names the first that does not)."""
        from caffe2lite import workspace

        old_ws = workspace.CurrentWorkspace()
        if self._workspace_name != old_ws:
            workspace.SwitchWorkspace(self._workspace_name, True)
        try:
            op.device_option.CopyFrom(self._device_option)
            g_input = None
            if grad_ops is None:
                grad_ops, g_input = getGradientForOp(op)
            else:
                _, g_input = getGradientForOp(op)
            if input_device_options:
                self._input_device_options = input_device_options
            grad_name = g_input[input_to_check]
            if grad_name is None:
                raise AssertionError(f"{op.type}: input {input_to_check} "
                                     f"('{op.input[input_to_check]}') gets no gradient")
            loss, grad = self.GetLossAndGrad(op, grad_ops, inputs, op.input,
                                             input_to_check, grad_name, outputs_with_grads)
            if ensure_outputs_are_inferred:
                self._assert_outputs_inferred(op, grad_ops, inputs, outputs_with_grads)
            x = inputs[input_to_check]
            estimate = np.zeros_like(x)
            if estimate.shape != np.shape(grad):
                raise AssertionError(f"Mismatched gradient shapes: estimated "
                                     f"({estimate.shape}), grad ({np.shape(grad)})")
            for i in range(x.size):
                x.flat[i] += self._stepsize
                pos, _ = self.GetLossAndGrad(op, grad_ops, inputs, op.input, input_to_check,
                                             grad_name, outputs_with_grads)
                x.flat[i] -= self._stepsize * 2
                neg, _ = self.GetLossAndGrad(op, grad_ops, inputs, op.input, input_to_check,
                                             grad_name, outputs_with_grads)
                x.flat[i] += self._stepsize
                estimate.flat[i] = (pos - neg) / self._stepsize / 2
            bad = ~np.isclose(grad, estimate, atol=self._threshold, rtol=self._threshold)
            if np.any(bad):
                idx = np.flatnonzero(bad)
                print("Failed. [idx, grad, grad_estimate] are:")
                print(np.vstack([idx, np.asarray(grad).flat[idx], estimate.flat[idx]]).T)
            return (not np.any(bad)), grad, estimate
        finally:
            if self._workspace_name != old_ws:
                workspace.ResetWorkspace()
                workspace.SwitchWorkspace(old_ws)


def _net_gradients(net: Any, outputs: Sequence[Any], outputs_with_grad: Sequence[Any],
                   input_values: dict | None, inputs_with_grads: Sequence[Any]) -> tuple:
    """Run ``net`` plus its backward pass: ``([(output, value)], {input: grad}, net)``."""
    from caffe2lite import workspace

    grad_net = net.Clone(net.Name() + "_copy")
    grad_map = grad_net.AddGradientOperators(list(outputs_with_grad))
    for name, value in (input_values or {}).items():
        workspace.FeedBlob(name, value)
    for blob in inputs_with_grads:
        if blob not in grad_map:
            raise AssertionError(f"{blob} has no gradient, cannot check net gradient.")
        if not workspace.HasBlob(str(blob)):
            raise AssertionError(f"{blob} is not in the workspace")
    workspace.RunNetOnce(grad_net)
    results = [(o, workspace.FetchBlob(str(o))) for o in outputs]
    grads = {b: _dense(grad_map[b], workspace.FetchBlob(str(b))) for b in inputs_with_grads}
    return results, grads, grad_net


def _assert_close(a: Any, b: Any, threshold: float, err_msg: str = "") -> tuple[float, float]:
    np.testing.assert_allclose(a, b, atol=threshold, rtol=threshold, err_msg=err_msg)
    delta = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).ravel()
    return (float(np.mean(delta)), float(np.max(delta))) if delta.size else (0.0, 0.0)


class NetGradientChecker:
    """Caffe2's ``gradient_checker.NetGradientChecker``."""

    @staticmethod
    def CompareNets(nets: Sequence[Any], outputs: Sequence[Sequence[Any]],
                    outputs_with_grad_ids: Sequence[int], inputs_with_grads: Sequence[Any],
                    input_values: dict | None = None, threshold: float = 0.0000001,
                    print_net_images: bool = False) -> None:
        """Nets that should compute the same thing: their outputs and the gradients of
        ``inputs_with_grads`` must agree within ``threshold``."""
        results = [
            _net_gradients(net, outs, [outs[i] for i in outputs_with_grad_ids],
                           input_values, inputs_with_grads)
            for net, outs in zip(nets, outputs)
        ]
        first_results, first_grads, _ = results[0]
        for net_results, net_grads, _ in results[1:]:
            assert len(net_results) == len(first_results)
            for idx, ((b1, v1), (b2, v2)) in enumerate(zip(first_results, net_results)):
                _assert_close(v1, v2, threshold,
                              err_msg=f"Different forward pass results for output id {idx}. "
                              f"Corresponding output blobs: {b1} and {b2}")
            assert net_grads.keys() == first_grads.keys()
            for blob, value in net_grads.items():
                _assert_close(first_grads[blob], value, threshold,
                              err_msg=f"Different gradients for input {blob}")

    @staticmethod
    def Check(net: Any, outputs_with_grad: Sequence[Any], input_values: dict,
              input_to_check: Any, step_size: float = 0.0001, threshold: float = 0.05,
              print_net: bool = True) -> tuple[float, float]:
        """The gradient of the sum of ``outputs_with_grad`` with respect to
        ``input_to_check`` against central differences; ``(mean, max)`` deviation."""
        from caffe2lite import workspace

        _, grads, full_net = _net_gradients(net, [], outputs_with_grad, input_values,
                                            [input_to_check])
        analytic = grads[input_to_check]

        def loss(value: np.ndarray) -> float:
            workspace.FeedBlob(str(input_to_check), value)
            workspace.RunNetOnce(full_net)
            return float(sum(np.sum(workspace.FetchBlob(str(o))) for o in outputs_with_grad))

        base = input_values[input_to_check]
        estimate = np.zeros_like(base)
        for i in range(base.size):
            up, down = base.copy(), base.copy()
            up.flat[i] += step_size
            down.flat[i] -= step_size
            estimate.flat[i] = (loss(up) - loss(down)) / step_size / 2
        err = f"Error in gradient check for net_copy {net.Name()}"
        if print_net:
            err += f": {net.Proto()}"
        return _assert_close(analytic, estimate, threshold, err)
