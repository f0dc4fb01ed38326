"""Backward pass (being written): GradientSlice, GradientRegistry, IR."""

from __future__ import annotations

from collections import namedtuple

GradientSlice = namedtuple("GradientSlice", ["indices", "values"])


class IR:
    pass


class GradientRegistry:
    @classmethod
    def GetBackwardPass(cls, operators, ys, ys_generate_gradient=False):
        raise NotImplementedError
