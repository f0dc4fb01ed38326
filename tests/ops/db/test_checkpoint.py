"""Checkpoint: saves every ``every`` iterations under a sprintf-style name."""

from __future__ import annotations

import json

import numpy as np
import pytest
from caffe2lite.ops.db.checkpoint import format_pattern

from caffe2lite import core, workspace
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.io.blobproto import deserialize_records
from caffe2lite.io.db import read_db
from caffe2lite.testing import check_raises


def test_format_pattern_as_sprintf():
    assert format_pattern("/c/at_%08d.db", 42) == "/c/at_00000042.db"
    assert format_pattern("at_%ld_%%", 7) == "at_7_%"
    assert format_pattern("fixed", 7) == "fixed"
    assert format_pattern("%x", 255) == "ff"


def test_every_n_iterations_in_a_net(ws_root):
    net = core.Net("train")
    net.Add(["iter", "one"], "iter")
    net.Checkpoint(["iter", "w"], [], db="ckpt_%03d.minidb", db_type="minidb", every=2)
    workspace.FeedBlob("iter", np.array([0], np.int64))
    workspace.FeedBlob("one", np.array([1], np.int64))
    workspace.FeedBlob("w", np.arange(3, dtype=np.float32))
    workspace.CreateNet(net)
    workspace.RunNet(net.Proto().name, 5)
    files = sorted(p.name for p in ws_root.iterdir())
    assert files == ["ckpt_002.minidb", "ckpt_004.minidb"]
    saved = deserialize_records(read_db("minidb", str(ws_root / "ckpt_004.minidb")))
    assert list(saved) == ["iter", "w"]  # the counter is saved too
    np.testing.assert_array_equal(saved["iter"], [4])
    np.testing.assert_array_equal(saved["w"], np.arange(3, dtype=np.float32))


def test_errors():
    it = np.array([2], np.int64)
    check_raises(CreateOperator("Checkpoint", ["it"], [], db_type="minidb"), [it],
                 EnforceError, "Must specify a checkpoint file pattern.")
    check_raises(CreateOperator("Checkpoint", ["it"], [], db="x%d", db_type="minidb",
                                every=0), [it], EnforceError,
                 "Checkpoint interval should be positive.")
    check_raises(CreateOperator("Checkpoint", ["it"], [], db="x%d", db_type="minidb"),
                 [np.array([2], np.int32)], DTypeError, "int64")
    check_raises(CreateOperator("Checkpoint", ["it"], [], db="x%d", db_type="minidb"),
                 [np.zeros(0, np.int64)], EnforceError, "iteration counter is empty")


def test_skipped_iteration_writes_nothing(tmp_path):
    from caffe2lite.runtime.net import run_operator_once

    blobs = {"it": np.array([3], np.int64)}
    run_operator_once(CreateOperator("Checkpoint", ["it"], [], absolute_path=1,
                                     db=str(tmp_path / "c%d"), db_type="minidb",
                                     every=2), blobs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("op_type", ["Checkpoint", "Snapshot"])
def test_gradient_decision(op_type):
    from caffe2lite.schema import registry

    assert registry.gradient_entry(op_type).kind == "should_not_do_gradient"


def _train_model():
    from caffe2lite import brew, model_helper, optimizer

    train = model_helper.ModelHelper(name="ckpt_train")
    train.param_init_net.Proto().device_option.random_seed = 3
    h = brew.relu(train, brew.fc(train, "x", "fc1", dim_in=2, dim_out=4), "fc1_relu")
    logit = brew.fc(train, h, "logit", dim_in=4, dim_out=1)
    xent = train.net.SigmoidCrossEntropyWithLogits([logit, "label"], "xent")
    train.AddGradientOperators([train.AveragedLoss(xent, "loss")])
    optimizer.build_sgd(train, base_learning_rate=0.3, momentum=0.9, policy="step",
                        stepsize=2, gamma=0.5)
    state = [str(p) for p in train.GetParams()]
    state += [f"{p}_momentum" for p in state]
    train.net.Checkpoint(["optimizer_iteration"] + state, [], db="ckpt_%05d.minidb",
                         db_type="minidb", every=3)
    return train, state


def _batch(step):
    rng = np.random.default_rng(100 + step)
    x = rng.uniform(-1, 1, (8, 2)).astype(np.float32)
    return x, (x.sum(axis=1, keepdims=True) > 0).astype(np.float32)


def _run_steps(train, steps):
    for step in steps:
        x, y = _batch(step)
        workspace.FeedBlob("x", x)
        workspace.FeedBlob("label", y)
        workspace.RunNet(train.net.Proto().name)


def test_resume_from_a_checkpoint_equals_an_uninterrupted_run(tmp_path):
    """Checkpoint in the train net every 3 iterations; a run resumed from the
    iteration-3 checkpoint (after a simulated crash) ends with the same parameters,
    momenta and iteration, bit for bit, as the run that was never interrupted."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    try:
        workspace.ResetWorkspace(str(tmp_path / "a"))
        train, state = _train_model()
        workspace.FeedBlob("x", _batch(1)[0])
        workspace.FeedBlob("label", _batch(1)[1])
        workspace.RunNetOnce(train.param_init_net)
        workspace.CreateNet(train.net)
        _run_steps(train, range(1, 7))
        assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
            "ckpt_00003.minidb", "ckpt_00006.minidb"]
        final = {b: workspace.FetchBlob(b) for b in state + ["optimizer_iteration"]}

        workspace.ResetWorkspace(str(tmp_path / "b"))  # the crash: everything is gone
        workspace.FeedBlob("x", _batch(4)[0])
        workspace.FeedBlob("label", _batch(4)[1])
        workspace.RunNetOnce(train.param_init_net)  # the mutex and fresh values
        workspace.RunOperatorOnce(CreateOperator(
            "Load", [], [], db=str(tmp_path / "a" / "ckpt_00003.minidb"),
            absolute_path=1, db_type="minidb", load_all=1))
        np.testing.assert_array_equal(workspace.FetchBlob("optimizer_iteration"), [3])
        workspace.CreateNet(train.net)
        _run_steps(train, range(4, 7))
        for name, value in final.items():
            got = workspace.FetchBlob(name)
            assert got.dtype == value.dtype
            assert got.tobytes() == value.tobytes(), name
        assert (tmp_path / "b" / "ckpt_00006.minidb").read_bytes() == (
            tmp_path / "a" / "ckpt_00006.minidb").read_bytes()
    finally:
        workspace.ResetWorkspace()


def test_checkpoint_in_a_plan(ws_root):
    """A plan runs the train net 7 times; Checkpoint writes iterations 3 and 6."""
    net = core.Net("plan_train")
    net.Add(["it", "one"], "it")
    net.Scale("w", "w", scale=0.5)
    net.Checkpoint(["it", "w"], [], db="plan_%d.minidb", db_type="minidb", every=3)
    workspace.FeedBlob("it", np.array([0], np.int64))
    workspace.FeedBlob("one", np.array([1], np.int64))
    workspace.FeedBlob("w", np.array([64.0], np.float32))
    plan = core.Plan("train_plan")
    plan.AddStep(core.ExecutionStep("steps", net, num_iter=7))
    workspace.RunPlan(plan)
    assert sorted(p.name for p in ws_root.iterdir()) == ["plan_3.minidb", "plan_6.minidb"]
    saved = deserialize_records(read_db("minidb", str(ws_root / "plan_6.minidb")))
    np.testing.assert_array_equal(saved["w"], [1.0])  # 64 / 2**6


def _noisy_net(name: str = "noisy_train") -> core.Net:
    """A 'training' net whose every iteration draws random numbers: a seeded
    GaussianFill noise added to w, dropout on it, and a Checkpoint every 3."""
    net = core.Net(name)
    net.Proto().name = name
    net.Add(["it", "one"], "it")
    net.GaussianFill([], "noise", shape=[4], std=0.1, random_seed=11)
    net.Add(["w", "noise"], "w")
    net.Dropout(["w"], ["w_drop", "mask"], ratio=0.5, is_test=0, random_seed=12)
    net.Add(["w", "w_drop"], "w")
    net.Checkpoint(["it", "w"], [], db="noisy_%02d.minidb", db_type="minidb", every=3)
    return net


def _start(root) -> None:
    workspace.ResetWorkspace(str(root))
    workspace.FeedBlob("it", np.array([0], np.int64))
    workspace.FeedBlob("one", np.array([1], np.int64))
    workspace.FeedBlob("w", np.ones(4, np.float32))


@pytest.mark.parametrize("create_first", [False, True])
def test_resume_with_random_ops_equals_the_uninterrupted_run(tmp_path, create_first):
    """The checkpoint holds the generators' states: a run resumed from iteration 3
    (the net created after the Load, or before it) draws what the uninterrupted
    run drew, so w and the iteration-6 checkpoint are equal bit for bit."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    try:
        _start(tmp_path / "a")
        workspace.CreateNet(_noisy_net())
        workspace.RunNet("noisy_train", 6)
        final = workspace.FetchBlob("w")
        saved = deserialize_records(read_db("minidb", str(tmp_path / "a/noisy_03.minidb")))
        assert list(saved) == ["it", "w", "!!GENERATOR_STATES"]

        _start(tmp_path / "b")  # the crash: a fresh workspace
        load = CreateOperator("Load", [], [], db=str(tmp_path / "a/noisy_03.minidb"),
                              absolute_path=1, db_type="minidb", load_all=1)
        if create_first:
            workspace.CreateNet(_noisy_net())
            workspace.RunOperatorOnce(load)
        else:
            workspace.RunOperatorOnce(load)
            workspace.CreateNet(_noisy_net())
        assert "!!GENERATOR_STATES" not in workspace.Blobs()
        np.testing.assert_array_equal(workspace.FetchBlob("it"), [3])
        workspace.RunNet("noisy_train", 3)
        assert workspace.FetchBlob("w").tobytes() == final.tobytes()
        assert (tmp_path / "b/noisy_06.minidb").read_bytes() == (
            tmp_path / "a/noisy_06.minidb").read_bytes()
    finally:
        workspace.ResetWorkspace()


def test_without_the_states_a_resumed_run_differs(tmp_path):
    """What the record fixes: loading only the blobs (not load_all) leaves the
    generators at their seeds, and the resumed run draws other numbers."""
    (tmp_path / "a").mkdir()
    try:
        _start(tmp_path / "a")
        workspace.CreateNet(_noisy_net())
        workspace.RunNet("noisy_train", 6)
        final = workspace.FetchBlob("w")
        _start(tmp_path / "a")
        workspace.CreateNet(_noisy_net())
        workspace.RunOperatorOnce(CreateOperator(
            "Load", [], ["it", "w"], db=str(tmp_path / "a/noisy_03.minidb"),
            absolute_path=1, db_type="minidb"))
        workspace.RunNet("noisy_train", 3)
        assert workspace.FetchBlob("w").tobytes() != final.tobytes()
    finally:
        workspace.ResetWorkspace()


def test_states_that_do_not_fit_are_refused_and_change_nothing(tmp_path):
    """A saved state for an op of another type, or a record that is not JSON, is an
    EnforceError naming the DB and the record; no blob and no generator changes."""
    from caffe2lite.runtime.workspace import _ws

    try:
        _start(tmp_path)
        workspace.CreateNet(_noisy_net())
        workspace.RunNet("noisy_train", 3)
        ws = _ws()
        states = ws.generator_states()
        assert [e["type"] for e in states["noisy_train"]] == ["GaussianFill", "Dropout"]
        bad = {"noisy_train": [dict(states["noisy_train"][0], type="UniformFill")]}
        for record, message in [
            (json.dumps(bad).encode(), "op #1 of net 'noisy_train' does not match the "
                                       "saved generator"),
            (b"\xff{", "is not the JSON Checkpoint writes"),
            (b'{"noisy_train": 3}', "not a map of net names to generator states"),
        ]:
            path = str(tmp_path / "bad.minidb")
            workspace.FeedBlob("!!GENERATOR_STATES", record)
            workspace.RunOperatorOnce(CreateOperator(
                "Save", ["w", "!!GENERATOR_STATES"], [], db=path, absolute_path=1,
                db_type="minidb"))
            workspace.RunOperatorOnce(CreateOperator("Save", ["w"], [], db="x.minidb",
                                                     db_type="minidb"))
            before = {b: workspace.FetchBlob(b) for b in workspace.Blobs()}
            generators = ws.generator_states()
            with pytest.raises(EnforceError) as info:
                workspace.RunOperatorOnce(CreateOperator(
                    "Load", [], [], db=path, absolute_path=1, db_type="minidb",
                    load_all=1))
            assert f"{path}: record !!GENERATOR_STATES" in str(info.value)
            assert message in str(info.value)
            assert ws.generator_states() == generators
            after = {b: workspace.FetchBlob(b) for b in workspace.Blobs()}
            assert after.keys() == before.keys()
            for name, value in before.items():
                assert np.array_equal(after[name], value) if isinstance(
                    value, np.ndarray) else after[name] == value
    finally:
        workspace.ResetWorkspace()


def test_a_plan_resumed_from_its_checkpoint_equals_the_uninterrupted_plan(tmp_path):
    """A plan running the noisy net 6 times, and a fresh workspace that loads the
    iteration-3 checkpoint and runs the same plan for 3 more: the same w, bit for
    bit (the plan creates its nets after the Load, which gives them their states)."""
    def plan(iterations: int) -> core.Plan:
        p = core.Plan(f"noisy_plan_{iterations}")
        p.AddStep(core.ExecutionStep("train", _noisy_net(), num_iter=iterations))
        return p

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    try:
        _start(tmp_path / "a")
        workspace.RunPlan(plan(6))
        final = workspace.FetchBlob("w")
        _start(tmp_path / "b")
        workspace.RunOperatorOnce(CreateOperator(
            "Load", [], [], db=str(tmp_path / "a/noisy_03.minidb"), absolute_path=1,
            db_type="minidb", load_all=1))
        workspace.RunPlan(plan(3))
        assert workspace.FetchBlob("w").tobytes() == final.tobytes()
    finally:
        workspace.ResetWorkspace()
