"""The compiled dropout kernels (ops/_caffe2lite_speedups.c) against the numpy ones:
the same arrays, the same generator state afterwards, the same errors; and the
module's own guards."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import numpy as np
import pytest
from c2l_test_support.dropout import ids
from caffe2lite.ops import _speedups
from caffe2lite.ops.sparse._dropout_draws import keep_mask
from caffe2lite.ops.sparse.sparse_dropout_with_replacement import segment_dropout
from caffe2lite.ops.sparse.sparse_itemwise_dropout_with_replacement import itemwise_dropout
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.errors import EnforceError
from caffe2lite.workspace import Workspace

native = _speedups.native
needs_native = pytest.mark.skipif(native is None, reason=_speedups.status)

GENERATORS = ["PCG64", "PCG64-calls", "SFC64", "Philox", "MT19937", "PCG64DXSM"]
RATIOS = [0.1, 0.5, 0.3, 0.75, 1 / 256, 0.999, 1e-9, 1 - 1e-9]


def make_rng(kind: str, seed: int) -> np.random.Generator:
    """A generator of ``kind``; "PCG64-calls" is a PCG64 subclass, which the module
    draws from through numpy's calls instead of computing the words itself."""
    if kind == "PCG64-calls":
        return np.random.Generator(type("PCG64Calls", (np.random.PCG64,), {})(seed))
    return np.random.Generator(getattr(np.random, kind)(seed))


def state(rng: np.random.Generator) -> str:
    return repr(rng.bit_generator.state)


@pytest.fixture(params=["avx2", "avx2-backward", "portable"])
def selection(request):
    """The instruction sets of the kernels: AVX2 (only where the processor has it),
    also with the itemwise output written from its last element to its first (which
    the module does only for outputs of 4 Mi elements or more: here for every size),
    and the portable SSE2/C one; for the itemwise selection and the segment run
    copy."""
    previous = native.select_avx2(request.param != "portable")
    if request.param != "portable" and not native.select_avx2(True):
        native.select_avx2(previous)
        pytest.skip("no AVX2 selection on this processor or build")
    backward = native.set_backward_from(0 if request.param == "avx2-backward" else 2**62)
    yield request.param
    native.set_backward_from(backward)
    native.select_avx2(previous)


def test_speedups_are_built_when_required():
    """CI sets CAFFE2LITE_REQUIRE_SPEEDUPS=1: there the module must build and load,
    and compute PCG64 words itself."""
    if os.environ.get("CAFFE2LITE_REQUIRE_SPEEDUPS") != "1":
        pytest.skip("CAFFE2LITE_REQUIRE_SPEEDUPS is not set")
    assert native is not None, _speedups.status
    assert _speedups.fast_pcg64 == bool(native.PCG64), _speedups.status


def compare_itemwise(kind: str, seed: int, n: int, ratio: float) -> None:
    x = np.arange(n, dtype=np.int64) * 3 - 11
    lengths = np.array([n], dtype=np.int32)
    want_rng, got_rng = make_rng(kind, seed), make_rng(kind, seed)
    want = itemwise_dropout(x, want_rng, ratio, -5)
    got = _speedups.itemwise_dropout(x, lengths, got_rng, ratio, -5)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    assert state(got_rng) == state(want_rng)


def compare_segments(kind: str, seed: int, lengths: np.ndarray, ratio: float,
                     offset: int = 0) -> None:
    """``offset``: X starts that many elements into its buffer (its alignment)."""
    x = (np.arange(int(lengths.sum()) + offset, dtype=np.int64) + 100)[offset:]
    want_rng, got_rng = make_rng(kind, seed), make_rng(kind, seed)
    want = segment_dropout(x, lengths, keep_mask(want_rng, lengths.shape[0], ratio), -5)
    got = _speedups.segment_dropout(x, lengths, got_rng, ratio, -5)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
    assert state(got_rng) == state(want_rng)


@needs_native
@pytest.mark.parametrize("kind", GENERATORS)
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 16, 31, 4095, 4096, 4097, 8192, 12293])
def test_itemwise_equals_numpy(kind, n, selection):
    for ratio in RATIOS:
        compare_itemwise(kind, n + 3, n, ratio)


@needs_native
@pytest.mark.parametrize("kind", ["PCG64", "PCG64-calls", "SFC64"])
def test_itemwise_equals_numpy_on_large_inputs_with_ties(kind, selection):
    """200003 ids: many blocks, a partial last block, and about 780 ties at ratio
    0.1 (settled by floats) and at 0.5 (where ties drop)."""
    for ratio in (0.1, 0.5):
        compare_itemwise(kind, 7, 200_003, ratio)


@needs_native
@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 9000),
    ratio=st.floats(0.0, 1.0, exclude_min=True, exclude_max=True),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(GENERATORS),
)
def test_itemwise_equals_numpy_hypothesis(n, ratio, seed, kind):
    compare_itemwise(kind, seed, n, ratio)


@needs_native
@pytest.mark.parametrize("kind", GENERATORS)
@pytest.mark.parametrize("segments", [0, 1, 2, 9, 100, 3000])
def test_segments_equal_numpy(kind, segments, selection):
    for ratio in RATIOS:
        lengths = np.random.default_rng(segments).integers(0, 7, segments)
        compare_segments(kind, segments + 1, lengths.astype(np.int32), ratio)


@needs_native
@pytest.mark.parametrize("offset", [0, 1, 2, 3])
def test_segment_runs_of_every_length_and_alignment(offset, selection):
    """Runs of 0 to about 300 elements from every X alignment into every Y
    alignment: the run copy's head, vector loop and tail."""
    lengths = np.tile(np.arange(0, 41, dtype=np.int32), 6)
    for seed in range(12):
        compare_segments("PCG64", seed, lengths, 0.3, offset)


@needs_native
@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 60), max_size=300),
    ratio=st.floats(0.0, 1.0, exclude_min=True, exclude_max=True),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(GENERATORS),
)
def test_segments_equal_numpy_hypothesis(lengths, ratio, seed, kind):
    compare_segments(kind, seed, np.array(lengths, dtype=np.int32), ratio)


@needs_native
def test_segments_keep_everything_returns_the_inputs():
    x, lengths = ids([3, 0, 2], 0)
    y, out_lengths = _speedups.segment_dropout(x, lengths, make_rng("PCG64", 0),
                                               1e-9, -1)
    assert y is x and out_lengths is lengths


def address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


@needs_native
def test_segment_output_is_rounded_up_only_in_its_buffer_and_aligned():
    x, lengths = ids(np.full(20_000, 50), 3)
    y, out_lengths = _speedups.segment_dropout(x, lengths, make_rng("PCG64", 1), 0.1,
                                               -1)
    assert y.shape == (int(out_lengths.sum()),) and y.flags.c_contiguous
    step = _speedups.capacity_step(1_020_000)
    assert step == 63750
    spare = y.base.shape[0] - 7 - y.shape[0]
    assert (y.base.shape[0] - 7) % step == 0 and 0 <= spare < step
    start = (address(y) - address(y.base)) // 8
    assert address(y) % 64 == 0 and 0 <= start < 8


@needs_native
@pytest.mark.parametrize("n", [0, 1, 5, 4096, 4097, 70_001])
def test_itemwise_output_is_an_aligned_view(n):
    x = np.arange(n, dtype=np.int64)
    lengths = np.array([n], dtype=np.int32)
    y = _speedups.itemwise_dropout(x, lengths, make_rng("PCG64", n), 0.5, -1)
    assert y.shape == (n,) and y.dtype == np.int64 and y.flags.c_contiguous
    assert y.base.shape == (n + 7,) and y.flags.writeable
    start = (address(y) - address(y.base)) // 8
    assert 0 <= start < 8 and (n == 0 or address(y) % 64 == 0)
    np.testing.assert_array_equal(y, itemwise_dropout(x, make_rng("PCG64", n), 0.5, -1))


@needs_native
def test_non_contiguous_inputs_are_copied_first():
    base = np.arange(20_000, dtype=np.int64)
    x = base[::2]
    lengths = np.full(20, 500, dtype=np.int32)
    want = itemwise_dropout(x, make_rng("PCG64", 4), 0.3, -1)
    got = _speedups.itemwise_dropout(x, lengths, make_rng("PCG64", 4), 0.3, -1)
    np.testing.assert_array_equal(got, want)
    big = np.zeros(40, dtype=np.int32)
    big[::2] = 500
    want = segment_dropout(x, big[::2], keep_mask(make_rng("PCG64", 5), 20, 0.3), -1)
    got = _speedups.segment_dropout(x, big[::2], make_rng("PCG64", 5), 0.3, -1)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@needs_native
@pytest.mark.parametrize(
    "op", ["SparseDropoutWithReplacement", "SparseItemwiseDropoutWithReplacement"]
)
@pytest.mark.parametrize(
    "lengths, message",
    [
        ([2, 2], "Inconsistent input data. Number of elements should match total"),
        ([6, -1], "Segment lengths must be non-negative"),
    ],
)
def test_wrong_lengths_raise_caffe2s_error_and_draw_nothing(op, lengths, message):
    from caffe2lite.ops.sparse.sparse_dropout_with_replacement import (
        sparse_dropout_with_replacement,
    )
    from caffe2lite.ops.sparse.sparse_itemwise_dropout_with_replacement import (
        sparse_itemwise_dropout_with_replacement,
    )

    kernel = {
        "SparseDropoutWithReplacement": sparse_dropout_with_replacement,
        "SparseItemwiseDropoutWithReplacement": (
            sparse_itemwise_dropout_with_replacement),
    }[op]
    rng = make_rng("PCG64", 0)
    before = state(rng)
    x = np.arange(5, dtype=np.int64)
    with pytest.raises(EnforceError, match=message):
        kernel(x, np.array(lengths, dtype=np.int32), ratio=0.5, replacement_value=0,
               rng=rng)
    assert state(rng) == before


@pytest.mark.parametrize(
    "op", ["SparseDropoutWithReplacement", "SparseItemwiseDropoutWithReplacement"]
)
def test_the_op_gives_the_same_outputs_with_either_kernels(op, monkeypatch):
    """Through a workspace, seeded: compiled and numpy kernels agree, so a seed
    means the same thing whether or not the module was built."""
    from caffe2lite.core import CreateOperator

    x, lengths = ids(np.random.default_rng(0).integers(0, 100, 700), 1)

    def run() -> list[np.ndarray]:
        ws = Workspace()
        ws.feed_blob("X", x)
        ws.feed_blob("Lengths", lengths)
        ws.run_operator_once(CreateOperator(
            op, ["X", "Lengths"], ["Y", "OutputLengths"], ratio=0.3,
            replacement_value=-1, random_seed=99))
        return [ws.fetch_blob("Y"), ws.fetch_blob("OutputLengths")]

    if native is None:
        pytest.skip(_speedups.status)
    compiled = run()
    monkeypatch.setattr(_speedups, "native", None)
    for got, want in zip(run(), compiled):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


# The module's own guards: it never reads or writes outside the buffers it is given.


@needs_native
def test_raw_words_equal_random_raw():
    for fast in (True, False):
        ours, twin = np.random.PCG64(5), np.random.PCG64(5)
        words = np.frombuffer(native.raw_words(ours.capsule, fast, 100), np.uint64)
        np.testing.assert_array_equal(words, twin.random_raw(100))
        assert ours.state == twin.state
    with pytest.raises(ValueError, match="count must be >= 0"):
        native.raw_words(np.random.PCG64(5).capsule, False, -1)


@needs_native
def test_pcg64_layout_check_passes_here():
    assert _speedups._check_pcg64(native) == bool(native.PCG64)


@needs_native
def test_pcg64_words_are_not_computed_under_an_unchecked_numpy(monkeypatch):
    monkeypatch.setattr(np, "__version__", "3.0.0")
    assert _speedups._check_pcg64(native) is False


@needs_native
def test_itemwise_rejects_mismatched_buffers():
    rng = np.random.PCG64(0)
    x = np.arange(10, dtype=np.int64)
    lengths = np.array([10], dtype=np.int32)
    e64 = _speedups._empty64
    with pytest.raises(ValueError, match="the allocator gave 72 bytes for 17 items"):
        native.itemwise(rng.capsule, True, x, lengths, 230, 0.4, -1,
                        lambda n: np.empty(n - 8, np.int64), None)
    with pytest.raises(ValueError, match="threshold must lie in 0..256, got 257"):
        native.itemwise(rng.capsule, True, x, lengths, 257, 0.4, -1, e64, None)
    with pytest.raises(ValueError, match="tie fraction"):
        native.itemwise(rng.capsule, True, x, lengths, 2, 1.0, -1, e64, None)
    with pytest.raises(ValueError, match="x must be int64 and lengths int32"):
        native.itemwise(rng.capsule, True, x, b"abc", 2, 0.5, -1, e64, None)
    with pytest.raises(ValueError, match="PyCapsule"):
        native.itemwise(object(), True, x, lengths, 2, 0.5, -1, e64, None)
    assert native.itemwise(rng.capsule, True, x, np.array([9], np.int32), 2, 0.5, -1,
                           e64, None) is None
    assert rng.state == np.random.PCG64(0).state  # nothing drawn


@needs_native
def test_segment_rejects_bad_buffers_and_checks_lengths_before_drawing():
    rng = np.random.PCG64(0)
    lengths = np.array([2, 3], dtype=np.int32)
    x = np.arange(5, dtype=np.int64)
    e64, e32 = _speedups._empty64, _speedups._empty32

    def segment(x, lengths, whole=128, fraction=0.0, empty64=e64, step=4096):
        return native.segment(rng.capsule, True, x, lengths, whole, fraction, -1,
                              empty64, e32, step, None)

    with pytest.raises(ValueError, match="x must be int64 and lengths int32"):
        segment(b"abc", lengths)
    with pytest.raises(ValueError, match="step >= 1"):
        segment(x, lengths, step=0)
    with pytest.raises(ValueError, match="threshold must lie in 0..256, got -1"):
        segment(x, lengths, whole=-1)
    assert segment(x[:4], lengths) is None
    assert segment(x, np.array([6, -1], dtype=np.int32)) is None
    assert rng.state == np.random.PCG64(0).state  # nothing drawn
    with pytest.raises(ValueError, match="the allocator gave 8 bytes for 4103 items"):
        segment(x, lengths, whole=0, empty64=lambda n: np.empty(1, np.int64))
    y, out_lengths = segment(x, lengths, whole=0)  # every segment drops
    np.testing.assert_array_equal(y, [-1, -1])
    np.testing.assert_array_equal(out_lengths, [1, 1])
    assert y.base.shape == (4096 + 7,) and out_lengths.dtype == np.int32
    assert segment(x, lengths, whole=256) is False  # every segment kept


# Loading: turned off, missing, or from another version.


def test_the_environment_turns_the_compiled_kernels_off():
    code = ("from caffe2lite.ops import _speedups as s; "
            "print(s.native is None); print(s.status)")
    env = dict(os.environ, CAFFE2LITE_SPEEDUPS="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out == ["True", "numpy kernels (CAFFE2LITE_SPEEDUPS=0)"]


def test_a_module_of_another_interface_is_not_used(monkeypatch):
    monkeypatch.delenv("CAFFE2LITE_SPEEDUPS", raising=False)
    fake = types.ModuleType("_caffe2lite_speedups")
    fake.INTERFACE = _speedups.INTERFACE + 1
    monkeypatch.setitem(sys.modules, "_caffe2lite_speedups", fake)
    for name in ("native", "fast_pcg64", "status"):
        monkeypatch.setattr(_speedups, name, getattr(_speedups, name))
    monkeypatch.setattr(_speedups, "native", None)
    _speedups._load()
    assert _speedups.native is None
    assert _speedups.status == (
        f"numpy kernels (_caffe2lite_speedups speaks interface "
        f"{_speedups.INTERFACE + 1}, this caffe2lite {_speedups.INTERFACE}: "
        f"reinstall caffe2lite)")


def test_a_missing_module_falls_back(monkeypatch):
    monkeypatch.delenv("CAFFE2LITE_SPEEDUPS", raising=False)
    monkeypatch.setitem(sys.modules, "_caffe2lite_speedups", None)  # import fails
    for name in ("native", "fast_pcg64", "status"):
        monkeypatch.setattr(_speedups, name, getattr(_speedups, name))
    _speedups._load()
    assert _speedups.native is None
    assert _speedups.status == (
        "numpy kernels (the compiled module _caffe2lite_speedups is not built)")


def test_capacity_step_is_a_sixteenth_of_the_bound_and_at_least_4096():
    assert _speedups.capacity_step(0) == 4096
    assert _speedups.capacity_step(65_536) == 4096
    assert _speedups.capacity_step(1_020_000) == 63_750
    assert _speedups.capacity_step(1_020_001) == 63_751


@needs_native
def test_outputs_are_written_downwards_from_4_mi_elements():
    previous = native.set_backward_from(5)
    native.set_backward_from(previous)
    assert previous == 4 << 20
