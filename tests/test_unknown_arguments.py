"""Arguments an op's schema does not declare: a warning naming the op, the argument
and the closest declared names (an error in strict mode); Caffe2's generic
arguments stay silent."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from c2l_test_support.cli import npy, run

from caffe2lite import core, workspace
from caffe2lite.errors import ArgumentError, UnknownArgumentWarning
from caffe2lite.schema.opschema import GENERIC_ARGUMENTS


@pytest.fixture(autouse=True)
def fresh_workspace():
    workspace.ResetWorkspace()
    workspace.SetStrict(False)
    yield
    workspace.SetStrict(False)
    workspace.ResetWorkspace()


def _scale_net(**args) -> core.Net:
    net = core.Net("scaled")
    net.Scale("X", "Y", **args)
    workspace.FeedBlob("X", np.array([1.0, 2.0], dtype=np.float32))
    return net


def test_misspelt_argument_warns_with_the_closest_declared_name():
    net = _scale_net(scael=2.0)
    with pytest.warns(UnknownArgumentWarning) as record:
        workspace.CreateNet(net)
    assert [str(w.message) for w in record] == [
        f"op #0 Scale in net '{net.Name()}': argument 'scael' is not declared by Scale; "
        "did you mean 'scale'?"
    ]
    assert record[0].filename == __file__  # points at the caller, not caffe2lite
    workspace.RunNet(net.Name())  # ignored, as Caffe2 ignored it: the default scale 1
    np.testing.assert_array_equal(workspace.FetchBlob("Y"), [1.0, 2.0])


def test_warning_lists_the_declared_names_when_none_is_close():
    net = core.Net("r")
    net.Relu("X", "Y", alpha=0.1)
    net.Dropout("Y", "Z", zzz=1, is_test=1)
    workspace.FeedBlob("X", np.zeros(2, np.float32))
    with pytest.warns(UnknownArgumentWarning) as record:
        workspace.CreateNet(net)
    n = net.Name()
    assert [str(w.message) for w in record] == [
        f"op #0 Relu in net '{n}': argument 'alpha' is not declared by Relu; it declares "
        "no arguments",
        f"op #1 Dropout in net '{n}': argument 'zzz' is not declared by Dropout; it "
        "declares 'ratio', 'is_test'",
    ]
    assert issubclass(UnknownArgumentWarning, UserWarning)


def test_run_operator_once_warns_too():
    workspace.FeedBlob("X", np.array([1.0], dtype=np.float32))
    with pytest.warns(UnknownArgumentWarning, match=r"^op Scale: argument 'raito' "):
        workspace.RunOperatorOnce(core.CreateOperator("Scale", "X", "Y", raito=0.5))


def test_strict_mode_makes_it_an_error_before_anything_runs():
    workspace.SetStrict(True)
    assert workspace.IsStrict()
    net = _scale_net(scael=2.0)
    with pytest.raises(ArgumentError) as e:
        workspace.CreateNet(net)
    assert str(e.value) == (
        f"op #0 Scale in net '{net.Name()}': argument 'scael' is not declared by Scale; "
        "did you mean 'scale'? (argument 'scael')"
    )
    assert not workspace.HasBlob("Y")


@pytest.mark.parametrize("name", sorted(GENERIC_ARGUMENTS))
def test_generic_arguments_are_silent(name):
    net = core.Net("g")
    net.Relu("X", "Y", **{name: 1})
    workspace.FeedBlob("X", np.zeros(2, np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        workspace.CreateNet(net)
    workspace.SetStrict(True)
    workspace.CreateNet(net, overwrite=True)


def test_gradient_ops_carry_forward_arguments_silently():
    # The gradient maker copies LeakyRelu's 'alpha' to LeakyReluGradient; a gradient
    # op's arguments are not checked, even in strict mode.
    net = core.Net("grad")
    net.LeakyRelu("X", "Y", alpha=0.25)
    workspace.FeedBlob("X", np.array([-4.0, 2.0], dtype=np.float32))
    net.AddGradientOperators(["Y"])
    grad_ops = [op for op in net.Proto().op if op.is_gradient_op]
    assert [op.type for op in grad_ops] == ["LeakyReluGradient"]
    assert [a.name for a in grad_ops[0].arg] == ["alpha"]
    gop = core.CreateOperator("LeakyReluGradient", ["Y", "Y_autogen_grad"], ["dX"], alpha=0.25,
                              unexpected=1)
    gop.is_gradient_op = True
    net.Proto().op.extend([gop])
    workspace.SetStrict(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        workspace.CreateNet(net)
    workspace.RunNet(net.Name())
    np.testing.assert_array_equal(workspace.FetchBlob("X_grad"), [0.25, 1.0])


def test_declared_arguments_and_generic_order_where_declared_are_parsed():
    net = core.Net("c")
    net.MaxPool("X", "Y", kernel=2, order="NHWC", use_cudnn=True)
    workspace.FeedBlob("X", np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        workspace.CreateNet(net)
    workspace.RunNet(net.Name())
    np.testing.assert_array_equal(workspace.FetchBlob("Y"), [[[[6.0, 7.0]]]])


NET = """name: "scaled"
op { input: "X" output: "Y" type: "Scale" arg { name: "scael" f: 2.0 } }
external_input: "X"
external_output: "Y"
"""


def test_cli_prints_a_warning_line_and_strict_refuses(files, capsys, tmp_path):
    f = files(net_pbtxt=NET)
    x = npy(tmp_path, "x.npy", np.array([1.0], dtype=np.float32))
    status, out, err = run(capsys, "run", f["net_pbtxt"], "--input", f"X={x}")
    assert status == 0
    assert out == "Y: float32 shape (1,)\n[1.]\n"
    assert err == (
        "caffe2lite: warning: op #0 Scale in net 'scaled': argument 'scael' is not "
        "declared by Scale; did you mean 'scale'?\n"
    )
    status, out, err = run(capsys, "run", f["net_pbtxt"], "--input", f"X={x}", "--strict")
    assert (status, out) == (2, "")
    assert err == (
        "caffe2lite: error: net 'scaled' cannot run: 1 problem found before anything "
        "ran:\n"
        "  - op #0 Scale in net 'scaled': argument 'scael' is not declared by Scale; "
        "did you mean 'scale'? (argument 'scael')\n"
    )
    assert not workspace.IsStrict()  # the command restores the mode
