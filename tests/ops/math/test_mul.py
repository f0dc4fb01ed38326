"""Mul and MulGradient: the broadcasting binary op tests of
``c2l_test_support.broadcast`` with C = A * B."""

from __future__ import annotations

from c2l_test_support.broadcast import BinaryOpTests


class TestMul(BinaryOpTests):
    OP = "Mul"

    @staticmethod
    def F(x, y):
        """One output element."""
        return x * y

    @staticmethod
    def G(g, x, y):
        """(contribution to dA, contribution to dB) of one output element's gradient."""
        return g * y, g * x
