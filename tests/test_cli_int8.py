"""`caffe2lite run` prints and saves Int8 blobs: the codes with their scale and zero
point (saved as NAME, NAME__scale, NAME__zero_point)."""

from __future__ import annotations

import numpy as np

from caffe2lite import cli

NET = """name: "q"
op { input: "X" output: "Q" type: "Int8Quantize"
     arg { name: "Y_scale" f: 0.5 } arg { name: "Y_zero_point" i: 10 } }
external_input: "X"
external_output: "Q"
"""


def test_int8_output_is_printed_and_saved(tmp_path, capsys):
    net = tmp_path / "q.pbtxt"
    net.write_text(NET)
    x = tmp_path / "x.npy"
    np.save(x, np.array([0.0, 1.0, -2.5], np.float32))
    out = tmp_path / "out.npz"
    status = cli.main(["run", str(net), "--input", f"X={x}", "--save", str(out)])
    printed, err = capsys.readouterr()
    assert status == 0, err
    assert printed == "Q: Int8 uint8 shape (3,), scale 0.5, zero_point 10\n[10, 12,  5]\n"
    with np.load(out, allow_pickle=False) as saved:
        np.testing.assert_array_equal(saved["Q"], np.array([10, 12, 5], np.uint8))
        assert saved["Q__scale"] == np.float32(0.5) and saved["Q__zero_point"] == 10
