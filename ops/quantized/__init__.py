"""Rowwise-quantised embeddings: the fused 8-, 4- and 2-bit rowwise formats and their SparseLengths* lookups."""

from __future__ import annotations
