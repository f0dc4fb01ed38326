"""The optional compiled kernel modules in the tests: the ``embedding_kernels``
fixture (every test of a module that binds it runs with the compiled one-pass
kernels of ``caffe2lite.ops._embedding_native`` and with the numpy ones), what a
module reports with the speedups switched off, and the CI requirement that the
modules be built."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture(scope="module", autouse=True, params=["compiled", "numpy"])
def embedding_kernels(request):
    """Every test of the module that binds this fixture runs with the compiled
    one-pass kernels (skipped when the module is not built) and with the numpy ones:
    ``from c2l_test_support.kernels import embedding_kernels  # noqa: F401``."""
    from caffe2lite.ops import _embedding_native as native

    names = ("sparse_lengths", "fused_lookup", "tile", "tile_dot")
    saved = {name: getattr(native, name) for name in names}
    if request.param == "numpy":
        for name in names:
            setattr(native, name, None)
    elif native.native is None:
        pytest.skip(native.status)
    yield request.param
    for name, value in saved.items():
        setattr(native, name, value)


def status_with_speedups_off(module_name, attributes=("native",)) -> str:
    """Import ``module_name`` in a fresh interpreter with CAFFE2LITE_SPEEDUPS=0 and
    return what it prints: for each of ``attributes`` whether the module's attribute
    is None, then the module's ``status``."""
    code = (
        f"import importlib; m = importlib.import_module({module_name!r}); "
        f"print(*(getattr(m, a) is None for a in {tuple(attributes)!r}), m.status)"
    )
    env = dict(os.environ, CAFFE2LITE_SPEEDUPS="0")
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def skip_unless_speedups_required():
    """CI sets CAFFE2LITE_REQUIRE_SPEEDUPS=1: there the compiled modules must build
    and load; elsewhere the test asking for them is skipped."""
    if os.environ.get("CAFFE2LITE_REQUIRE_SPEEDUPS") != "1":
        pytest.skip("CAFFE2LITE_REQUIRE_SPEEDUPS is not set")
