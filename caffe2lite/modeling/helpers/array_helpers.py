"""``brew.concat`` and ``brew.depth_concat``."""

from __future__ import annotations

from typing import Any


def concat(model: Any, blobs_in: Any, blob_out: Any, **kwargs: Any) -> Any:
    """Concat into ``[blob_out, _<blob_out>_concat_dims]``; returns blob_out. With
    both ``order`` and ``axis`` given, ``order`` is dropped (the op refuses both)."""
    if kwargs.get("order") and kwargs.get("axis"):
        kwargs.pop("order")
    return model.net.Concat(blobs_in, [blob_out, "_" + blob_out + "_concat_dims"],
                            **kwargs)[0]


def depth_concat(model: Any, blobs_in: Any, blob_out: Any, **kwargs: Any) -> Any:
    """The old name of concat."""
    return concat(model, blobs_in, blob_out, **kwargs)
