"""ParameterSharing (Caffe2's parameter_sharing_test): parameter names resolved
through scope overrides, recursively, and restored after the block."""

from __future__ import annotations

import pytest

from caffe2lite import brew, model_helper, scope
from caffe2lite.modeling.initializers import Initializer
from caffe2lite.modeling.parameter_sharing import (
    ParameterSharing,
    parameter_sharing_context,
)


def _name(name="w"):
    return parameter_sharing_context.get_parameter_name(name)


def test_resolution_rules_of_create_params_doc():
    with scope.NameScope("global_scope"):
        assert _name() == "global_scope/w"
    with ParameterSharing({"scope_b": "scope_a"}), scope.NameScope("scope_b"):
        assert _name() == "scope_a/w"
    with ParameterSharing({"scope_a": ""}), scope.NameScope("scope_a"):
        assert _name() == "w"
    with ParameterSharing({"scope_b/shared": "scope_b", "scope_b": "scope_a"}):
        with scope.NameScope("scope_b"):
            with scope.NameScope("shared"):
                assert _name() == "scope_a/w"
            with scope.NameScope("unshared"):
                assert _name() == "scope_a/unshared/w"


def test_nested_contexts_and_pop():
    with ParameterSharing({"a": "b"}):
        with ParameterSharing({"c": "d"}):
            with scope.NameScope("c"):
                assert _name() == "d/w"
            with scope.NameScope("a"):
                assert _name() == "b/w"
        with scope.NameScope("c"):
            assert _name() == "c/w"
    with scope.NameScope("a"):
        assert _name() == "a/w"


def test_overrides_are_relative_to_the_current_scope():
    with scope.NameScope("global"), ParameterSharing({"tower_2": "tower_1"}):
        with scope.NameScope("tower_2"):
            assert _name() == "global/tower_1/w"


def test_illegal_override():
    with pytest.raises(AssertionError, match="Illegal override for parameter sharing"):
        with ParameterSharing({"a": "a/b"}):
            pass


def test_two_towers_share_one_fc():
    model = model_helper.ModelHelper(name="towers")
    with ParameterSharing({"tower_2": "tower_1"}):
        for tower in ("tower_1", "tower_2"):
            with scope.NameScope(tower):
                brew.fc(model, "x", "fc", 3, 2)
    assert [str(p) for p in model.params] == ["tower_1/fc_w", "tower_1/fc_b"]
    assert [list(op.input) for op in model.net.Proto().op] == [
        ["tower_1/x", "tower_1/fc_w", "tower_1/fc_b"],
        ["tower_2/x", "tower_1/fc_w", "tower_1/fc_b"]]
    w = model.create_param("fc_w", [2, 3], Initializer("ConstantFill"))
    assert str(w) == "fc_w"  # outside the block and the scopes: its own parameter
