"""A small MLP built the Caffe2 way: ModelHelper + brew + optimizer.

    python examples/mlp_brew.py

The script is written as a Caffe2 user writes one; only the imports name caffe2lite
instead of caffe2.python. Two points in the plane are classified by whether they lie
inside a circle. brew.fc / brew.relu create the layers (weights XavierFill,
biases ConstantFill, in model.param_init_net), AddGradientOperators adds the
backward pass, optimizer.build_sgd adds momentum SGD (LearningRate with a step
policy, MomentumSGDUpdate), and an eval model shares the trained parameters.
"""

from __future__ import annotations

import numpy as np

from caffe2lite import brew, model_helper, optimizer, workspace

HIDDEN = 16
BATCH = 64
STEPS = 300


def batch(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]^2, labelled 1 inside the circle of radius 0.6."""
    x = rng.uniform(-1.0, 1.0, (size, 2)).astype(np.float32)
    y = ((x ** 2).sum(axis=1, keepdims=True) < 0.36).astype(np.float32)
    return x, y


def mlp(model: model_helper.ModelHelper, data: str) -> object:
    """data -> fc1 -> relu -> fc2 -> relu -> logit."""
    h = brew.fc(model, data, "fc1", dim_in=2, dim_out=HIDDEN)
    h = brew.relu(model, h, "fc1_relu")
    h = brew.fc(model, h, "fc2", dim_in=HIDDEN, dim_out=HIDDEN)
    h = brew.relu(model, h, "fc2_relu")
    return brew.fc(model, h, "logit", dim_in=HIDDEN, dim_out=1)


def main() -> None:
    train = model_helper.ModelHelper(name="mlp_train")
    train.param_init_net.Proto().device_option.random_seed = 1234  # seeded XavierFills
    logit = mlp(train, "x")
    xent = train.net.SigmoidCrossEntropyWithLogits([logit, "label"], "xent")
    loss = train.AveragedLoss(xent, "loss")
    train.AddGradientOperators([loss])
    sgd = optimizer.build_sgd(train, base_learning_rate=0.5, momentum=0.9,
                              policy="step", stepsize=100, gamma=0.5)

    test = model_helper.ModelHelper(name="mlp_test", param_model=train,
                                    init_params=False)
    test.net.Sigmoid([mlp(test, "x")], "prob")

    print("parameters:", ", ".join(str(p) for p in train.GetParams()))
    print("optimizer state:", ", ".join(str(b) for b in sgd.get_auxiliary_parameters().local))
    print("train ops:", len(train.net.Proto().op), "| update ops:",
          sorted({op.type for op in train.net.Proto().op
                  if op.type in ("LearningRate", "MomentumSGDUpdate", "AtomicIter")}))

    lr_blob = next(op.output[0] for op in train.net.Proto().op if op.type == "LearningRate")
    rng = np.random.default_rng(0)
    x, y = batch(rng, BATCH)
    workspace.FeedBlob("x", x)
    workspace.FeedBlob("label", y)
    workspace.RunNetOnce(train.param_init_net)
    workspace.CreateNet(train.net)
    workspace.CreateNet(test.net)
    for step in range(1, STEPS + 1):
        x, y = batch(rng, BATCH)
        workspace.FeedBlob("x", x)
        workspace.FeedBlob("label", y)
        workspace.RunNet(train.net.Proto().name)
        if step in (1, 10, 50, 100, 200, 300):
            lr = float(workspace.FetchBlob(lr_blob))
            print(f"step {step:3d}  loss {workspace.FetchBlob('loss'):.3f}  lr {lr:.3f}")

    x, y = batch(np.random.default_rng(1), 1000)
    workspace.FeedBlob("x", x)
    workspace.RunNet(test.net.Proto().name)
    accuracy = float(((workspace.FetchBlob("prob") > 0.5) == (y > 0.5)).mean())
    print(f"held-out accuracy: {accuracy:.2f}")
    print("iterations:", int(workspace.FetchBlob("optimizer_iteration")[0]))


if __name__ == "__main__":
    main()
