"""The byte-per-decision draws shared by the two sparse dropout ops."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from c2l_test_support.dropout import naive_decisions
from caffe2lite.ops.sparse import _dropout_draws as draws


def test_doc_examples():
    assert doctest.testmod(draws).failed == 0


@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.25, 0.3, 0.5, 1 / 3, 0.999, 1.0])
def test_a_decision_keeps_with_probability_one_minus_ratio(ratio):
    whole, fraction = draws.threshold(ratio)
    # Over the 256 equally likely bytes: whole bytes keep, one more keeps with
    # probability ``fraction``.
    assert 0 <= fraction < 1 and 0 <= whole <= 256
    assert (whole + fraction) / 256 == pytest.approx(1 - ratio, abs=1e-15)


def test_bytes_are_the_words_least_significant_first():
    words = np.random.default_rng(3).bit_generator.random_raw(2).tolist()
    want = [(w >> (8 * k)) & 0xFF for w in words for k in range(8)][:13]
    assert draws.draw_bytes(np.random.default_rng(3), 13).tolist() == want


def test_draws_in_multiples_of_eight_continue_one_stream():
    one, two = np.random.default_rng(5), np.random.default_rng(5)
    joined = np.concatenate([draws.draw_bytes(two, 16), draws.draw_bytes(two, 9)])
    np.testing.assert_array_equal(draws.draw_bytes(one, 25), joined)


@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.6, 0.9, 1 / 256])
def test_keep_mask_equals_the_naive_decisions(ratio):
    ratio = float(np.float32(ratio))
    for seed in range(30):
        got = draws.keep_mask(np.random.default_rng(seed), 300, ratio)
        assert got.dtype == np.bool_
        assert got.tolist() == naive_decisions(np.random.default_rng(seed), 300, ratio)


def test_ties_draw_floats_after_the_bytes():
    """At ratio 0.1 about 1 decision in 256 is a tie, each settled by one float."""
    rng = np.random.default_rng(0)
    draws.keep_mask(rng, 256 * 40, 0.1)
    again = np.random.default_rng(0)
    ties = int(np.sum(draws.draw_bytes(again, 256 * 40) == 230))
    assert ties > 0
    again.random(ties)
    assert rng.random() == again.random()  # both generators are at the same point
