"""The shared tests of the eight segment-id reductions ({Sparse}{Sorted,Unsorted}
Segment{Sum,Mean}): a naive loop, Caffe2's segment_ops_test cases, edges, exact errors,
the gradient maker's ops and a numeric gradient, and the gradient op. Each op's test
file subclasses :class:`SegmentIdOpTests` with its flags."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.gradient.backward import GradientSlice
from caffe2lite.schema import registry


class SegmentIdOpTests:
    """Set OP_TYPE, SPARSE, SORTED and MEAN in a subclass named Test<Op>."""

    OP_TYPE = ""
    SPARSE = SORTED = MEAN = False

    def __init_subclass__(cls, **kwargs):
        # Hypothesis wants one test function per class (a shared decorated method is
        # "called from multiple executors"): each subclass gets its own.
        super().__init_subclass__(**kwargs)

        @settings(max_examples=30, deadline=None)
        @given(
            n=st.integers(0, 12),
            k=st.integers(1, 5),
            dtype=st.sampled_from([np.float32, np.float64]),
            tail=st.sampled_from([(), (2,), (2, 3)]),
            seed=st.integers(0, 2**16),
        )
        def test_matches_naive_loop(self, n, k, dtype, tail, seed):
            self.check_naive_loop(n, k, dtype, tail, seed)

        @settings(max_examples=20, deadline=None)
        @given(n=st.integers(0, 10), k=st.integers(1, 4), seed=st.integers(0, 2**16))
        def test_gradient_op_matches_naive(self, n, k, seed):
            self.check_gradient_op(n, k, seed)

        cls.test_matches_naive_loop = test_matches_naive_loop
        cls.test_gradient_op_matches_naive = test_gradient_op_matches_naive

    @property
    def input_names(self) -> list[str]:
        return ["D", "I", "S"] if self.SPARSE else ["D", "S"]

    @property
    def op(self):
        return CreateOperator(self.OP_TYPE, self.input_names, ["Y"])

    @property
    def grad(self):
        return CreateOperator(self.OP_TYPE + "Gradient", ["G", "S"], ["DG"])

    @property
    def MAKER_GRAD(self) -> str:
        """The gradient op the maker emits (the Sparse forms share the dense one)."""
        return self.OP_TYPE.removeprefix("Sparse") + "Gradient"

    def naive(self, data, *rest, num_segments=-1):
        ids = rest[-1].tolist()
        rows = rest[0].tolist() if self.SPARSE else list(range(len(ids)))
        k = num_segments if num_segments != -1 else (max(ids) + 1 if ids else 0)
        sums = [np.zeros(data.shape[1:], np.float64) for _ in range(k)]
        counts = [0] * k
        for r, s in zip(rows, ids):
            sums[s] = sums[s] + data[r]
            counts[s] += 1
        if self.MEAN:
            sums = [t / c if c else t for t, c in zip(sums, counts)]
        out = np.array(sums, np.float64).reshape((k,) + data.shape[1:])
        return [out.astype(data.dtype)]

    def naive_grad(self, grads, ids):
        counts = {}
        for s in ids.tolist():
            counts[s] = counts.get(s, 0) + 1
        rows = [grads[s] / (counts[s] if self.MEAN else 1) for s in ids.tolist()]
        return [np.array(rows, grads.dtype).reshape((len(ids),) + grads.shape[1:])]

    def make(self, rng, rows, n, k, dtype, tail=(2,)):
        data = rng.standard_normal((rows,) + tail).astype(dtype)
        if self.SORTED:
            ids = np.sort(rng.integers(0, k, n)) if n else np.zeros(0, np.int64)
            ids = np.unique(ids, return_inverse=True)[1] if n else ids  # no gaps
        else:
            ids = rng.integers(0, k, n)
        ids = ids.astype(np.int32)
        indices = rng.integers(0, rows, n)
        return data, indices, ids

    def inputs(self, data, indices, ids):
        return [data, indices, ids] if self.SPARSE else [data, ids]

    def check_naive_loop(self, n, k, dtype, tail, seed):
        rng = np.random.default_rng(seed)
        rows = max(n, 1) if self.SPARSE else n
        data, indices, ids = self.make(rng, rows, n, k, dtype, tail)
        testing.check_reference(
            self.op, self.inputs(data, indices, ids), self.naive, atol=1e-5
        )

    def test_caffe2_case_and_its_gradient(self):
        # segment_ops_test: float32 data of shape (n, 3), ids from lengths [2, 1, 3].
        data = np.arange(18, dtype=np.float32).reshape(6, 3)
        ids = np.array(
            [0, 0, 1, 2, 2, 2] if self.SORTED else [2, 0, 1, 2, 0, 2], np.int32
        )
        indices = np.array([5, 0, 2, 2, 1, 4])
        (y,) = testing.check_reference(
            self.op, self.inputs(data, indices, ids), self.naive
        )
        assert y.shape == (3, 3)
        testing.check_gradient(
            self.op, self.inputs(data.astype(np.float64), indices, ids), 0
        )

    def test_empty_input(self):
        data = np.zeros((0 if not self.SPARSE else 3, 4), np.float32)
        (y,) = testing.check_reference(
            self.op,
            self.inputs(data, np.zeros(0, np.int64), np.zeros(0, np.int32)),
            self.naive,
        )
        assert y.shape == (0, 4)

    def test_gradient_maker(self):
        ops, grads = GradientRegistry.GetBackwardPass([self.op], {"Y": "Y_grad"})
        out = "D_grad_values" if self.SPARSE else "D_grad"
        want = CreateOperator(self.MAKER_GRAD, ["Y_grad", "S"], [out])
        want.is_gradient_op = True
        assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
        if self.SPARSE:
            assert isinstance(grads["D"], GradientSlice)
            assert (str(grads["D"].indices), str(grads["D"].values)) == ("I", out)
        else:
            assert str(grads["D"]) == "D_grad"
        assert grads.get("S") is None

    def check_gradient_op(self, n, k, seed):
        rng = np.random.default_rng(seed)
        _, _, ids = self.make(rng, 1, n, k, np.float32)
        kk = int(ids.max()) + 1 if n else (0 if self.SORTED else k)
        grads = rng.standard_normal((max(kk, k if not self.SORTED else kk), 2)).astype(
            np.float32
        )
        if self.SORTED:
            grads = grads[:kk]
        testing.check_reference(self.grad, [grads, ids], self.naive_grad)

    def test_errors(self):
        data = np.ones((3, 2), np.float32)
        ids = np.array([0, 0, 1], np.int32)
        idx = np.array([0, 1, 2])
        testing.check_raises(
            self.op,
            self.inputs(data, idx, ids.reshape(3, 1)),
            ShapeError,
            "SEGMENT_IDS must be a vector",
        )
        testing.check_raises(
            self.op,
            self.inputs(data.astype(np.int32), idx, ids),
            DTypeError,
            "Unsupported input type: int.",
        )
        testing.check_raises(
            self.op,
            self.inputs(data, idx, ids.astype(np.int64)),
            DTypeError,
            "caller expects elements to be int while tensor contains long",
        )
        if self.SPARSE:
            testing.check_raises(
                self.op,
                [data, idx[:2], ids],
                ShapeError,
                "SEGMENT_IDS must have the same length as INDICES",
            )
            testing.check_raises(
                self.op,
                [data, idx.astype(np.float32), ids],
                DTypeError,
                "Unsupported type of tensor: float",
            )
            testing.check_raises(
                self.op,
                [data, np.array([0, 3, 1]), ids],
                EnforceError,
                r"Index out of bounds: 3, range 0 to 3",
            )
        else:
            testing.check_raises(
                self.op,
                [data[:2], ids],
                ShapeError,
                "DATA must have the same first dimension as SEGMENT_IDS",
            )
        if self.SORTED:
            testing.check_raises(
                self.op,
                self.inputs(data, idx, np.array([1, 1, 2], np.int32)),
                EnforceError,
                "Indices must be sorted and not have gaps",
            )
            testing.check_raises(
                self.op,
                self.inputs(data, idx, np.array([0, 2, 2], np.int32)),
                EnforceError,
                "Indices must be sorted and not have gaps",
            )
            testing.check_raises(
                self.op,
                self.inputs(data, idx, np.array([0, 1, 0], np.int32)),
                EnforceError,
                "Indices must be sorted and not have gaps",
            )
            testing.check_raises(
                self.grad,
                [np.ones((3, 2), np.float32), ids],
                EnforceError,
                "Indices must be sorted and not have gaps",
            )
        else:
            testing.check_raises(
                self.op,
                self.inputs(data, idx, np.array([0, -1, 1], np.int32)),
                EnforceError,
                r"Segment id out of range: -1, range 0 to 2",
            )
            op = CreateOperator(self.OP_TYPE, self.input_names, ["Y"], num_segments=1)
            testing.check_raises(
                op,
                self.inputs(data, idx, ids),
                EnforceError,
                r"Segment id out of range: 1, range 0 to 1",
            )
            testing.check_raises(
                self.grad,
                [np.ones((1, 2), np.float32), ids],
                EnforceError,
                r"Segment id out of range: 1, range 0 to 1",
            )

    def test_num_segments_pads_with_empty_segments(self):
        if self.SORTED:
            pytest.skip("num_segments is an argument of the unsorted ops only")
        data = np.arange(6, dtype=np.float32).reshape(3, 2)
        op = CreateOperator(self.OP_TYPE, self.input_names, ["Y"], num_segments=4)
        ids = np.array([2, 0, 2], np.int32)
        (y,) = testing.check_reference(
            op,
            self.inputs(data, np.array([1, 2, 0]), ids),
            lambda *a: self.naive(*a, num_segments=4),
        )
        assert y.shape == (4, 2) and not y[1].any() and not y[3].any()

    def test_gradient_decisions(self):
        assert registry.GRADIENTS[self.OP_TYPE].kind == registry.MAKER
        assert (
            registry.GRADIENTS[self.OP_TYPE + "Gradient"].kind
            == registry.NOT_IMPLEMENTED_YET
        )
