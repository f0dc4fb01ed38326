"""``brew.dropout``."""

from __future__ import annotations

from typing import Any


def dropout(model: Any, blob_in: Any, blob_out: Any, use_cudnn: bool = False,
            **kwargs: Any) -> Any:
    """Dropout into ``[blob_out, _<blob_out>_mask]``; ``is_test`` must be given."""
    kwargs["engine"] = "CUDNN" if use_cudnn else "DEFAULT"
    assert "is_test" in kwargs, "Argument 'is_test' is required"
    return model.net.Dropout(blob_in, [blob_out, "_" + blob_out + "_mask"], **kwargs)[0]
