"""The ``caffe2lite run`` command, in process: nets, plans, inputs, outputs, seeds.

These tests use the test-only operators of the ``scratch_ops`` fixture (plus a fill
op registered here), so they do not depend on the operator library.
"""

from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support.cli import PLAN, SCALE_NET, npy, run

from caffe2lite.schema import registry
from caffe2lite.proto import caffe2_pb2
from caffe2lite.protoio import load_plan, save_proto
from caffe2lite.schema.opschema import Arg

INIT_NET = """name: "init"
op { output: "X" type: "TestFill" arg { name: "values" floats: [1.5, -2.0, 3.0] } }
"""
DOUBLE_IN_PLACE = """name: "double"
op { input: "X" output: "X" type: "TestScale" arg { name: "scale" f: 2.0 } }
external_input: "X"
"""
NOISE_NET = """name: "noise"
op { input: "X" output: "A" type: "TestNoise" }
op { input: "X" output: "B" type: "TestNoise" }
op { input: "X" output: "C" type: "TestNoise" device_option { random_seed: 77 } }
external_input: "X"
external_output: "A"
external_output: "B"
external_output: "C"
"""


@pytest.fixture
def ops(scratch_ops):
    """The scratch operators plus ``TestFill`` (a float32 vector from ``values``)."""

    @registry.register_cpu_operator(
        "TestFill",
        outputs=["Y"],
        args=[Arg("values", "floats", [])],
        doc="Y = values as float32. Example: values=[1, 2] -> Y=[1, 2]",
    )
    def test_fill(*, values):
        return (np.array(values, dtype=np.float32),)

    registry.no_gradient("TestFill")
    yield


# -- run ----------------------------------------------------------------------------


def test_run_with_init_prints_external_outputs(ops, files, capsys):
    f = files(net_pbtxt=SCALE_NET, init_pbtxt=INIT_NET)
    status, out, err = run(capsys, "run", f["net_pbtxt"], "--init", f["init_pbtxt"])
    assert (status, err) == (0, "")
    assert out == "Y: float32 shape (3,)\n[ 3., -4.,  6.]\n"


def test_run_inputs_outputs_and_save(ops, files, capsys, tmp_path):
    f = files(net_pbtxt=SCALE_NET)
    x = npy(tmp_path, "x.npy", np.array([[1, 2], [3, 4]], dtype=np.float64))
    save = tmp_path / "out.npz"
    status, out, _ = run(
        capsys,
        "run",
        f["net_pbtxt"],
        "--input",
        f"X={x}",
        "--output",
        "X",
        "--output",
        "Y",
        "--save",
        str(save),
    )
    assert status == 0
    assert out == (
        "X: float64 shape (2, 2)\n[[1., 2.],\n [3., 4.]]\n"
        "Y: float64 shape (2, 2)\n[[2., 4.],\n [6., 8.]]\n"
    )
    with np.load(save, allow_pickle=False) as saved:
        assert saved.files == ["X", "Y"]
        np.testing.assert_array_equal(saved["Y"], [[2.0, 4.0], [6.0, 8.0]])
        assert saved["Y"].dtype == np.float64


def test_run_inputs_npz_and_input_override(ops, files, capsys, tmp_path):
    f = files(net_pbtxt=SCALE_NET)
    archive = tmp_path / "in.npz"
    np.savez(archive, X=np.array([1, 2], dtype=np.int64))
    x = npy(tmp_path, "x.npy", np.array([5.0], dtype=np.float32))
    status, out, _ = run(capsys, "run", f["net_pbtxt"], "--inputs", str(archive))
    assert (status, out) == (0, "Y: float64 shape (2,)\n[2., 4.]\n")
    status, out, _ = run(
        capsys, "run", f["net_pbtxt"], "--inputs", str(archive), "--input", f"X={x}"
    )
    assert (status, out) == (0, "Y: float32 shape (1,)\n[10.]\n")


def test_run_inputs_win_over_init_blobs(ops, files, capsys, tmp_path):
    f = files(net_pbtxt=SCALE_NET, init_pbtxt=INIT_NET)
    x = npy(tmp_path, "x.npy", np.array([1.0], dtype=np.float32))
    status, out, _ = run(
        capsys, "run", f["net_pbtxt"], "--init", f["init_pbtxt"], "--input", f"X={x}"
    )
    assert (status, out) == (0, "Y: float32 shape (1,)\n[2.]\n")


def test_run_default_outputs_are_last_op_outputs_and_iters(
    ops, files, capsys, tmp_path
):
    f = files(net_pbtxt=DOUBLE_IN_PLACE)
    x = npy(tmp_path, "x.npy", np.array([1.0, 3.0], dtype=np.float32))
    status, out, _ = run(
        capsys, "run", f["net_pbtxt"], "--input", f"X={x}", "--iters", "3"
    )
    assert (status, out) == (0, "X: float32 shape (2,)\n[ 8., 24.]\n")


def test_run_unnamed_net_is_named_after_its_file(ops, files, capsys, tmp_path):
    f = files(net_pbtxt=DOUBLE_IN_PLACE.replace('name: "double"\n', ""))
    x = npy(tmp_path, "x.npy", np.array(1, dtype=np.int32))
    status, out, _ = run(capsys, "run", f["net_pbtxt"], "--input", f"X={x}")
    assert (status, out) == (0, "X: float64 shape ()\n2.\n")


def test_run_strings_print_and_save(ops, files, capsys, tmp_path):
    net = 'name: "n"\nop { input: "S" output: "T" type: "TestVariadic" }\n'
    f = files(net_pbtxt=net)
    s = npy(tmp_path, "s.npy", np.array(["ab", "c"]))
    save = tmp_path / "o.npz"
    status, out, _ = run(
        capsys, "run", f["net_pbtxt"], "--input", f"S={s}", "--save", str(save)
    )
    assert (status, out) == (0, "T: object shape (2,)\n[b'ab', b'c']\n")
    with np.load(save, allow_pickle=False) as saved:
        assert saved["T"].tolist() == [b"ab", b"c"]


def _noise(seed: int, x: np.ndarray) -> np.ndarray:
    return x + 0.5 * np.random.default_rng(seed).random(x.shape)


def test_run_seed_seeds_unseeded_ops_and_keeps_own_seeds(ops, files, capsys, tmp_path):
    f = files(net_pbtxt=NOISE_NET)
    x = np.zeros(3)
    xp = npy(tmp_path, "x.npy", x)
    save = tmp_path / "o.npz"
    args = (
        "run",
        f["net_pbtxt"],
        "--input",
        f"X={xp}",
        "--seed",
        "10",
        "--save",
        str(save),
    )
    status, first, _ = run(capsys, *args)
    assert status == 0
    with np.load(save) as saved:
        np.testing.assert_array_equal(saved["A"], _noise(10, x))
        np.testing.assert_array_equal(saved["B"], _noise(11, x))
        np.testing.assert_array_equal(saved["C"], _noise(77, x))
    assert run(capsys, *args)[1] == first


def test_run_seed_respects_the_net_device_option(ops, files, capsys, tmp_path):
    net = NOISE_NET.replace(
        'name: "noise"', 'name: "noise"\ndevice_option { random_seed: 5 }'
    )
    f = files(net_pbtxt=net)
    x = np.zeros(2)
    xp, save = npy(tmp_path, "x.npy", x), tmp_path / "o.npz"
    assert (
        run(
            capsys,
            "run",
            f["net_pbtxt"],
            "--input",
            f"X={xp}",
            "--seed",
            "10",
            "--save",
            str(save),
        )[0]
        == 0
    )
    with np.load(save) as saved:
        np.testing.assert_array_equal(saved["A"], _noise(5, x))
        np.testing.assert_array_equal(saved["B"], _noise(5, x))
        np.testing.assert_array_equal(saved["C"], _noise(77, x))


def test_seed_unseeded_ops_copies_the_net_option_before_seeding():
    from caffe2lite.cli.run import seed_unseeded_ops

    net = caffe2_pb2.NetDef(
        op=[caffe2_pb2.OperatorDef(type="A"), caffe2_pb2.OperatorDef(type="B")]
    )
    net.device_option.device_type = caffe2_pb2.CPU
    net.device_option.numa_node_id = 3
    net.op[1].device_option.device_id = 0
    seed_unseeded_ops(net, 2**32 - 1)
    assert net.op[0].device_option.numa_node_id == 3
    assert net.op[0].device_option.random_seed == 2**32 - 1
    assert not net.op[1].device_option.HasField("numa_node_id")
    assert net.op[1].device_option.random_seed == 0  # wraps around like a uint32


@pytest.mark.parametrize("binary", [False, True])
def test_run_plan_detected_text_and_binary(ops, files, capsys, tmp_path, binary):
    f = files(plan_pbtxt=PLAN)
    path = f["plan_pbtxt"]
    if binary:
        path = str(tmp_path / "plan.pb")
        save_proto(load_plan(f["plan_pbtxt"]), path)
    x = npy(tmp_path, "x.npy", np.array([1.0], dtype=np.float32))
    status, out, err = run(capsys, "run", path, "--input", f"X={x}")
    assert (status, out, err) == (0, "X: float32 shape (1,)\n[16.]\n", "")


def test_run_plan_flag_iters_and_init(ops, files, capsys, tmp_path):
    no_steps = PLAN.replace(
        'execution_step { name: "loop" network: "double" num_iter: 4 }\n', ""
    )
    f = files(plan_pbtxt=PLAN, bare_pbtxt=no_steps, init_pbtxt=INIT_NET)
    status, out, _ = run(
        capsys, "run", f["plan_pbtxt"], "--plan", "--init", f["init_pbtxt"]
    )
    assert (status, out) == (0, "X: float32 shape (3,)\n[ 24., -32.,  48.]\n")
    status, _, err = run(capsys, "run", f["plan_pbtxt"], "--iters", "2")
    assert status == 2
    assert err == (
        "caffe2lite: error: --iters does not apply to a plan: its execution steps "
        "say how many times each net runs (num_iter)\n"
    )
    # A plan without steps is read as a plan only when asked to.
    status, _, err = run(capsys, "run", f["bare_pbtxt"])
    assert status == 2 and 'has no field named "network"' in err
    status, out, _ = run(
        capsys,
        "run",
        f["bare_pbtxt"],
        "--plan",
        "--init",
        f["init_pbtxt"],
        "--output",
        "X",
    )
    assert (status, out) == (0, "X: float32 shape (3,)\n[ 1.5, -2. ,  3. ]\n")


def test_version_names_the_compiled_kernels(capsys):
    import caffe2lite
    from caffe2lite.ops import _embedding_native, _sparse_update_native, _speedups

    status, out, err = run(capsys, "--version")
    assert status == 0 and err == ""
    assert out == (f"caffe2lite {caffe2lite.__version__} (dropout ops: {_speedups.status}; "
                   f"sparse updates: {_sparse_update_native.status}; "
                   f"embedding lookups: {_embedding_native.status})\n")
    assert all(m.status for m in (_embedding_native, _sparse_update_native, _speedups))
