"""ResNet and ResNeXt built with brew, as Caffe2's ``models.resnet`` built them.

The blob and parameter names are Caffe2's (``conv1``, ``comp_<i>_conv_<j>``,
``comp_<i>_spatbn_<j>``, ``shortcut_projection_<i>``, ``final_avg``,
``last_out_L<labels>`` ...), so parameters saved by a Caffe2 training script load
into the model this module builds, and its nets match the ones Caffe2 wrote.

- :func:`create_resnet50`: ResNet-50 (ResNeXt-50 1x64d), for 224x224 images by default;
  ``conv1_kernel``, ``conv1_stride`` and ``final_avg_kernel`` adapt it to other sizes.
- :func:`create_resnext`: 18, 34, 50, 101, 152 or 200 layers, ``num_groups`` x
  ``num_width_per_group`` wide bottlenecks (18 and 34 layers keep the bottleneck
  blocks with 64-512 filters, as Caffe2 did).
- :func:`create_resnet_32x32`: the CIFAR-size net of He et al. section 4.2.
"""

from __future__ import annotations

import logging
from typing import Any

from caffe2lite import brew as _brew
from caffe2lite.errors import ApiValueError

brew: Any = _brew  # (its helpers are registered at import: untyped attributes)

__all__ = ["RESNEXT_BLOCK_CONFIG", "RESNEXT_STRIDES", "ResNetBuilder",
           "create_resnet50", "create_resnet_32x32", "create_resnext"]

RESNEXT_BLOCK_CONFIG = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
    200: (3, 24, 36, 3),
}
RESNEXT_STRIDES = [1, 2, 2, 2]
_MSRA: tuple[str, dict] = ("MSRAFill", {})

log = logging.getLogger("resnext_builder")


class ResNetBuilder:
    """Adds residual components one after another to ``model``, starting from
    ``prev_blob``; ``comp_count`` numbers the components, ``comp_idx`` the layers in
    the current one (both appear in the blob names)."""

    def __init__(self, model: Any, prev_blob: Any, no_bias: Any, is_test: bool,
                 bn_epsilon: float = 1e-5, bn_momentum: float = 0.9) -> None:
        self.model = model
        self.comp_count = 0
        self.comp_idx = 0
        self.prev_blob = prev_blob
        self.is_test = is_test
        self.bn_epsilon = bn_epsilon
        self.bn_momentum = bn_momentum
        self.no_bias = 1 if no_bias else 0

    def add_conv(self, in_filters: int, out_filters: int, kernel: int, stride: int = 1,
                 group: int = 1, pad: int = 0) -> Any:
        """A convolution ``comp_<c>_conv_<i>`` (MSRA-initialised) after the last blob."""
        self.comp_idx += 1
        self.prev_blob = brew.conv(
            self.model, self.prev_blob, f"comp_{self.comp_count}_conv_{self.comp_idx}",
            in_filters, out_filters, weight_init=_MSRA, kernel=kernel, stride=stride,
            group=group, pad=pad, no_bias=self.no_bias)
        return self.prev_blob

    def add_relu(self) -> Any:
        """Relu in place on the last blob."""
        self.prev_blob = brew.relu(self.model, self.prev_blob, self.prev_blob)
        return self.prev_blob

    def add_spatial_bn(self, num_filters: int) -> Any:
        """SpatialBN ``comp_<c>_spatbn_<i>`` of the last blob."""
        self.prev_blob = brew.spatial_bn(
            self.model, self.prev_blob, f"comp_{self.comp_count}_spatbn_{self.comp_idx}",
            num_filters, epsilon=self.bn_epsilon, momentum=self.bn_momentum,
            is_test=self.is_test)
        return self.prev_blob

    def _shortcut(self, blob: Any, input_filters: int, output_filters: int, stride: int,
                  spatial_batch_norm: bool, bn_epsilon: float,
                  bn_momentum: float | None) -> Any:
        """The projection of the shortcut when the number of feature maps changes."""
        blob = brew.conv(self.model, blob, f"shortcut_projection_{self.comp_count}",
                         input_filters, output_filters, weight_init=_MSRA, kernel=1,
                         stride=stride, no_bias=self.no_bias)
        if spatial_batch_norm:
            extra = {} if bn_momentum is None else {"momentum": bn_momentum}
            blob = brew.spatial_bn(self.model, blob,
                                   f"shortcut_projection_{self.comp_count}_spatbn",
                                   output_filters, epsilon=bn_epsilon, is_test=self.is_test,
                                   **extra)
        return blob

    def _finish(self, shortcut: Any, last: Any) -> None:
        self.prev_blob = brew.sum(self.model, [shortcut, last],
                                  f"comp_{self.comp_count}_sum_{self.comp_idx}")
        self.comp_idx += 1
        self.add_relu()
        self.comp_count += 1

    def add_bottleneck(self, input_filters: int, base_filters: int, output_filters: int,
                       stride: int = 1, group: int = 1,
                       spatial_batch_norm: bool = True) -> int:
        """A bottleneck component (He et al. figure 3, right): 1x1, 3x3 (``stride``,
        ``group``), 1x1 convolutions, each with SpatialBN, plus the shortcut; returns
        ``output_filters``."""
        self.comp_idx = 0
        shortcut = self.prev_blob
        self.add_conv(input_filters, base_filters, kernel=1)
        if spatial_batch_norm:
            self.add_spatial_bn(base_filters)
        self.add_relu()
        self.add_conv(base_filters, base_filters, kernel=3, stride=stride, group=group, pad=1)
        if spatial_batch_norm:
            self.add_spatial_bn(base_filters)
        self.add_relu()
        last = self.add_conv(base_filters, output_filters, kernel=1)
        if spatial_batch_norm:
            last = self.add_spatial_bn(output_filters)
        if output_filters != input_filters:
            shortcut = self._shortcut(shortcut, input_filters, output_filters, stride,
                                      spatial_batch_norm, self.bn_epsilon, self.bn_momentum)
        self._finish(shortcut, last)
        return output_filters

    def add_simple_block(self, input_filters: int, num_filters: int,
                         down_sampling: bool = False, spatial_batch_norm: bool = True) -> None:
        """Two 3x3 convolutions with SpatialBN plus the shortcut (stride 2 when
        ``down_sampling``)."""
        self.comp_idx = 0
        shortcut = self.prev_blob
        stride = 2 if down_sampling else 1
        self.add_conv(input_filters, num_filters, kernel=3, stride=stride, pad=1)
        if spatial_batch_norm:
            self.add_spatial_bn(num_filters)
        self.add_relu()
        last = self.add_conv(num_filters, num_filters, kernel=3, pad=1)
        if spatial_batch_norm:
            last = self.add_spatial_bn(num_filters)
        if num_filters != input_filters:  # Caffe2 used epsilon 1e-3 and the default
            shortcut = self._shortcut(shortcut, input_filters, num_filters, stride,  # momentum
                                      spatial_batch_norm, 1e-3, None)
        self._finish(shortcut, last)


def create_resnet_32x32(model: Any, data: Any, num_input_channels: int, num_groups: int,
                        num_labels: int, is_test: bool = False) -> Any:
    """The residual net for 32x32 images (He et al. section 4.2; ``num_groups`` is n):
    returns the ``softmax`` blob."""
    brew.conv(model, data, "conv1", num_input_channels, 16, kernel=3, stride=1)
    brew.spatial_bn(model, "conv1", "conv1_spatbn", 16, epsilon=1e-3, is_test=is_test)
    brew.relu(model, "conv1_spatbn", "relu1")
    filters = [16, 32, 64]
    builder = ResNetBuilder(model, "relu1", no_bias=0, is_test=is_test)
    previous = 16
    for group_idx in range(3):
        for block_idx in range(2 * num_groups):
            builder.add_simple_block(previous if block_idx == 0 else filters[group_idx],
                                     filters[group_idx],
                                     down_sampling=block_idx == 0 and group_idx > 0)
        previous = filters[group_idx]
    brew.average_pool(model, builder.prev_blob, "final_avg", kernel=8, stride=1)
    brew.fc(model, "final_avg", "last_out", 64, num_labels)
    return brew.softmax(model, "last_out", "softmax")


def create_resnext(model: Any, data: Any, num_input_channels: int, num_labels: int,
                   num_layers: int, num_groups: int, num_width_per_group: int,
                   label: Any = None, is_test: bool = False, no_loss: bool = False,
                   no_bias: Any = 1, conv1_kernel: int = 7, conv1_stride: int = 2,
                   final_avg_kernel: int = 7, log: Any = None, bn_epsilon: float = 1e-5,
                   bn_momentum: float = 0.9) -> Any:
    """ResNeXt with ``num_layers`` layers: the last FC blob when ``no_loss``, else
    ``(softmax, loss)`` from SoftmaxWithLoss with ``label``, else the softmax blob."""
    if num_layers not in RESNEXT_BLOCK_CONFIG:
        raise ApiValueError(f"{num_layers}-layer is invalid for resnext config",
                            arg="num_layers", expected=sorted(RESNEXT_BLOCK_CONFIG),
                            found=num_layers)
    num_blocks = RESNEXT_BLOCK_CONFIG[num_layers]
    num_filters = [64, 64, 128, 256, 512] if num_layers in (18, 34) else \
        [64, 256, 512, 1024, 2048]
    conv = brew.conv(model, data, "conv1", num_input_channels, num_filters[0],
                     weight_init=_MSRA, kernel=conv1_kernel, stride=conv1_stride, pad=3,
                     no_bias=no_bias)
    bn = brew.spatial_bn(model, conv, "conv1_spatbn_relu", num_filters[0],
                         epsilon=bn_epsilon, momentum=bn_momentum, is_test=is_test)
    relu = brew.relu(model, bn, bn)
    pool = brew.max_pool(model, relu, "pool1", kernel=3, stride=2, pad=1)
    # (the residual blocks keep epsilon 1e-5 and momentum 0.9, as in Caffe2)
    builder = ResNetBuilder(model, pool, no_bias=no_bias, is_test=is_test)
    inner = num_groups * num_width_per_group
    for stage in range(4):
        dim_in = num_filters[stage]
        for block in range(num_blocks[stage]):
            dim_in = builder.add_bottleneck(
                dim_in, inner, num_filters[stage + 1],
                stride=RESNEXT_STRIDES[stage] if block == 0 else 1, group=num_groups)
        inner *= 2
    final_avg = brew.average_pool(model, builder.prev_blob, "final_avg",
                                  kernel=final_avg_kernel, stride=1, global_pooling=True)
    last_out = brew.fc(model, final_avg, f"last_out_L{num_labels}", num_filters[-1],
                       num_labels)
    if no_loss:
        return last_out
    if label is not None:
        softmax, loss = model.SoftmaxWithLoss([last_out, label], ["softmax", "loss"])
        return softmax, loss
    return brew.softmax(model, last_out, "softmax")


def create_resnet50(model: Any, data: Any, num_input_channels: int, num_labels: int,
                    label: Any = None, is_test: bool = False, no_loss: bool = False,
                    no_bias: Any = 0, conv1_kernel: int = 7, conv1_stride: int = 2,
                    final_avg_kernel: int = 7) -> Any:
    """ResNet-50: :func:`create_resnext` with 50 layers, 1 group of width 64."""
    return create_resnext(model, data, num_input_channels, num_labels, num_layers=50,
                          num_groups=1, num_width_per_group=64, label=label,
                          is_test=is_test, no_loss=no_loss, no_bias=no_bias,
                          conv1_kernel=conv1_kernel, conv1_stride=conv1_stride,
                          final_avg_kernel=final_avg_kernel)
