"""The ``caffe2lite`` command (also ``python -m caffe2lite``).

::

    caffe2lite run NET [--init NET] [--plan] [--input NAME=FILE.npy]...
                   [--inputs FILE.npz] [--output NAME]... [--save OUT.npz]
                   [--iters N] [--seed S] [--strict] [--verbose] [--profile]
                   [--trace TRACE.json] [--save-all OUT.npz] [--random-inputs]
                   [--input-shape NAME=DTYPE[d0,...]]... [--value-info FILE.json]
    caffe2lite inspect FILE [--plan] [--check] [--shapes [--input-shape NAME=DTYPE[d0,...]]...
                       [--value-info FILE.json] [--init NET]]
    caffe2lite ops [TYPE] [--markdown]
    caffe2lite convert IN OUT [--plan]
    caffe2lite convert --to onnx NET [--init NET] [--value-info FILE.json]
                       [--input-shape NAME=DTYPE[d0,...]]... [--opset N]
                       [--random-init [--random-init-dim N] [--seed S]] -o OUT.onnx
    caffe2lite convert --from onnx MODEL.onnx -o PREDICT.pb [--init-out INIT.pb]
    caffe2lite draw NET [--init NET] [--rankdir LR|TB] [--minimal] -o OUT.{svg,png,pdf,dot}
    caffe2lite score NET --init NET --data DATASET.parquet --scheduler ADDRESS|local
                     [--input BLOB=COLUMN]... [--output BLOB]... --out OUT.parquet

``--debug`` may be given anywhere: errors then end with a traceback. Without it an
error is printed to stderr as ``caffe2lite: error: <message>``. Exit status: 0 on
success, 1 when running failed (an operator or net raised), 2 on bad usage, a
file that cannot be read or parsed, or any problem found before the run (an op type
that is not implemented, a schema or argument problem, a net input that was not
given, an ``--input`` no op reads, an unknown ``--output``, a file that cannot be
written), 130 when interrupted (``run`` still prints and saves what exists).

This module only wires the command line to :mod:`caffe2lite.cli.run`,
:mod:`caffe2lite.cli.inspect`, :mod:`caffe2lite.cli.ops` and :mod:`caffe2lite.cli.draw`.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from caffe2lite.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError
from caffe2lite.cli.draw import add_draw_parser
from caffe2lite.cli.inspect import convert_command, inspect_command
from caffe2lite.cli.ops import ops_command
from caffe2lite.cli.run import run_command
from caffe2lite.cli.score import add_score_parser
from caffe2lite.cli.shapes import add_shape_arguments
from caffe2lite.errors import Caffe2LiteError, ProtoParseError

PROG = "caffe2lite"
PLAN_HELP = (
    "read the file as a PlanDef (by default a file is a PlanDef when it parses as "
    "one with execution_step entries, else a NetDef)"
)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().rstrip()}")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


_positive.__name__ = "positive integer"


def _seed(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**32:
        raise ValueError(text)
    return value


_seed.__name__ = "seed (0 to 4294967295)"


def _version() -> str:
    """``caffe2lite X.Y.Z (dropout ops: ...; sparse updates: ...; embedding lookups:
    ...)``: which kernels each optional compiled module gives, and why not."""
    import caffe2lite
    from caffe2lite.ops import _embedding_native, _sparse_update_native, _speedups

    return (f"{PROG} {caffe2lite.__version__} (dropout ops: {_speedups.status}; "
            f"sparse updates: {_sparse_update_native.status}; "
            f"embedding lookups: {_embedding_native.status})")


class _VersionAction(argparse.Action):
    """``--version``: print ``_version()`` on one line (argparse's own action wraps
    it) and exit."""

    def __init__(self, option_strings: Sequence[str], dest: str,
                 help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        print(_version())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``caffe2lite`` command."""
    parser = _Parser(
        prog=PROG,
        description="Run, inspect and convert Caffe2 nets on CPU, in pure Python.",
        epilog="--debug may be given anywhere and adds a traceback to errors. "
        "Exit status: 0 success, 1 a failure while running, 2 bad usage, an "
        "unreadable file or a problem found before the run (such as a missing net "
        "input), 130 interrupted.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show a traceback on error"
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="show the version and which dropout kernels run, then exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    run = sub.add_parser(
        "run",
        help="run a NetDef or PlanDef file and print its outputs",
        description="Run the init net once, then create NET and run it "
        "--iters times (or run a PlanDef), and print the outputs.",
    )
    run.add_argument(
        "net", metavar="NET", help="NetDef or PlanDef file (.pb binary, .pbtxt text)"
    )
    run.add_argument("--init", metavar="NET", help="NetDef run once before NET")
    run.add_argument("--plan", action="store_true", help=PLAN_HELP)
    run.add_argument(
        "--input",
        metavar="NAME=FILE.npy",
        action="append",
        default=[],
        help="feed blob NAME from a .npy file (repeatable)",
    )
    run.add_argument(
        "--inputs",
        metavar="FILE.npz",
        action="append",
        default=[],
        help="feed every array of an .npz archive, named by its key",
    )
    run.add_argument(
        "--output",
        metavar="NAME",
        action="append",
        default=[],
        help="blob to print (repeatable; default: the net's external "
        "outputs, else the outputs of its last op)",
    )
    run.add_argument(
        "--save", metavar="OUT.npz", help="also save the outputs to an .npz ({rank} in "
        "the path becomes the MPI rank, 0 outside mpiexec)"
    )
    run.add_argument(
        "--shard-inputs", action="store_true",
        help="under mpiexec -n N: feed each rank its share of every --input/--inputs "
        "array, the first axis split into N near-equal contiguous parts (rank r takes "
        "part r); outside mpiexec, the whole arrays",
    )
    run.add_argument(
        "--iters",
        metavar="N",
        type=_positive,
        default=1,
        help="run the net N times (default 1)",
    )
    run.add_argument(
        "--seed",
        metavar="S",
        type=_seed,
        help="give op i of each net the random_seed S+i unless it has one",
    )
    run.add_argument(
        "--value-info",
        metavar="FILE.json",
        help="the model zoo's value_info.json (input -> [data type, shape]); inputs "
        "listed there and not given with --input/--inputs get random values",
    )
    run.add_argument(
        "--random-init",
        action="store_true",
        help="make every parameter the net reads and nothing produces, with the "
        "shape its op implies, from a seeded generator (--seed, default 0)",
    )
    run.add_argument(
        "--random-init-dim",
        metavar="N",
        type=_positive,
        default=8,
        help="with --random-init: the size of every dimension the net does not fix, "
        "such as a Conv's or FC's number of outputs (default 8)",
    )
    run.add_argument(
        "--random-inputs",
        action="store_true",
        help="make every blob the net lacks at random (seeded by --seed, default 0): "
        "inputs from --input-shape / --value-info (a symbolic dimension takes "
        "--random-init-dim), parameters with the shape their op implies",
    )
    run.add_argument(
        "--input-shape",
        metavar="NAME=DTYPE[d0,d1,...]",
        action="append",
        default=[],
        help="make input NAME at random with this type and shape, such as "
        "ids=int64[N] or data=float32[1,3,224,224] (repeatable)",
    )
    run.add_argument(
        "--strict",
        action="store_true",
        help="an argument an op's schema does not declare is an error (by default a "
        "warning)",
    )
    run.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print each op as it runs with its inputs' and outputs' types and shapes "
        "(on stderr), and list every problem found before the run",
    )
    run.add_argument(
        "--profile",
        action="store_true",
        help="print a per-operator-type profile after the outputs: calls, total and "
        "mean time, share of the run, output bytes",
    )
    run.add_argument(
        "--trace",
        metavar="TRACE.json",
        help="write a Chrome trace (one event per op run, with its input and output "
        "shapes) that Perfetto or chrome://tracing opens",
    )
    run.add_argument(
        "--save-all",
        metavar="OUT.npz",
        help="save every blob of the workspace after the run to an .npz",
    )
    run.set_defaults(handler=run_command)

    inspect = sub.add_parser(
        "inspect",
        help="show a NetDef or PlanDef file",
        description="Show a net's ops, arguments, external inputs and "
        "outputs, and the op types that are not registered; with --shapes, "
        "every blob's inferred shape and data type instead.",
    )
    inspect.add_argument("file", metavar="FILE", help="NetDef or PlanDef file")
    inspect.add_argument("--plan", action="store_true", help=PLAN_HELP)
    add_shape_arguments(inspect)
    inspect.add_argument(
        "--check",
        action="store_true",
        help="find every problem running the net would meet (unknown op types, schema "
        "and argument problems, blobs nothing gives) without running it; exit 2 if any",
    )
    inspect.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="with --check: list every problem (by default many are grouped by kind)",
    )
    inspect.set_defaults(handler=inspect_command)

    ops = sub.add_parser(
        "ops",
        help="list the registered operators, or show one",
        description="List every registered operator with its inputs and "
        "outputs, or show the full schema of TYPE.",
    )
    ops.add_argument("type", metavar="TYPE", nargs="?", help="an operator type")
    ops.add_argument(
        "--markdown", action="store_true", help="print the operator table of README.md"
    )
    ops.set_defaults(handler=ops_command)

    convert = sub.add_parser(
        "convert",
        help="convert a NetDef or PlanDef between text and binary, or to and from ONNX",
        description="Write IN to OUT; .pbtxt, .prototxt "
        "and .txt files are text, others binary. With --to onnx, export the predict "
        "net IN (and its --init net) to the ONNX model -o OUT; with --from onnx, "
        "import the ONNX model IN as the predict net -o OUT and the init net "
        "--init-out (needs the onnx extra: pip install 'caffe2lite[onnx]').",
    )
    convert.add_argument("input", metavar="IN",
                         help="NetDef or PlanDef file (an ONNX model with --from onnx)")
    convert.add_argument("output", metavar="OUT", nargs="?", help="file to write")
    convert.add_argument("--plan", action="store_true", help=PLAN_HELP)
    convert.add_argument("-o", dest="out", metavar="OUT", help="file to write (same as OUT)")
    convert.add_argument("--to", choices=["onnx"], help="export IN to ONNX")
    convert.add_argument("--from", dest="from_", choices=["onnx"],
                         help="import IN, an ONNX model")
    convert.add_argument("--init", metavar="NET", help="--to onnx: the init net "
                         "(its blobs become the model's initializers)")
    convert.add_argument("--value-info", metavar="FILE.json",
                         help="--to onnx: the model zoo's value_info.json (input -> "
                         "[data type, shape]), the types and shapes of the inputs")
    convert.add_argument("--input-shape", metavar="NAME=DTYPE[d0,...]", action="append",
                         default=[], help="--to onnx: an input's type and shape "
                         "(a dimension may be a symbol such as N)")
    convert.add_argument("--opset", metavar="N", type=_positive,
                         help="--to onnx: the ONNX opset version (default 17)")
    convert.add_argument("--random-init", action="store_true",
                         help="--to onnx: random parameters for what the net reads and "
                         "neither the init net nor the inputs give (seeded by --seed)")
    convert.add_argument("--random-init-dim", metavar="N", type=_positive, default=8,
                         help="with --random-init: the size of every free dimension "
                         "(default 8)")
    convert.add_argument("--seed", metavar="S", type=_seed, default=0,
                         help="with --random-init: the generator's seed (default 0)")
    convert.add_argument("--init-out", metavar="FILE",
                         help="--from onnx: where to write the init net")
    convert.set_defaults(handler=convert_command)

    add_draw_parser(sub, PLAN_HELP)
    add_score_parser(sub)
    return parser


def _report(error: BaseException, debug: bool) -> None:
    if debug:
        traceback.print_exception(
            type(error), error, error.__traceback__, file=sys.stderr
        )
    if isinstance(error, Caffe2LiteError):
        message = str(error)
    else:
        message = f"internal error: {type(error).__name__}: {error}"
    print(f"{PROG}: error: {message}", file=sys.stderr)
    if not debug and not isinstance(error, Caffe2LiteError):
        print(f"{PROG}: run with --debug for a traceback", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``caffe2lite`` command with ``argv`` (default ``sys.argv[1:]``) and
    return its exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    cut = args_list.index("--") if "--" in args_list else len(args_list)
    debug = "--debug" in args_list[:cut]
    args_list = [a for i, a in enumerate(args_list) if a != "--debug" or i >= cut]
    out: Any = sys.stdout
    try:
        args = build_parser().parse_args(args_list)
        return args.handler(args, out)
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else EXIT_OK
    except (UsageError, ProtoParseError) as e:
        _report(e, debug)
        return EXIT_USAGE
    except Caffe2LiteError as e:
        _report(e, debug)
        return EXIT_FAILURE
    except BrokenPipeError:  # the reader of stdout went away (`| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: say so plainly, keep the traceback for --debug
        _report(e, debug)
        return EXIT_FAILURE
