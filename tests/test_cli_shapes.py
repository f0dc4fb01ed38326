"""``caffe2lite inspect NET --shapes``: every blob's shape and type, op by op."""

from __future__ import annotations

import re

import numpy as np
import pytest
from c2l_test_support.cli import run
from c2l_test_support.realnets import REALNETS

from caffe2lite.cli.common import UsageError
from caffe2lite.cli.shapes import parse_input_shape, shape_lines
from caffe2lite.errors import ShapeError
from caffe2lite.schema.shapes import TensorShape

SMALL = """name: "small"
op { input: "emb" input: "ids" input: "lengths" output: "bag" type: "SparseLengthsSum" }
op { input: "bag" input: "w" input: "b" output: "fc" type: "FC" }
op { input: "fc" output: "fc" type: "Relu" }
op { input: "fc" output: "top" output: "top_idx" type: "TopK" arg { name: "k" i: 2 } }
op { input: "top" output: "mystery" type: "Qwxzq" }
op { input: "mystery" input: "top" output: "sum" type: "Add" }
"""
SMALL_INIT = """name: "small_init"
op { output: "emb" type: "GaussianFill" arg { name: "shape" ints: [10, 4] } }
op { output: "b" type: "ConstantFill" arg { name: "shape" ints: [3] } }
"""
SMALL_SHAPES = """net: small (6 ops)
  inputs (5):
    emb      float32[10, 4]  (init net)
    ids      int64[N]        (--input-shape)
    lengths  int32[B]        (--input-shape)
    w        float32[3, 4]   (value info)
    b        float32[3]      (init net)
  ops:
  #0 SparseLengthsSum: emb, ids, lengths -> bag
    bag      float32[B, 4]
  #1 FC: bag, w, b -> fc
    fc       float32[B, 3]
  #2 Relu: fc -> fc
    fc       float32[B, 3]
  #3 TopK: fc -> top, top_idx
    top      float32[B, 2]
    top_idx  int64[B, 2]
  #4 Qwxzq: top -> mystery
    mystery  ?  (op type not registered)
  #5 Add: mystery, top -> sum
    sum      ?
"""
BAD = """name: "bad"
op { input: "x" output: "y" type: "Relu" }
op { input: "y" input: "z" output: "s" type: "Add" }
op { input: "s" output: "t" type: "Relu" }
"""
ALEXNET_SHAPES = """net: AlexNet (23 ops)
  inputs (17):
    data          float32[1, 3, 224, 224]  (value info)
    conv1_w       ?                        (not given)
    conv1_b       ?                        (not given)
    conv2_w       ?                        (not given)
    conv2_b       ?                        (not given)
    conv3_w       ?                        (not given)
    conv3_b       ?                        (not given)
    conv4_w       ?                        (not given)
    conv4_b       ?                        (not given)
    conv5_w       ?                        (not given)
    conv5_b       ?                        (not given)
    fc6_w         ?                        (not given)
    fc6_b         ?                        (not given)
    fc7_w         ?                        (not given)
    fc7_b         ?                        (not given)
    fc8_w         ?                        (not given)
    fc8_b         ?                        (not given)
  ops:
  #0 Conv: data, conv1_w, conv1_b -> conv1
    conv1         float32[1, M, 54, 54]
  #1 Relu: conv1 -> conv1
    conv1         float32[1, M, 54, 54]
  #2 LRN: conv1 -> norm1, _norm1_scale
    norm1         float32[1, M, 54, 54]
    _norm1_scale  float32[1, M, 54, 54]
  #3 MaxPool: norm1 -> pool1
    pool1         float32[1, M, 26, 26]
  #4 Conv: pool1, conv2_w, conv2_b -> conv2
    conv2         float32[1, M, 26, 26]
  #5 Relu: conv2 -> conv2
    conv2         float32[1, M, 26, 26]
  #6 LRN: conv2 -> norm2, _norm2_scale
    norm2         float32[1, M, 26, 26]
    _norm2_scale  float32[1, M, 26, 26]
  #7 MaxPool: norm2 -> pool2
    pool2         float32[1, M, 12, 12]
  #8 Conv: pool2, conv3_w, conv3_b -> conv3
    conv3         float32[1, M, 12, 12]
  #9 Relu: conv3 -> conv3
    conv3         float32[1, M, 12, 12]
  #10 Conv: conv3, conv4_w, conv4_b -> conv4
    conv4         float32[1, M, 12, 12]
  #11 Relu: conv4 -> conv4
    conv4         float32[1, M, 12, 12]
  #12 Conv: conv4, conv5_w, conv5_b -> conv5
    conv5         float32[1, M, 12, 12]
  #13 Relu: conv5 -> conv5
    conv5         float32[1, M, 12, 12]
  #14 MaxPool: conv5 -> pool5
    pool5         float32[1, M, 6, 6]
  #15 FC: pool5, fc6_w, fc6_b -> fc6
    fc6           float32[?]
  #16 Relu: fc6 -> fc6
    fc6           float32[?]
  #17 Dropout: fc6 -> fc6, _fc6_mask
    fc6           float32[?]
    _fc6_mask     bool[?]
  #18 FC: fc6, fc7_w, fc7_b -> fc7
    fc7           float32[?]
  #19 Relu: fc7 -> fc7
    fc7           float32[?]
  #20 Dropout: fc7 -> fc7, _fc7_mask
    fc7           float32[?]
    _fc7_mask     bool[?]
  #21 FC: fc7, fc8_w, fc8_b -> fc8
    fc8           float32[?]
  #22 Softmax: fc8 -> prob
    prob          float32[?]
"""


def _enforce_free(text: str) -> str:
    """Without the ``[enforce fail at <file>:<line>] `` of Caffe2's enforce messages."""
    return re.sub(r"\[enforce fail at [^\]]*\] ", "", text)


def test_small_net_word_for_word(capsys, files):
    f = files(
        net_pbtxt=SMALL,
        init_pbtxt=SMALL_INIT,
        vi_json='{"w": [1, [3, 4]], "ids": [10, [7]]}',
    )
    status, out, err = run(
        capsys,
        "inspect",
        f["net_pbtxt"],
        "--shapes",
        "--init",
        f["init_pbtxt"],
        "--value-info",
        f["vi_json"],
        "--input-shape",
        "ids=int64[N]",
        "--input-shape",
        "lengths=int32[B]",
    )
    assert (status, err) == (0, "")
    assert out == SMALL_SHAPES


def test_the_first_op_whose_shapes_cannot_fit_is_named(capsys, files):
    f = files(net_pbtxt=BAD)
    status, out, err = run(
        capsys,
        "inspect",
        f["net_pbtxt"],
        "--shapes",
        "--input-shape",
        "x=float32[B,4]",
        "--input-shape",
        "z=float32[3]",
    )
    assert status == 1
    assert (
        out
        == """net: bad (3 ops)
  inputs (2):
    x  float32[B, 4]  (--input-shape)
    z  float32[3]     (--input-shape)
  ops:
  #0 Relu: x -> y
    y  float32[B, 4]
  #1 Add: y, z -> s
"""
    )
    assert _enforce_free(err) == (
        "caffe2lite: error: op #1 Add in net 'bad': A and B of shapes ('B', 4) and (3,) "
        "do not broadcast (expected broadcastable shapes, found ('B', 4) and (3,))\n"
    )


def test_shape_lines_raise_a_shape_error_with_the_op():
    net = load_net_text(BAD)
    lines = shape_lines(
        net,
        {"x": TensorShape((2, 4), np.float32), "z": TensorShape((5,), np.float32)},
        {},
    )
    with pytest.raises(ShapeError) as info:
        list(lines)
    e = info.value
    assert (e.op_type, e.op_index, e.net_name) == ("Add", 1, "bad")
    assert (e.expected, e.found) == ("broadcastable shapes", "(2, 4) and (5,)")


def load_net_text(text: str):
    from google.protobuf import text_format

    from caffe2lite.proto import caffe2_pb2

    return text_format.Parse(text, caffe2_pb2.NetDef())


def test_given_shapes_win_over_value_info_and_the_init_net(capsys, files):
    f = files(net_pbtxt=SMALL, init_pbtxt=SMALL_INIT, vi_json='{"emb": [1, [5, 4]]}')
    status, out, _ = run(
        capsys,
        "inspect",
        f["net_pbtxt"],
        "--shapes",
        "--init",
        f["init_pbtxt"],
        "--value-info",
        f["vi_json"],
    )
    assert status == 0
    assert "    emb      float32[5, 4]  (value info)\n" in out
    status, out, _ = run(
        capsys,
        "inspect",
        f["net_pbtxt"],
        "--shapes",
        "--init",
        f["init_pbtxt"],
        "--value-info",
        f["vi_json"],
        "--input-shape",
        "emb=float16[6,4]",
    )
    assert "    emb      float16[6, 4]  (--input-shape)\n" in out
    assert "    ids      ?              (not given)\n" in out


@pytest.mark.skipif(
    REALNETS is None, reason="shared/realnets is not beside the checkout"
)
def test_alexnet_with_its_value_info_word_for_word(capsys):
    zoo = REALNETS / "model_zoo"
    status, out, err = run(
        capsys,
        "inspect",
        str(zoo / "bvlc_alexnet__predict_net.pbtxt"),
        "--shapes",
        "--value-info",
        str(zoo / "bvlc_alexnet__value_info.json"),
    )
    assert (status, err) == (0, "")
    assert out == ALEXNET_SHAPES


@pytest.mark.parametrize(
    "text,name,dims,dtype",
    [
        ("ids=int64[N]", "ids", ("N",), np.int64),
        ("data=float32[1, 3,224,224]", "data", (1, 3, 224, 224), np.float32),
        ("gpu_0/x=bool[]", "gpu_0/x", (), np.bool_),
        ("a=b=uint8[batch_size,0]", "a=b", ("batch_size", 0), np.uint8),
    ],
)
def test_parse_input_shape(text, name, dims, dtype):
    assert parse_input_shape(text) == (name, TensorShape(dims, np.dtype(dtype)))


@pytest.mark.parametrize(
    "text,message",
    [
        (
            "x=int32",
            (
                "--input-shape 'x=int32' is not of the form NAME=DTYPE[d0,d1,...], "
                "such as ids=int64[N] or data=float32[1,3,224,224]"
            ),
        ),
        (
            "=int32[3]",
            (
                "--input-shape '=int32[3]' is not of the form NAME=DTYPE[d0,d1,...], "
                "such as ids=int64[N] or data=float32[1,3,224,224]"
            ),
        ),
        (
            "x=int4[3]",
            (
                "--input-shape 'x=int4[3]': unknown data type 'int4'; use one of "
                "float16, float32, float64, int8, int16, int32, int64, uint8, uint16, bool"
            ),
        ),
        (
            "x=int32[3,-1]",
            (
                "--input-shape 'x=int32[3,-1]': dimension '-1' is neither a "
                "non-negative integer nor a symbol such as N"
            ),
        ),
        (
            "x=int32[3,,4]",
            (
                "--input-shape 'x=int32[3,,4]': dimension '' is neither a "
                "non-negative integer nor a symbol such as N"
            ),
        ),
    ],
)
def test_bad_input_shapes(text, message):
    with pytest.raises(UsageError) as info:
        parse_input_shape(text)
    assert str(info.value) == message


def test_shape_options_need_shapes(capsys, files):
    f = files(net_pbtxt=BAD)
    status, out, err = run(
        capsys,
        "inspect",
        f["net_pbtxt"],
        "--input-shape",
        "x=int32[1]",
        "--init",
        f["net_pbtxt"],
    )
    assert (status, out, err) == (
        2,
        "",
        "caffe2lite: error: --input-shape, --init only applies with --shapes\n",
    )
    status, _, err = run(
        capsys, "inspect", f["net_pbtxt"], "--shapes", "--input-shape", "x=int32"
    )
    assert status == 2 and err.startswith(
        "caffe2lite: error: --input-shape 'x=int32' is"
    )


def test_plain_inspect_is_unchanged(capsys, files):
    f = files(net_pbtxt=BAD)
    status, out, _ = run(capsys, "inspect", f["net_pbtxt"])
    assert status == 0 and out.startswith("net: bad\ntype: simple (default)\n")


def test_a_plan_walks_its_networks_in_order(capsys, files):
    plan = """name: "p"
network { name: "make" op { output: "X" type: "ConstantFill"
          arg { name: "shape" ints: [2, 3] } } }
network { name: "use" op { input: "X" output: "Y" type: "Relu" } }
execution_step { name: "s" network: "make" network: "use" }
"""
    f = files(plan_pbtxt=plan)
    status, out, err = run(capsys, "inspect", f["plan_pbtxt"], "--shapes")
    assert (status, err) == (0, "")
    assert (
        out
        == """net: make (1 ops)
  inputs (0):
  ops:
  #0 ConstantFill: - -> X
    X  float32[2, 3]
net: use (1 ops)
  inputs (1):
    X  float32[2, 3]  (made by an earlier net)
  ops:
  #0 Relu: X -> Y
    Y  float32[2, 3]
"""
    )


def test_an_input_shape_no_op_reads_is_an_error(capsys, files):
    f = files(net_pbtxt=BAD)
    status, out, err = run(
        capsys, "inspect", f["net_pbtxt"], "--shapes", "--input-shape", "xx=float32[2]"
    )
    assert (status, out, err) == (
        2,
        "",
        (
            "caffe2lite: error: --input-shape gives the shape of blob 'xx' that no "
            "op reads; did you mean 'x'?\n"
        ),
    )
    status, out, err = run(
        capsys,
        "inspect",
        f["net_pbtxt"],
        "--shapes",
        "--input-shape",
        "q=float32[2]",
        "--input-shape",
        "t=float32[2]",
    )
    assert (status, out, err) == (
        2,
        "",
        (
            "caffe2lite: error: --input-shape gives the shape of blobs 'q', 't' that "
            "no op reads\n"
        ),
    )
