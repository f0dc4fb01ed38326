"""Who makes each gradient, and gradient accumulation: one ``Sum`` (dense) or two ``Concat`` ops (sparse) for a
blob version whose gradient comes from several ops, as Caffe2's ``core.IR`` built them.

The first dense generator that has a gradient op keeps its output name; every later
one is renamed in place to ``_<name>_autosplit_<k>``. Sparse parts are all renamed.
The accumulation ops get the first generator's device option plus the extra_info tag
``is_auto_gen_sum_ops:1`` (only the tag when a generator asks for
``only_keep_is_auto_gen_sum_ops_tag:1``).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from caffe2lite.errors import GradientError
from caffe2lite.gradient.maker import GradientSlice
from caffe2lite.proto import caffe2_pb2

GradGenMeta = namedtuple("GradGenMeta", ["grad_op", "idx", "gradient", "device_option"])
SparseGradGenMeta = namedtuple(
    "SparseGradGenMeta",
    [
        "grad_op_indices",
        "idx_indices",
        "grad_op_values",
        "idx_values",
        "gradient",
        "device_option",
    ],
)


def GetIndexFromGradientList(g_list: Sequence[Any], name: str) -> int | None:
    """The index of the gradient (dense, or either sparse part) named ``name``."""
    for i, g in enumerate(g_list):
        if g == name:
            return i
        if type(g) is GradientSlice and (g.indices == name or g.values == name):
            return i
    return None


def record_generators(
    generators: Any,
    forward_op: caffe2_pb2.OperatorDef,
    in_versions: dict[str, int],
    gradient_ops: Sequence[caffe2_pb2.OperatorDef],
    g_input: Sequence[Any],
) -> None:
    """Record, per input blob and version, what makes its gradient: a gradient op's
    output (the indices and values parts of a sparse gradient merged into one entry)
    or, for a pass-through gradient that no gradient op makes, the name alone (with
    the forward op's device option)."""
    local: set[str] = set()
    sparse: dict[tuple[str, int], list] = {}
    for grad_op in gradient_ops:
        local.update(str(s) for s in grad_op.output)
        for i, output in enumerate(grad_op.output):
            index = GetIndexFromGradientList(g_input, output)
            if index is None:
                continue
            name = forward_op.input[index]
            g = g_input[index]
            option = grad_op.device_option
            if type(g) is GradientSlice:
                meta = (
                    SparseGradGenMeta(grad_op, i, None, 0, g, option)
                    if g.indices == output
                    else SparseGradGenMeta(None, 0, grad_op, i, g, option)
                )
                sparse.setdefault((name, in_versions[name]), []).append(meta)
            else:
                generators[name][in_versions[name]].append(
                    GradGenMeta(grad_op, i, g, option)
                )
    for (name, version), metas in sparse.items():
        meta = metas[0]
        if len(metas) == 2:
            a, b = metas
            meta = SparseGradGenMeta(
                a.grad_op_indices or b.grad_op_indices,
                a.idx_indices + b.idx_indices,
                a.grad_op_values or b.grad_op_values,
                a.idx_values + b.idx_values,
                a.gradient,
                a.device_option,
            )
        generators[name][version].append(meta)
    for index, g in enumerate(g_input):
        if not g:
            continue
        name = forward_op.input[index]
        option = forward_op.device_option
        if type(g) is GradientSlice:
            if g.indices not in local and g.values not in local:
                generators[name][in_versions[name]].append(
                    SparseGradGenMeta(None, 0, None, 0, g, option)
                )
        elif g not in local:
            generators[name][in_versions[name]].append(GradGenMeta(None, 0, g, option))


def device_option_equal(
    opt1: Any, opt2: Any, ignore_node_name: bool = True, ignore_random_seed: bool = True
) -> bool:
    """Caffe2's ``core.device_option_equal``: same device type and, off CPU, same id."""
    if not opt1 or not opt2:
        return opt1 == opt2
    if not ignore_node_name and opt1.node_name != opt2.node_name:
        return False
    if not ignore_random_seed and opt1.random_seed != opt2.random_seed:
        return False
    if not opt1.device_type or not opt2.device_type:
        return not opt1.device_type and not opt2.device_type
    return opt1.device_id == opt2.device_id


def _is_sparse(meta: Any) -> bool:
    return hasattr(meta, "grad_op_indices")


def verify_generators(generators: Sequence[Any]) -> bool:
    """Whether these generators need an accumulation op; raise when they cannot be
    accumulated (a mix of sparse and dense, or different devices)."""
    if len({_is_sparse(g) for g in generators}) > 1:
        raise GradientError(
            "Automatic aggregation of a mix of sparse and dense gradients is not supported yet"
        )
    if len(generators) < 2:
        return False
    options = [g.device_option for g in generators if g.device_option is not None]
    if len(options) >= 2 and not all(
        device_option_equal(d, options[0]) for d in options[1:]
    ):
        raise GradientError(
            "Unexpected behavior: not all grad ops have the same device option."
        )
    return True


def _output_name(generators: Sequence[Any], input_name: str) -> str:
    for g in generators:
        if not _is_sparse(g):
            if g.grad_op:
                return g.grad_op.output[g.idx]
            continue
        if g.grad_op_indices:
            return _strip(g.grad_op_indices.output[g.idx_indices], "_indices")
        if g.grad_op_values:
            return _strip(g.grad_op_values.output[g.idx_values], "_values")
    return input_name + "_grad"


def _strip(name: str, suffix: str) -> str:
    return name.removesuffix(suffix)


def _autosplit(
    grad_op: caffe2_pb2.OperatorDef, idx: int, count: int
) -> tuple[str, int]:
    grad_op.output[idx] = f"_{grad_op.output[idx]}_autosplit_{count}"
    return grad_op.output[idx], count + 1


def _check_conflict(out_name: str, g: Any) -> None:
    if str(out_name) == str(g):
        raise GradientError(
            "The gradient output of empty gradient op can not be the same "
            "as the normal name of the current input gradient."
        )


def _dense(ir: Any, generators: Sequence[Any], out_name: str) -> tuple[list, str]:
    inputs: list[str] = []
    count, first = 0, True
    for g in generators:
        if g.grad_op:
            if first:
                first = False
                inputs.append(g.grad_op.output[g.idx])
            else:
                name, count = _autosplit(g.grad_op, g.idx, count)
                inputs.append(name)
        else:
            _check_conflict(out_name, g.gradient)
            inputs.append(str(g.gradient))
    if out_name in inputs:  # an in-place Sum must write its input 0
        k = inputs.index(out_name)
        inputs[0], inputs[k] = inputs[k], inputs[0]
    ref = type(ir).blob_reference
    op = type(ir).create_operator("Sum", [ref(x) for x in inputs], [ref(out_name)])
    return [op], out_name


def _sparse(
    ir: Any, generators: Sequence[Any], out_name: str
) -> tuple[list, GradientSlice]:
    indices: list[str] = []
    values: list[str] = []
    count_i = count_v = 0
    for g in generators:
        if g.grad_op_indices:
            name, count_i = _autosplit(g.grad_op_indices, g.idx_indices, count_i)
            indices.append(name)
        else:
            _check_conflict(out_name, g.gradient.indices)
            indices.append(g.gradient.indices)
        if g.grad_op_values:
            name, count_v = _autosplit(g.grad_op_values, g.idx_values, count_v)
            values.append(name)
        else:
            _check_conflict(out_name, g.gradient.values)
            values.append(g.gradient.values)
    ref = type(ir).blob_reference
    ops = [
        type(ir).create_operator(
            "Concat",
            [ref(x) for x in parts],
            [
                ref(out_name + f"_{kind}_concat"),
                ref(out_name + f"_{kind}_concat_split"),
            ],
            axis=0,
        )
        for kind, parts in (("indices", indices), ("values", values))
    ]
    return ops, GradientSlice(out_name + "_indices_concat", out_name + "_values_concat")


def _set_device_option(ir: Any, ops: list, generators: Sequence[Any]) -> None:
    tag = f"{ir.IS_AUTO_GEN_SUM_OPS_TAG}:1"
    keep_tag_only = f"{ir.ONLY_KEEP_IS_AUTO_GEN_SUM_OPS_TAG}:1"
    if any(keep_tag_only in g.device_option.extra_info for g in generators):
        for op in ops:
            op.device_option.extra_info.append(tag)
        return
    for op in ops:
        op.device_option.CopyFrom(generators[0].device_option)
        op.device_option.extra_info.append(tag)


def make_sum_ops(
    ir: Any, input_name: str, generators: Sequence[Any]
) -> tuple[list, Any]:
    """The accumulation ops for ``input_name`` and the name (or GradientSlice) they make."""
    out_name = _output_name(generators, input_name)
    g: Any  # a GradientSlice when sparse, else a blob name
    if _is_sparse(generators[0]):
        ops, g = _sparse(ir, generators, out_name)
    else:
        ops, g = _dense(ir, generators, out_name)
    _set_device_option(ir, ops, generators)
    return ops, g
