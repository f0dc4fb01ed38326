"""The optional compiled kernels of the two sparse dropout ops.

``pip install`` compiles ``ops/_caffe2lite_speedups.c`` into the module
``_caffe2lite_speedups`` when a C compiler is at hand; without one the install still
succeeds and the ops run their numpy kernels. Both give the same arrays and leave
the generator in the same state for the same seed (the tests compare them); the
compiled kernels are only faster. ``CAFFE2LITE_SPEEDUPS=0`` in the environment turns
them off; ``caffe2lite --version`` and ``python -m bench`` say which kernels run.

For numpy's ``PCG64`` (``default_rng``'s generator) the module computes the raw
words itself from the generator's state rather than calling numpy once per word.
It does so only with numpy 1.x and 2.x, and after checking here, once, that it reads
the same state as ``PCG64.state`` and draws the same words as ``random_raw``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ._compiled import find
from .sparse._dropout_draws import threshold

#: The interface this file speaks (the module's ``INTERFACE``).
INTERFACE = 6

# The PCG64 state layout the module reads (numpy's pcg64_state) is internal to numpy;
# it has not changed from numpy 1.17 to 2.x. A later major version uses numpy's own
# per-word calls (the public BitGenerator interface) until it has been checked.
_PCG64_CHECKED_UP_TO = 2

# The allocators the module calls for its outputs.
_empty64 = partial(np.empty, dtype=np.int64)
_empty32 = partial(np.empty, dtype=np.int32)

native = None  # the module, when it is usable
fast_pcg64 = False  # whether PCG64 words are computed by the module
status = ""  # one line: which kernels run, and why


def _check_pcg64(module) -> bool:
    """Whether the module reads numpy's PCG64 state as ``PCG64.state`` does, draws
    the same words as ``random_raw`` and the same tie-settling doubles as numpy's
    own ``next_double``."""
    if not module.PCG64 or int(np.__version__.split(".")[0]) > _PCG64_CHECKED_UP_TO:
        return False
    probe, twin = np.random.PCG64(20261124), np.random.PCG64(20261124)
    twin.random_raw(3)
    probe.random_raw(3)
    found = module.pcg64_state(probe.capsule)
    state = twin.state["state"]
    expected = (state["state"] >> 64, state["state"] & (2**64 - 1),
                state["inc"] >> 64, state["inc"] & (2**64 - 1))
    if found != expected:
        return False
    words = np.frombuffer(module.raw_words(probe.capsule, True, 64), dtype=np.uint64)
    if not (np.array_equal(words, twin.random_raw(64)) and probe.state == twin.state):
        return False
    # 20000 decisions at a threshold of 230 + 0.4: about 80 ties, each settled by a
    # double; the inline kernel must match numpy's calls element for element.
    x = np.arange(20_000, dtype=np.int64)
    lengths = np.array([x.shape[0]], dtype=np.int32)
    inline = module.itemwise(probe.capsule, True, x, lengths, 230, 0.4, -1, _empty64,
                             None)
    calls = module.itemwise(twin.capsule, False, x, lengths, 230, 0.4, -1, _empty64,
                            None)
    return bool(np.array_equal(inline, calls)) and probe.state == twin.state


def _load() -> None:
    """Set ``native``, ``fast_pcg64`` and ``status`` from the environment and the
    module, if any."""
    global native, fast_pcg64, status
    native, fast_pcg64 = None, False
    module, status = find("_caffe2lite_speedups", INTERFACE)
    if module is None:
        return
    native = module
    fast_pcg64 = _check_pcg64(module)
    status = "compiled kernels (_caffe2lite_speedups" + (
        ", PCG64 words computed inline)" if fast_pcg64 else ")")


_load()


# threshold() of the ratios seen so far (an op's ratio is fixed: one entry per op).
_THRESHOLDS: dict[float, tuple[int, float]] = {}


def _threshold(ratio: float) -> tuple[int, float]:
    """``threshold(ratio)``, computed once per ratio."""
    found = _THRESHOLDS.get(ratio)
    if found is None:
        if len(_THRESHOLDS) > 4096:
            _THRESHOLDS.clear()
        found = _THRESHOLDS[ratio] = threshold(ratio)
    return found


def _run(function, x: np.ndarray, lengths: np.ndarray, rng: np.random.Generator,
         ratio: float, replacement_value: int, *rest):
    """``function`` (the module's itemwise or segment) on contiguous X and Lengths,
    under the generator's lock, with its capsule, the fast flag (inline PCG64 words
    for numpy's own PCG64 only) and the threshold of ``ratio``."""
    whole, fraction = _threshold(ratio)
    bit_generator = rng.bit_generator
    fast = fast_pcg64 and type(bit_generator) is np.random.PCG64
    with bit_generator.lock:
        return function(bit_generator.capsule, fast, np.ascontiguousarray(x),
                        np.ascontiguousarray(lengths), whole, fraction,
                        replacement_value, *rest)


# Y of SparseDropoutWithReplacement comes in this many sizes per input size.
#
# Y's size varies with the draws, and the previous run's Y is still alive in the
# workspace while the next one is allocated. Buffers of one of a few sizes let the
# allocator reuse the memory just freed, where exact sizes would grow the heap, and
# fault in fresh pages, on most runs. Y is a view of ``size`` elements of a buffer of
# ``size`` rounded up to a multiple of ``ceil((len(X) + len(Lengths)) /
# SIZE_CLASSES)`` (at least 4096) elements, plus 7 for the view to start at a 64-byte
# boundary: at most 1/16 of the largest possible output is spare.
SIZE_CLASSES = 16


def capacity_step(bound: int) -> int:
    """The multiple to which Y's buffer is rounded up when Y can reach ``bound``
    (``len(X) + len(Lengths)``) elements.

    >>> capacity_step(1_020_000), capacity_step(12)
    (63750, 4096)
    """
    return max(4096, -(-bound // SIZE_CLASSES))


def _reuse(outputs) -> tuple | None:
    """What the module needs to find the previous Y of an op (see ``reusable`` in the
    C source): its workspace's blob dict, Y's name and the array type, or None when
    the kernel runs outside a workspace."""
    if outputs is None or outputs.blobs is None:
        return None
    return outputs.blobs, outputs.names[0], np.ndarray


def itemwise_dropout(
    x: np.ndarray,
    lengths: np.ndarray,
    rng: np.random.Generator,
    ratio: float,
    replacement_value: int,
    outputs=None,
) -> np.ndarray | None:
    """Y of SparseItemwiseDropoutWithReplacement, the same values and draws as the
    numpy ``itemwise_dropout``; None (with nothing drawn) when the lengths are
    negative or do not add up to X's size, for the caller to raise Caffe2's error.

    Y is a 64-byte aligned view of a buffer 7 elements longer: the buffer of the
    previous Y when ``outputs`` (the kernel's ``net.OutputBlobs``) shows that only
    the workspace holds it, a new one otherwise."""
    return _run(native.itemwise, x, lengths, rng, ratio, replacement_value, _empty64,
                _reuse(outputs))


def segment_dropout(
    x: np.ndarray,
    lengths: np.ndarray,
    rng: np.random.Generator,
    ratio: float,
    replacement_value: int,
    outputs=None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Y and OutputLengths of SparseDropoutWithReplacement, the same values and draws
    as ``keep_mask`` + ``segment_dropout``; None (with nothing drawn) when the lengths
    are negative or do not add up to X's size, for the caller to raise Caffe2's
    error. Y is a 64-byte aligned view of a slightly larger buffer (see
    ``SIZE_CLASSES``), the previous Y's as in ``itemwise_dropout`` when it fits."""
    result = _run(native.segment, x, lengths, rng, ratio, replacement_value, _empty64,
                  _empty32, capacity_step(x.shape[0] + lengths.shape[0]),
                  _reuse(outputs))
    if result is False:  # every segment kept
        return x, lengths
    return result
