"""An operator's worked example, as data: the inputs, the arguments, the outputs.

The doc of every operator shows one concrete ``input -> output`` example. Given as
an :class:`Example`, it is also executable: the conformance tests run the kernel on
it and compare with the stated outputs, and run the shape function on the inputs'
shapes and compare with the outputs' shapes and types. When the doc has no
``Example:`` line, one is rendered from the data.

>>> ex = Example({"X": np.array([1.0, -2.0], np.float32)},
...              {"Y": np.array([1.0, 0.0], np.float32)})
>>> ex.render()
'Example: X=[1.0, -2.0] (float32) -> Y=[1.0, 0.0] (float32)'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Example:
    """``inputs`` and ``outputs`` map blob names to values, in the schema's order;
    ``args`` are the op's arguments. ``exact=False`` (random ops) checks only the
    outputs' shapes and types, not their values; ``rtol`` loosens float comparisons."""

    inputs: dict[str, Any]
    outputs: dict[str, Any]
    args: dict[str, Any] = field(default_factory=dict)
    exact: bool = True
    rtol: float = 1e-6

    def render(self) -> str:
        def show(items: dict[str, Any]) -> str:
            return ", ".join(f"{k}={_value(v)}" for k, v in items.items()) or "()"

        args = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
        head = f"Example: {show(self.inputs)}" + (f" with {args}" if args else "")
        if not self.exact:
            outs = ", ".join(f"{k}: {_value_shape(v)}" for k, v in self.outputs.items())
            return f"{head} -> {outs} (random values)"
        return f"{head} -> {show(self.outputs)}"


def _value(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return f"{v.tolist()!r} ({v.dtype.name})"
    return repr(v)


def _value_shape(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return f"{v.dtype.name} of shape {v.shape}"
    return type(v).__name__
