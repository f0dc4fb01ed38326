"""Enforce failures carry Caffe2's ``[enforce fail at <file>:<line>]`` wording."""

from __future__ import annotations

import copy
import pickle
import re

import numpy as np
import pytest

from caffe2lite import core
from caffe2lite.errors import DTypeError, EnforceError, ShapeError, enforce_site
from caffe2lite.workspace import Workspace


def test_prefix_then_the_usual_message():
    e = EnforceError("Inconsistent input data.", blob="L", expected=3, found=2)
    assert re.fullmatch(r"\[enforce fail at test_errors_enforce\.py:\d+\] Inconsistent input "
                        r"data\. \(blob 'L': expected 3, found 2\)", str(e))
    assert e.detail() == "Inconsistent input data. (blob 'L': expected 3, found 2)"
    assert isinstance(e, RuntimeError)


def test_condition_when_stated():
    e = ShapeError("Input must be 2-D", condition="X.dim() == 2")
    assert str(e).split("] ", 1)[1] == "X.dim() == 2. Input must be 2-D"
    assert e.enforce_prefix().startswith("[enforce fail at ")


def test_site_of_an_op_is_caffe2s_source_file_name():
    ws = Workspace()
    ws.feed_blob("X", np.zeros(3, np.int64))
    ws.feed_blob("L", np.array([1, 1], np.int32))
    op = core.CreateOperator("SparseDropoutWithReplacement", ["X", "L"], ["Y", "LO"])
    with pytest.raises(EnforceError) as e:
        ws.run(op)
    assert e.value.enforce_file == "sparse_dropout_with_replacement_op.cc"
    assert e.value.enforce_line > 0
    assert str(e.value).startswith(
        f"[enforce fail at sparse_dropout_with_replacement_op.cc:{e.value.enforce_line}] "
        "op SparseDropoutWithReplacement: Inconsistent input data.")


def test_site_outside_ops_is_the_python_file():
    file, line = enforce_site(1)
    assert file == "test_errors_enforce.py" and line > 0


def test_context_goes_after_the_prefix_and_pickling_keeps_one_prefix():
    e = DTypeError("Tensor type mismatch", blob="X", expected="int32", found="int64")
    e.add_context(op_type="Foo", op_index=2, net_name="n")
    text = str(e)
    assert "] op #2 Foo in net 'n': Tensor type mismatch" in text
    assert text.count("[enforce fail at ") == 1
    for clone in (pickle.loads(pickle.dumps(e)), copy.deepcopy(e)):
        assert type(clone) is DTypeError and str(clone) == text and clone.blob == "X"
