"""Input helpers: image_input and video_input (their ops are not part of caffe2lite;
the helpers build the same nets as Caffe2's)."""

from __future__ import annotations

from typing import Any


def image_input(model: Any, blob_in: Any, blob_out: Any, order: str = "NCHW",
                use_gpu_transform: bool = False, **kwargs: Any) -> Any:
    if order == "NCHW":
        if use_gpu_transform:
            kwargs["use_gpu_transform"] = 1 if use_gpu_transform else 0
            data, label = model.net.ImageInput(blob_in, [blob_out[0], blob_out[1]],
                                               **kwargs)
        else:
            data, label = model.net.ImageInput(
                blob_in, [blob_out[0] + "_nhwc", blob_out[1]], **kwargs)
            data = model.net.NHWC2NCHW(data, blob_out[0])
    else:
        data, label = model.net.ImageInput(blob_in, blob_out, **kwargs)
    return data, label


def video_input(model: Any, blob_in: Any, blob_out: Any, **kwargs: Any) -> Any:
    data, label = model.net.VideoInput(blob_in, blob_out, **kwargs)
    return data, label
