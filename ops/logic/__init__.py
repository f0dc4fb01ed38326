"""Comparisons and logic: EQ, NE, LT, LE, GT, GE, And, Or, Xor, Not, the bitwise ops, Where, IsEmpty."""

from __future__ import annotations
