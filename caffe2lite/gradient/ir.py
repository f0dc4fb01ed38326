"""SSA bookkeeping of a forward pass and the backward pass built from it (Caffe2's
``core.IR``).

Every blob carries a version: reading a blob never seen before reads version 0, and
every write of an existing blob adds 1. The backward pass walks the forward ops from
last to first, asks the gradient registry for each op whose outputs have a gradient,
checks that every gradient op reads the versions its forward op saw, and sums the
gradients of a blob version used by several ops (``Sum``, or two ``Concat`` ops for
sparse gradients), renaming the extra gradient outputs ``_<grad>_autosplit_<k>``.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Callable, Sequence
from typing import Any

from caffe2lite.io.arguments import make_argument
from caffe2lite.errors import BlobTypeError, GradientError, GradientValueError
from caffe2lite.gradient.maker import GradientSlice, get_gradient_for_op
from caffe2lite.gradient.accumulate import (
    GetIndexFromGradientList,
    GradGenMeta,
    make_sum_ops,
    record_generators,
    verify_generators,
)
from caffe2lite.proto import caffe2_pb2

OpSSA = namedtuple("OpSSA", ["op", "in_versions", "out_versions"])


def _as_names(g: Any) -> Any:
    if g is None or type(g) is GradientSlice:
        return g if g is None else GradientSlice(str(g.indices), str(g.values))
    if isinstance(g, (tuple, list)) and len(g) == 2:
        return GradientSlice(str(g[0]), str(g[1]))
    return str(g)


def _default_create_operator(
    op_type: str, inputs: Sequence[Any], outputs: Sequence[Any], **kwargs: Any
) -> caffe2_pb2.OperatorDef:
    op = caffe2_pb2.OperatorDef(type=op_type, name="")
    op.input.extend(str(b) for b in inputs)
    op.output.extend(str(b) for b in outputs)
    op.arg.extend(make_argument(k, v) for k, v in kwargs.items() if v is not None)
    return op


class IR:
    """The SSA form of a list of forward ops, and its backward pass."""

    AUTOGEN_GRAD_SUFFIX = "_autogen_grad"
    IS_AUTO_GEN_SUM_OPS_TAG = "is_auto_gen_sum_ops"
    ONLY_KEEP_IS_AUTO_GEN_SUM_OPS_TAG = "only_keep_is_auto_gen_sum_ops_tag"

    # Set by caffe2lite.core: CreateOperator (name and device scopes) and BlobReference.
    create_operator: Callable[..., caffe2_pb2.OperatorDef] = staticmethod(
        _default_create_operator
    )
    blob_reference: Callable[[str], Any] = staticmethod(str)

    def __init__(self, operators: Sequence[caffe2_pb2.OperatorDef]) -> None:
        self.ssa: list[OpSSA] = []
        self.input_usages: defaultdict = defaultdict(lambda: defaultdict(list))
        self.frontier: defaultdict = defaultdict(int)
        self.gradient_frontier: dict[str, int] = {}
        self.gradient_generators: defaultdict = defaultdict(lambda: defaultdict(list))
        self.out_version_history: defaultdict = defaultdict(list)
        self.in_version_history: defaultdict = defaultdict(list)
        for op in operators:
            self.Play(op)
        self.SanityCheck(operators)

    def SanityCheck(self, operators: Sequence[caffe2_pb2.OperatorDef]) -> None:
        """A StopGradient whose output nobody reads is a mistake (ValueError)."""
        for op in operators:
            if op.type == "StopGradient" and op.output[0] not in self.input_usages:
                raise GradientValueError(
                    f"StopGradient's output '{op.output[0]}' is orphan.\nYou typically "
                    "want to specify same input and output for\nStopGradient. "
                    f"Op:\n\n{op}"
                )

    def Play(self, op: caffe2_pb2.OperatorDef) -> None:
        """Record ``op``: the versions it reads, and the versions it writes."""
        in_versions = {}
        for s in op.input:
            in_versions[s] = self.frontier[s]
            self.input_usages[s][self.frontier[s]].append(len(self.ssa))
            self.in_version_history[s].append((op, self.frontier[s]))
        out_versions = {}
        for s in op.output:
            if s in self.frontier:
                self.frontier[s] += 1
            out_versions[s] = self.frontier[s]
            self.out_version_history[s].append((op, self.frontier[s]))
        self.ssa.append(OpSSA(op, in_versions, out_versions))

    # -- checks ------------------------------------------------------------------
    def _history(self, name: str, out: bool) -> str:
        if out:
            lines = [
                "DEBUG HELP:",
                "Maybe you use same output blob twice for different ops?",
                f"== Version history of blob [{name}]",
            ]
            lines += [
                f"Version (out) {v} <-- {op}"
                for op, v in self.out_version_history[name]
            ]
        else:
            lines = [
                "DEBUG HELP:",
                "Maybe the blob was overwritten by another op?",
                f"== Version history of blob [{name}]",
            ]
            lines += [
                f"version (in) {v} <-- {op}" for op, v in self.in_version_history[name]
            ]
        return "\n".join(lines) + "\n"

    def CheckGradientOperatorInput(
        self,
        grad_op_input: str,
        g_output: Sequence[Any],
        fwd_op_idx: int,
        locally_generated_blobs: list[str],
    ) -> None:
        """A gradient op may read: an output gradient at the version it belongs to, a
        forward output or input at the version the forward op saw, or a blob made by
        an earlier gradient op of the same forward op."""
        forward_op, in_versions, out_versions = self.ssa[fwd_op_idx]
        index = GetIndexFromGradientList(g_output, grad_op_input)
        if index is not None:
            name = forward_op.output[index]
            if out_versions[name] != self.gradient_frontier[name]:
                raise GradientError(
                    f'Gradient name "{grad_op_input}" is expected to correspond to version '
                    f'{out_versions[name]} of "{name}", but currently we have version '
                    f"{self.gradient_frontier[name]}.\n\n" + self._history(name, True)
                )
        elif grad_op_input in out_versions:
            if self.frontier[grad_op_input] != out_versions[grad_op_input]:
                raise GradientError(
                    f'Gradient operator needs output "{grad_op_input}" at version '
                    f"{out_versions[grad_op_input]}, but currently we have version "
                    f"{self.frontier[grad_op_input]}.\n\n"
                    + self._history(grad_op_input, True)
                )
        elif grad_op_input in in_versions:
            if self.frontier[grad_op_input] != in_versions[grad_op_input]:
                raise GradientError(
                    f'Gradient operator needs input "{grad_op_input}" at version '
                    f"{in_versions[grad_op_input]}, but currently we have version "
                    f"{self.frontier[grad_op_input]}.\n\n"
                    + self._history(grad_op_input, False)
                )
        elif grad_op_input not in locally_generated_blobs:
            raise GradientError(
                f'Blob name "{grad_op_input}" not in the scope of operator: {forward_op}\nand '
                "is not generated by any of the local gradient operators."
            )

    # -- generators ----------------------------------------------------------------
    def BuildGradientGenerators(
        self, fwd_op_idx: int, gradient_ops: list, g_output: list, g_input: list
    ) -> None:
        """Check the gradient ops of one forward op and record who makes each input
        gradient (for accumulation), then move the gradient frontier."""
        forward_op, in_versions, _ = self.ssa[fwd_op_idx]
        local: list[str] = []
        for grad_op in gradient_ops:
            for s in grad_op.input:
                self.CheckGradientOperatorInput(s, g_output, fwd_op_idx, local)
            local.extend(str(s) for s in grad_op.output)
        record_generators(
            self.gradient_generators, forward_op, in_versions, gradient_ops, g_input
        )
        for index, g in enumerate(g_input):
            if g is not None:
                name = forward_op.input[index]
                self.gradient_frontier[name] = in_versions[name]

    def DoGradientAccumulation(self, fwd_op_idx: int) -> tuple[list, dict]:
        """Sum the gradients of every input version of this op that several ops read,
        once this op (the first reader) has been reached."""
        forward_op, in_versions, _ = self.ssa[fwd_op_idx]
        sum_ops: list[caffe2_pb2.OperatorDef] = []
        grad_map: dict[str, Any] = {}
        # Caffe2 iterated a set here; first-appearance order makes the result stable.
        for name in dict.fromkeys(forward_op.input):
            version = in_versions[name]
            usage = self.input_usages[name][version]
            if len(usage) <= 1 or fwd_op_idx != usage[0]:
                continue
            generators = self.gradient_generators[name][version]
            try:
                if not verify_generators(generators):
                    continue
            except GradientError as err:
                raise GradientError(
                    f"Gradients for param ''{name}'' failed to verify: {err}"
                ) from err
            ops, g = make_sum_ops(self, name, generators)
            sum_ops.extend(ops)
            grad_map[name] = g
        return sum_ops, grad_map

    # -- the backward pass -----------------------------------------------------------
    def _GetInitGradients(self, ys: dict) -> tuple[dict, list]:
        input_to_grad: dict[str, Any] = {}
        gradient_ops = []
        for y, g in ys.items():
            autograd_op = None
            if g is None:
                autograd_op = IR.create_operator(
                    "ConstantFill", [y], [str(y) + IR.AUTOGEN_GRAD_SUFFIX], value=1.0
                )
                gradient_ops.append(autograd_op)
                g = autograd_op.output[0]
            input_to_grad[str(y)] = _as_names(g)
            if autograd_op is not None:
                self.gradient_generators[str(y)][self.frontier[str(y)]].append(
                    GradGenMeta(autograd_op, 0, str(g), autograd_op.device_option)
                )
        return input_to_grad, gradient_ops

    def _GenerateGradientsForForwardOp(
        self, fwd_op_idx: int, input_to_grad: dict
    ) -> tuple:
        forward_op = self.ssa[fwd_op_idx].op
        g_output = [input_to_grad.get(name) for name in forward_op.output]
        new_input_to_grad: dict[str, Any] = {}
        gradient_ops: list = []
        if any(g is not None for g in g_output) or forward_op.type == "ZeroGradient":
            gradient_ops, g_input = get_gradient_for_op(forward_op, g_output)
            g_input = [_as_names(g) for g in g_input]
            self.BuildGradientGenerators(fwd_op_idx, gradient_ops, g_output, g_input)
            for name, grad in zip(forward_op.input, g_input):
                # Keep an existing gradient unless this op also writes the blob.
                if (
                    grad is not None
                    or name not in input_to_grad
                    or name in forward_op.output
                ):
                    new_input_to_grad[name] = grad
        return new_input_to_grad, gradient_ops

    def GetBackwardPass(self, ys: Any) -> tuple[list, dict]:
        """The gradient ops of ``ys`` (a list, or a dict ``{y: gradient or None}``;
        ``None`` means a ConstantFill of ones) and ``{blob: gradient}``."""
        if isinstance(ys, list):
            ys = {y: None for y in ys}
        elif not isinstance(ys, dict):
            raise BlobTypeError(
                "ys should either be a list or a dict.",
                expected="list or dict",
                found=type(ys).__name__,
            )
        for y in ys:
            self.gradient_frontier[str(y)] = self.frontier[str(y)]
            self.input_usages[str(y)][self.frontier[str(y)]].append(len(self.ssa))
        all_input_to_grad, all_gradient_ops = self._GetInitGradients(ys)
        for fwd_op_idx in reversed(range(len(self.ssa))):
            input_to_grad, gradient_ops = self._GenerateGradientsForForwardOp(
                fwd_op_idx, all_input_to_grad
            )
            all_input_to_grad.update(input_to_grad)
            all_gradient_ops += gradient_ops
            sum_ops, grad_map = self.DoGradientAccumulation(fwd_op_idx)
            all_input_to_grad.update(grad_map)
            all_gradient_ops += sum_ops
        ref = IR.blob_reference
        result: dict[Any, Any] = {}
        for key, val in all_input_to_grad.items():
            if val is None:
                continue
            if type(val) is GradientSlice:
                result[ref(key)] = GradientSlice(ref(val.indices), ref(val.values))
            else:
                result[ref(key)] = ref(val)
        return all_gradient_ops, result
