"""The Detectron Faster R-CNN (R-50-C4) predict net of shared/realnets/model_zoo runs end
to end on a small random image with random weights: GenerateProposals, RoIAlign,
BBoxTransform and BoxWithNMSLimit take each other's outputs as Caffe2's did. The zoo
file ships no weights; the RPN and box-regression weights are given the sizes their
anchors and classes imply (the generic random initialisation cannot tell them, nor the
data-decided number of proposals)."""

from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support.realnets import REALNETS

from caffe2lite.inference.params import random_parameters
from caffe2lite.io.protoio import load_net
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema.shapes import TensorShape, shape_of
from caffe2lite.workspace import Workspace

pytestmark = [
    pytest.mark.skipif(
        REALNETS is None, reason="shared/realnets is not beside the checkout"
    ),
    # the files carry arguments Caffe2 ignored (order on Relu, nms_thres, Int8FC axis)
    pytest.mark.filterwarnings("ignore::caffe2lite.errors.UnknownArgumentWarning"),
]

NET = "model_zoo/detectron__e2e_faster_rcnn_R-50-C4_1x__predict_net.pbtxt"
H = 160
A = 8  # anchors, = the free dimension random init gives the RPN's score conv
C = 8  # classes, = the free dimension of cls_score


def _part(net, ops, extra_inputs=()):
    n = caffe2_pb2.NetDef()
    n.CopyFrom(net)
    del n.op[:]
    n.op.extend(ops)
    del n.external_output[:]
    n.external_input.extend(extra_inputs)
    return n


def _anchors():
    out = []
    for ratio, sizes in ((0.5, (32, 64, 128)), (1.0, (32, 64, 128)), (2.0, (32, 64))):
        for s in sizes:
            w, h = s / np.sqrt(ratio), s * np.sqrt(ratio)
            out.append(
                [
                    7.5 - (w - 1) / 2,
                    7.5 - (h - 1) / 2,
                    7.5 + (w - 1) / 2,
                    7.5 + (h - 1) / 2,
                ]
            )
    return np.array(out, np.float32)


def _regression(rng, params, name, rows):
    params[name + "_w"] = (
        rng.standard_normal((rows,) + params[name + "_w"].shape[1:]) * 0.01
    ).astype(np.float32)
    params[name + "_b"] = np.zeros(rows, np.float32)


def test_faster_rcnn_runs_end_to_end():
    net = load_net(REALNETS / NET)
    cut = next(i for i, op in enumerate(net.op) if op.type == "RoIAlign")
    head = _part(net, net.op[:cut])
    tail = _part(net, net.op[cut:], ["res4_5_sum", "rpn_rois"])
    rng = np.random.default_rng(0)
    ws = Workspace()
    params = random_parameters(
        head,
        {
            "data": TensorShape((1, 3, H, H), np.float32),
            "im_info": TensorShape((1, 3), np.float32),
            "anchor": TensorShape((A, 4), np.float32),
        },
        seed=0,
    )
    _regression(rng, params, "rpn_bbox_pred", 4 * A)
    for k, v in params.items():
        ws.feed_blob(k, v)
    ws.feed_blob("data", rng.standard_normal((1, 3, H, H)).astype(np.float32))
    ws.feed_blob("im_info", np.array([[H, H, 1.0]], np.float32))
    ws.feed_blob("anchor", _anchors())
    ws.run_net_once(head)
    known = {
        b: shape_of(ws.fetch_blob(b)) for b in ("res4_5_sum", "rpn_rois", "im_info")
    }
    params = random_parameters(tail, known, seed=1)
    _regression(rng, params, "bbox_pred", 4 * C)
    for k, v in params.items():
        ws.feed_blob(k, v)
    ws.run_net_once(tail)

    rois, probs = ws.fetch_blob("rpn_rois"), ws.fetch_blob("rpn_roi_probs")
    assert 0 < len(rois) <= 1000 and rois.shape[1] == 5 and (rois[:, 0] == 0).all()
    assert (rois[:, 1:] >= 0).all() and (rois[:, 1:] <= H - 1).all()
    assert (np.diff(probs) <= 0).all()  # NMS keeps the score order
    assert ws.fetch_blob("pool5").shape == (len(rois), 8, 14, 14)
    assert ws.fetch_blob("pred_bbox").shape == (len(rois), 4 * C)
    scores, boxes, classes = (
        ws.fetch_blob(b) for b in ("score_nms", "bbox_nms", "class_nms")
    )
    assert len(scores) == len(boxes) == len(classes) <= 100
    assert (scores > 0.05).all() and set(classes.tolist()) <= set(range(1, C))
    assert (np.diff(classes) >= 0).all()
    assert (boxes >= 0).all() and (boxes <= H - 1).all()
