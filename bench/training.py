"""Section 5: time per training step of the example model, examples/ctr_model.

The example is imported from the repository's ``examples/`` folder; when it (or the
step function it exposes) is not there, the section says so instead of timing.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.common import Config, Row, missing

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name: str = "ctr_model") -> ModuleType | None:
    """``examples/<name>.py`` (or the package ``examples/<name>/``), or None."""
    for path in (EXAMPLES / f"{name}.py", EXAMPLES / name / "__init__.py"):
        if path.is_file():
            spec = importlib.util.spec_from_file_location(f"bench_example_{name}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    return None


def step_function(module: ModuleType) -> Callable[[], Any] | None:
    """A zero-argument callable running one training step, from what the example
    exposes: ``make_step()`` returning one, or ``train_step``/``step`` taking none."""
    factory = getattr(module, "make_step", None)
    if callable(factory):
        return factory()
    for name in ("train_step", "step"):
        fn = getattr(module, name, None)
        if callable(fn):
            return fn
    return None


def run(config: Config) -> list[Row]:
    """Section 5 rows: one, or a note saying why there is none."""
    try:
        module = load_example()
    except Exception as e:  # noqa: BLE001  (an example being written: report it)
        return [missing("training", "ctr_model step", f"import failed: {e!r}")]
    if module is None:
        return [
            missing(
                "training", "ctr_model step", "not available: no examples/ctr_model"
            )
        ]
    try:
        step = step_function(module)
        if step is not None:
            step()
    except Exception as e:  # noqa: BLE001  (a step that fails is reported, not fatal)
        return [missing("training", "ctr_model step", f"step failed: {e!r}")]
    if step is None:
        return [
            missing("training", "ctr_model step", "not available: no step function")
        ]
    best = float("inf")
    for _ in range(max(1, config.repeats)):
        start = time.perf_counter()
        for _ in range(config.training_steps):
            step()
        best = min(best, (time.perf_counter() - start) / config.training_steps)
    return [Row("training", "ctr_model step", best * 1e3, "ms/step")]
