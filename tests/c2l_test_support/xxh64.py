"""A pure-Python XXH64 (inputs under 32 bytes), the reference the hashed ops
(SparseFunHash, FunHash) are tested against."""

from __future__ import annotations

M = 2**64 - 1
P1, P2, P3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
P4, P5 = 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5
MAGIC = 0x9E3779B97F4A7C15


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def xxh64(data: bytes, seed: int) -> int:
    """XXH64 for inputs shorter than 32 bytes (the only ones needed here)."""
    assert len(data) < 32
    h, p = (seed + P5 + len(data)) & M, 0
    while p + 8 <= len(data):
        k = int.from_bytes(data[p : p + 8], "little")
        k = (rotl((k * P2) & M, 31) * P1) & M
        h = (rotl(h ^ k, 27) * P1 + P4) & M
        p += 8
    if p + 4 <= len(data):
        h ^= (int.from_bytes(data[p : p + 4], "little") * P1) & M
        h = (rotl(h, 23) * P2 + P3) & M
        p += 4
    while p < len(data):
        h = (rotl(h ^ ((data[p] * P5) & M), 11) * P1) & M
        p += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    return h ^ (h >> 32)
