from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.schema import registry
from caffe2lite.core import CreateOperator
from caffe2lite.errors import RegistrationError, SchemaError, UnknownOperatorError
from caffe2lite.schema.opschema import Arg


def test_lookup_falls_back_to_default_engine(scratch_ops):
    assert registry.lookup("TestScale", "CUDNN") is registry.lookup("TestScale")


def test_unknown_type_suggests_close_names(scratch_ops):
    with pytest.raises(UnknownOperatorError) as e:
        registry.lookup("TestScal")
    assert "Cannot create operator of type 'TestScal' on the device 'CPU'" in str(e.value)
    assert "; did you mean 'TestScale'" in str(e.value)


def test_engine_specific_kernel_wins(scratch_ops):
    @registry.register_cpu_operator("TestScale", engine="FAST", inputs=["X"], outputs=["Y"],
                                    args=[Arg("scale", float, 1.0), Arg("offset", int, 0)],
                                    doc="Example: X=[1] -> Y=[1]")
    def fast(x, *, scale, offset):
        return (x,)

    assert registry.lookup("TestScale", "FAST").kernel is fast
    assert registry.lookup("TestScale").kernel is not fast


def test_registration_checks_kernel_signature(scratch_ops):
    with pytest.raises(RegistrationError, match="takes 1 positional inputs but the schema names 2"):
        @registry.register_cpu_operator("TestBad1", inputs=["X", "Y"], outputs=["Z"])
        def bad1(x):
            return (x,)

    with pytest.raises(RegistrationError, match=r"no keyword-only parameter for arguments \['k'\]"):
        @registry.register_cpu_operator("TestBad2", inputs=["X"], outputs=["Z"],
                                        args=[Arg("k", int, 1)])
        def bad2(x):
            return (x,)

    with pytest.raises(RegistrationError, match=r"keyword-only parameters \['j'\] are not schema"):
        @registry.register_cpu_operator("TestBad3", inputs=["X"], outputs=["Z"])
        def bad3(x, *, j):
            return (x,)

    with pytest.raises(RegistrationError, match="registered twice"):
        @registry.register_cpu_operator("TestScale", inputs=["X"], outputs=["Y"],
                                        args=[Arg("scale", float, 1.0), Arg("offset", int, 0)])
        def again(x, *, scale, offset):
            return (x,)


def test_gradient_decisions_registered_once(scratch_ops):
    registry.should_not_do_gradient("TestOnlyA")
    registry.gradient_not_implemented_yet("TestOnlyB")
    assert registry.gradient_entry("TestOnlyA").kind == registry.SHOULD_NOT_DO
    assert registry.gradient_entry("TestOnlyB").kind == registry.NOT_IMPLEMENTED_YET
    assert registry.gradient_entry("TestScale").kind == registry.NO_GRADIENT
    assert registry.gradient_entry("NeverHeardOf") is None
    with pytest.raises(RegistrationError, match="gradient of operator TestOnlyA is registered twice"):
        registry.no_gradient("TestOnlyA")


def test_schema_verify_messages(scratch_ops):
    schema = registry.lookup("TestCheck")
    op = CreateOperator("TestCheck", ["a"], ["y", "z"])
    assert [str(p) for p in schema.verify(op)] == [
        "Input size 1 not in range [min=2, max=2]. (expected 2 inputs, found 1)",
        "Output size 2 not in range [min=1, max=1]. (expected 1 outputs, found 2)",
    ]
    inplace = CreateOperator("TestCheck", ["a", "b"], ["b"])
    assert [p.reason for p in schema.verify(inplace)] == [
        "Input index 1 and output idx 0 (b) are set to be in-place but this is actually not "
        "supported by op TestCheck"]
    assert registry.lookup("TestScale").verify(CreateOperator("TestScale", "x", "x")) == []


def test_variadic_and_enforced_inplace(scratch_ops):
    from caffe2lite.schema.opschema import INT_MAX

    assert registry.lookup("TestVariadic").num_inputs == (1, INT_MAX)

    @registry.register_cpu_operator("TestIter", inputs=["ITER"], outputs=["ITER"],
                                    enforce_inplace=[(0, 0)], doc="Example: [1] -> [2]")
    def it(x):
        return (x + 1,)

    schema = registry.lookup("TestIter")
    assert schema.verify(CreateOperator("TestIter", "i", "i")) == []
    (problem,) = schema.verify(CreateOperator("TestIter", "i", "j"))
    assert problem.reason == ("Input index 0 (i) and output idx 0 (j) are not in-place but "
                              "should be as required by op TestIter")


def test_parse_args_defaults_required_and_checks(scratch_ops):
    schema = registry.lookup("TestNoise")
    kwargs, problems = schema.parse_args(CreateOperator("TestNoise", "x", "y"))
    assert kwargs == {"ratio": 0.5} and problems == []
    _, (problem,) = schema.parse_args(CreateOperator("TestNoise", "x", "y", ratio=1.5))
    assert str(problem) == ("Ratio should be a valid probability "
                            "(argument 'ratio': expected 0 <= ratio <= 1, found 1.5)")

    @registry.register_cpu_operator("TestNeedsArg", inputs=["X"], outputs=["Y"],
                                    args=[Arg("k", int)], doc="Example: [1] -> [1]")
    def needs(x, *, k):
        return (x,)

    _, (problem,) = registry.lookup("TestNeedsArg").parse_args(
        CreateOperator("TestNeedsArg", "x", "y"))
    assert isinstance(problem, SchemaError)
    assert problem.reason == "Argument 'k' is required for Operator 'TestNeedsArg'."


def test_registered_types_sorted_unique(scratch_ops):
    types = registry.registered_types()
    assert types == sorted(set(types))
    assert "TestScale" in types
    assert np.all([isinstance(t, str) for t in types])


def test_allowed_input_counts_checked_at_creation(scratch_ops):
    @registry.register_cpu_operator("TestPairs", inputs=["X"], outputs=["Y"],
                                    num_inputs=(2, None),
                                    allowed_inputs=(lambda n: n % 2 == 0, "an even count"),
                                    doc="Example: [1], [2] -> [1]")
    def pairs(*xs):
        return (xs[0],)

    @registry.register_cpu_operator("TestSet", inputs=["A", "B", "C"], outputs=["Y"],
                                    allowed_inputs={0, 1, 3}, doc="Example: -> [0]")
    def from_set(a=None, b=None, c=None):
        return (np.zeros(1),)

    (problem,) = registry.lookup("TestPairs").verify(CreateOperator("TestPairs", list("abc"), "y"))
    assert str(problem) == ("Input size 3 not in allowed input sizes. "
                            "(expected an even count, found 3)")
    schema = registry.lookup("TestSet")
    assert schema.num_inputs == (0, 3)
    assert [len(schema.verify(CreateOperator("TestSet", list("abc")[:n], "y")))
            for n in range(4)] == [0, 0, 1, 0]
    assert schema.verify(CreateOperator("TestSet", ["a", "b"], "y"))[0].expected == (
        "one of 0, 1, 3 inputs")
