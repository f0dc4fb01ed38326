"""The random decisions of the two sparse dropout ops: one byte per decision.

A decision keeps its item with probability ``q = 1 - ratio``. With ``s = 256 * q``
and ``t = floor(s)``, decision i reads byte i of the generator's raw 64-bit output
(``rng.bit_generator.random_raw``, each word split into 8 bytes, least significant
first): a byte below t keeps, a byte above t drops, and a byte equal to t is a *tie*.
Once every byte has been drawn, the ties are settled in order, one ``rng.random()``
each, a tie being kept when its number is below ``s - t`` (when ``s`` is a whole
number no number is drawn and a tie drops). A decision therefore keeps with
probability ``t / 256 + (s - t) / 256 = q`` exactly (to float64), from 8 random bits
per decision instead of the 64 of a float, which makes the draws about 8 times
cheaper. The stream is fixed by the seed and the counts alone, on every platform.
"""

from __future__ import annotations

import numpy as np


def threshold(ratio: float) -> tuple[int, float]:
    """``(t, s - t)`` for ``s = 256 * (1 - ratio)``: bytes below t keep, and a byte
    equal to t keeps when a later ``rng.random()`` is below ``s - t``.

    >>> threshold(0.1)
    (230, 0.4000000000000057)
    """
    scaled = (1.0 - ratio) * 256.0
    whole = int(scaled)
    return whole, scaled - whole


def draw_bytes(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` random bytes (uint8) from ``ceil(count / 8)`` raw 64-bit words.

    Consecutive calls whose counts are multiples of 8 give the same bytes as one
    call for their sum.

    >>> draw_bytes(np.random.default_rng(0), 3).dtype
    dtype('uint8')
    """
    words = rng.bit_generator.random_raw(-(-count // 8))
    return words.astype("<u8", copy=False).view(np.uint8)[:count]


def keep_mask(rng: np.random.Generator, count: int, ratio: float) -> np.ndarray:
    """``count`` decisions as a bool array, True where the item is kept.

    >>> keep_mask(np.random.default_rng(0), 4, 0.0)
    array([ True,  True,  True,  True])
    """
    whole, fraction = threshold(ratio)
    drawn = draw_bytes(rng, count)
    keep = drawn < whole
    if fraction:
        ties = np.flatnonzero(drawn == whole)
        if ties.shape[0]:
            keep[ties] = rng.random(ties.shape[0]) < fraction
    return keep
