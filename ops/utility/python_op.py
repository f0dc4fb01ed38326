"""Python and PythonGradient: Python functions as operators (Caffe2 python_op).

``core.Net.Python(f)`` and ``core.CreatePythonOperator(f, ...)`` register ``f`` in
:data:`PYTHON_FUNCTIONS`, a table that lives in this process only, and build a
``Python`` op whose ``token`` argument names the entry. The op looks its function up
when it is created; a NetDef read from a file that names a token no one registered
in this process is refused then. No code ever travels in a file (Caffe2's pickled
builders are not supported).

The function is called as Caffe2 called it: ``f(inputs, outputs)`` (plus the
workspace with ``pass_workspace``). Each element of ``inputs`` has ``.data`` (the
array, read-only) and ``.shape``; each of ``outputs`` has ``.data`` (writable),
``.shape``, ``.reshape(dims)`` and ``.feed(array)``. An output starts as a copy of
the blob's current tensor (an empty float tensor when it has none), and what the
function leaves in it becomes the blob once the function returns.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import REQUIRED, Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape, unknown_outputs


@dataclass
class PythonFunction:
    """One registered function: forward, gradient, and how to call them.

    ``f`` / ``grad_f`` are callables or builder tuples ``(make, args, kwargs)``;
    ``shape`` optionally states the outputs' shapes (a shape function over
    TensorShapes), ``grad_shape`` the gradient's."""

    f: Any
    grad_f: Any = None
    pass_workspace: bool = False
    func_type: Any = None
    shape: Callable[..., Any] | None = None
    grad_shape: Callable[..., Any] | None = None


PYTHON_FUNCTIONS: dict[str, PythonFunction] = {}
_counter = itertools.count()


def register_python_function(f: Any, grad_f: Any = None, python_func_type: Any = None,
                             pass_workspace: bool = False, *, token: str | None = None,
                             shape: Callable[..., Any] | None = None,
                             grad_shape: Callable[..., Any] | None = None) -> str:
    """Keep ``f`` (and ``grad_f``) in this process's table; returns its token."""
    for fn in (f, grad_f):
        if fn is not None and not callable(fn) and not _is_builder(fn):
            raise ArgumentError("a Python op function must be callable or a builder "
                                "tuple (make, args, kwargs)", found=type(fn).__name__)
    if token is None:
        token = f"python_op_{next(_counter)}"
    PYTHON_FUNCTIONS[token] = PythonFunction(f, grad_f, bool(pass_workspace),
                                             python_func_type, shape, grad_shape)
    return token


def _is_builder(fn: Any) -> bool:
    return isinstance(fn, tuple) and len(fn) == 3 and callable(fn[0])


def _build(fn: Any) -> Callable[..., Any]:
    if _is_builder(fn):
        make, args, kwargs = fn
        return make(*args, **kwargs)
    return fn


class PythonTensor:
    """What the function sees for one blob (Caffe2's ``TensorCPU`` of a Python op)."""

    def __init__(self, data: Any) -> None:
        self.data = data

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(np.shape(self.data))

    @property
    def _shape(self) -> tuple[int, ...]:
        return self.shape

    def reshape(self, dims: Any) -> None:
        """Resize as Caffe2's Tensor::Resize: the data stay when the size is the same."""
        dims = tuple(int(d) for d in dims)
        current = self.data if isinstance(self.data, np.ndarray) else np.empty(0, np.float32)
        if current.size == int(np.prod(dims, dtype=np.int64)):
            self.data = current.reshape(dims)
        else:
            self.data = np.zeros(dims, dtype=current.dtype)

    def feed(self, value: Any) -> bool:
        self.data = np.array(value, copy=True)
        return True

    def fetch(self) -> Any:
        return np.array(self.data, copy=True)


def _registered(token: str) -> bool:
    return token in PYTHON_FUNCTIONS


_TOKEN_MESSAGE = ("No Python function is registered in this process under this token: "
                  "Python ops run only in the process that built them (files never carry "
                  "code)")


def _inputs_for(values: tuple) -> list[PythonTensor]:
    wrapped = []
    for value in values:
        if isinstance(value, np.ndarray):
            value = value.view()
            value.flags.writeable = False
        wrapped.append(PythonTensor(value))
    return wrapped


def _output_start(outputs: Any, i: int) -> Any:
    blobs = getattr(outputs, "blobs", None)
    previous = None if blobs is None else blobs.get(outputs.names[i])
    if isinstance(previous, np.ndarray):
        return previous.copy()
    return np.empty(0, np.float32)


def _call(which: str, token: str, inputs: tuple, n_out: int, state: dict,
          outputs: Any) -> tuple:
    entry = PYTHON_FUNCTIONS.get(token)
    if entry is None:
        raise EnforceError(_TOKEN_MESSAGE, arg="token", found=repr(token))
    if which not in state:  # built once per op instance, as Caffe2 built it
        fn = entry.f if which == "f" else entry.grad_f
        if fn is None:
            raise EnforceError("This Python op was registered without a gradient function",
                               arg="token", expected="grad_f", found="none")
        state[which] = _build(fn)
    outs = [PythonTensor(_output_start(outputs, i)) for i in range(n_out)]
    args: list[Any] = [_inputs_for(inputs), outs]
    if entry.pass_workspace:
        args.append(_workspace_view(outputs))
    try:
        state[which](*args)
    except Exception as e:
        raise EnforceError("Exception encountered running PythonOp function: "
                           f"{type(e).__name__}: {e}") from e
    result = []
    for i, out in enumerate(outs):
        if not isinstance(out.data, np.ndarray):
            raise EnforceError("a Python op output must hold a tensor", blob=f"output {i}",
                               expected="numpy.ndarray", found=type(out.data).__name__)
        result.append(np.ascontiguousarray(out.data))
    return tuple(result)


def _workspace_view(outputs: Any) -> Any:
    """The running workspace, for ``pass_workspace`` functions (a fresh, empty one
    when the kernel runs outside a workspace)."""
    from caffe2lite.runtime.workspace import Workspace

    ws = Workspace()
    blobs = getattr(outputs, "blobs", None)
    if blobs is not None:
        ws._blobs = blobs
    return ws


def _shape(which: str):
    def shape(*inputs: TensorShape, token: str, num_outputs: int = 1) -> tuple:
        entry = PYTHON_FUNCTIONS.get(token)
        fn = None if entry is None else (entry.shape if which == "f" else entry.grad_shape)
        if fn is None:
            return unknown_outputs(*inputs, num_outputs=num_outputs)
        return tuple(fn(*inputs))

    shape.__name__ = f"python_{which}_shape"
    return shape


# The worked example: a function registered by this module itself.
_EXAMPLE_TOKEN = "caffe2lite.python_op.example_double"


def _example_double(inputs: list, outputs: list) -> None:
    outputs[0].reshape(inputs[0].shape)
    outputs[0].data[...] = inputs[0].data * 2


def _example_double_grad(inputs: list, outputs: list) -> None:
    # [X, Y, dY] -> [dX]
    outputs[0].reshape(inputs[2].shape)
    outputs[0].data[...] = inputs[2].data * 2


register_python_function(
    _example_double, _example_double_grad, token=_EXAMPLE_TOKEN,
    shape=lambda x: (x,), grad_shape=lambda x, y, dy: (dy,))

_ARGS = [
    Arg("token", str, REQUIRED, check=_registered, check_message=_TOKEN_MESSAGE,
        expected="the token of a function registered in this process"),
    Arg("grad_output_indices", "ints", []),
    Arg("grad_input_indices", "ints", []),
]


@register_cpu_operator(
    "Python",
    inputs=["inputs"],
    outputs=["outputs"],
    args=_ARGS,
    num_inputs=(0, None),
    num_outputs=(0, None),
    allow_inplace=True,
    shape=_shape("f"),
    example=Example({"X": np.array([1.0, -2.5], np.float32)},
                    {"Y": np.array([2.0, -5.0], np.float32)},
                    args={"token": _EXAMPLE_TOKEN}),
    doc="""Run the Python function registered under `token` in this process, as
`f(inputs, outputs)` (`f(inputs, outputs, workspace)` when registered with
pass_workspace): the function reads `inputs[i].data` and fills `outputs[j]`
(`reshape(dims)` then write `.data`, or `feed(array)`). Build it with
`core.Net.Python(f)` or `core.CreatePythonOperator(f, inputs, outputs)`; an op whose
token no function holds in this process is refused when created. An exception in
the function fails the op with its message.

Example: with the module's example function (Y = 2 * X), X=[1, -2.5] -> Y=[2, -5]""",
)
def python(*inputs: np.ndarray, token: str, grad_output_indices: list[int],
           grad_input_indices: list[int], num_outputs: int, state: dict,
           outputs: Any) -> tuple:
    """Call the registered function; its outputs become the op's outputs."""
    return _call("f", token, inputs, num_outputs, state, outputs)


@register_gradient("Python")
def python_gradient(g):
    """``PythonGradient([inputs..., outputs..., output grads...]) -> [input grads]``;
    ``grad_output_indices`` / ``grad_input_indices`` choose which output gradients it
    reads and which input gradients it makes (all by default)."""
    n_in, n_out = len(g.def_.input), len(g.def_.output)
    go_idx = list(g.arg("grad_output_indices", [])) or list(range(n_out))
    gi_idx = list(g.arg("grad_input_indices", [])) or list(range(n_in))
    ins = [g.I(i) for i in range(n_in)] + [g.O(i) for i in range(n_out)]
    ins += [g.GO(i) for i in go_idx]
    return [g.op_def("PythonGradient", ins, [g.GI(i) for i in gi_idx])]


@register_cpu_operator(
    "PythonGradient",
    inputs=["inputs"],
    outputs=["input_grads"],
    args=_ARGS,
    num_inputs=(0, None),
    num_outputs=(0, None),
    allow_inplace=True,
    shape=_shape("grad_f"),
    example=Example({"X": np.array([1.0, -2.5], np.float32),
                     "Y": np.array([2.0, -5.0], np.float32),
                     "dY": np.array([0.5, 1.0], np.float32)},
                    {"dX": np.array([1.0, 2.0], np.float32)},
                    args={"token": _EXAMPLE_TOKEN}),
    doc="""Python's gradient: run the gradient function registered under `token` as
`grad_f(inputs, outputs)`, where `inputs` are the forward op's inputs, its outputs,
then the gradients of its outputs (those of grad_output_indices, all by default),
and `outputs` are the input gradients it makes (those of grad_input_indices).

Example: with the module's example gradient (dX = 2 * dY), X=[1, -2.5],
Y=[2, -5], dY=[0.5, 1] -> dX=[1, 2]""",
)
def python_gradient_op(*inputs: np.ndarray, token: str, grad_output_indices: list[int],
                       grad_input_indices: list[int], num_outputs: int, state: dict,
                       outputs: Any) -> tuple:
    """Call the registered gradient function."""
    return _call("grad_f", token, inputs, num_outputs, state, outputs)


gradient_not_implemented_yet("PythonGradient")
