"""``caffe2lite ops``: the registered operators, one per line, one in full, or as
the Markdown table of the README (``scripts/update_readme.py`` writes that table
with :func:`ops_markdown`, the same function ``ops --markdown`` prints).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from typing import Any

from caffe2lite.schema import registry
from caffe2lite.cli.common import UsageError
from caffe2lite.errors import did_you_mean
from caffe2lite.schema.opschema import INT_MAX, REQUIRED, OpSchema

# A full stop that ends a sentence (not the one of "e.g." or "i.e.").
SENTENCE_END = re.compile(r"(?<!e\.g)(?<!i\.e)(?<=\.)\s+(?=[A-Z(`])")
CODE_MARK = re.compile(r"(`+)")  # opens or closes a code span
GRADIENT_WORDS = {
    registry.MAKER: "yes",
    registry.NO_GRADIENT: "none (gradients stop here)",
    registry.SHOULD_NOT_DO: "should not do (asking for it is an error)",
    registry.NOT_IMPLEMENTED_YET: "not implemented yet (asking for it is an error)",
}


def schemas() -> list[OpSchema]:
    """Every registered schema, sorted by type, then engine (default first)."""
    return [registry.OPERATORS[key] for key in sorted(registry.OPERATORS)]


def _names(names: tuple[str, ...], lo: int, hi: int) -> str:
    shown = [n if i < lo else f"[{n}]" for i, n in enumerate(names[:hi])]
    if hi > len(names):
        shown.append("...")
    return ", ".join(shown)


def signature(schema: OpSchema) -> str:
    """``X, Lengths -> Y, OutputLengths``: optional names in brackets, ``...`` when
    the count is open-ended."""
    ins = _names(tuple(schema.inputs), *schema.num_inputs)
    if schema.same_number_of_output:
        outs = _names(tuple(schema.outputs), *schema.num_inputs)
    else:
        outs = _names(tuple(schema.outputs), *schema.num_outputs)
    return f"{ins or '()'} -> {outs or '()'}"


def _label(schema: OpSchema) -> str:
    return schema.type + (f" [engine {schema.engine}]" if schema.engine else "")


def list_lines() -> Iterator[str]:
    """One line per registered operator: type, then its inputs -> outputs."""
    rows = [(_label(s), signature(s)) for s in schemas()]
    width = max((len(label) for label, _ in rows), default=0)
    for label, sig in rows:
        yield f"{label:<{width}}  {sig}"


def _count(lo: int, hi: int) -> str:
    if lo == hi:
        return str(lo)
    return f"{lo} or more" if hi >= INT_MAX else f"{lo} to {hi}"


def _inplace_lines(schema: OpSchema) -> Iterator[str]:
    n_in = min(schema.num_inputs[1], max(len(schema.inputs), schema.num_inputs[0], 1))
    n_out = max(len(schema.outputs), schema.num_outputs[0], 1)
    allowed = [
        (i, o)
        for i in range(n_in)
        for o in range(n_out)
        if schema.allow_inplace(i, o) and (i, o) not in schema.enforce_inplace
    ]
    for i, o in sorted(schema.enforce_inplace):
        yield (
            f"  required: input {i} ({schema.input_name(i)}) is output {o} "
            f"({schema.output_name(o)})"
        )
    for i, o in allowed:
        yield (
            f"  allowed: input {i} ({schema.input_name(i)}) as output {o} "
            f"({schema.output_name(o)})"
        )
    if not allowed and not schema.enforce_inplace:
        yield "  not allowed"


def gradient_text(op_type: str) -> str:
    """What the gradient registry says about ``op_type``."""
    entry = registry.gradient_entry(op_type)
    if entry is None:
        return "no decision registered"
    if entry.kind == registry.MAKER and entry.maker is not None:
        return f"maker {entry.maker.__module__}.{entry.maker.__qualname__}"
    return GRADIENT_WORDS[entry.kind]


def describe_lines(op_type: str) -> Iterator[str]:
    """The full schema of every engine of ``op_type``."""
    found = [s for s in schemas() if s.type == op_type]
    if not found:
        raise UsageError(
            f"no operator of type '{op_type}' is registered"
            + did_you_mean(op_type, registry.registered_types())
        )
    for n, schema in enumerate(found):
        if n:
            yield ""
        yield _label(schema)
        lo, hi = schema.num_inputs
        yield f"inputs ({_count(lo, hi)}):"
        for i, name in enumerate(schema.inputs):
            yield f"  {i} {name}" + ("" if i < lo else " (optional)")
        if schema.same_number_of_output:
            yield "outputs (as many as inputs):"
        else:
            yield f"outputs ({_count(*schema.num_outputs)}):"
        for i, name in enumerate(schema.outputs):
            optional = not schema.same_number_of_output and i >= schema.num_outputs[0]
            yield f"  {i} {name}" + (" (optional)" if optional else "")
        yield "arguments:" if schema.args else "arguments: none"
        for arg in schema.args.values():
            default = (
                "required" if arg.default is REQUIRED else f"default {arg.default!r}"
            )
            check = f"; must be {arg.expected}" if arg.expected else ""
            doc = f": {arg.doc}" if arg.doc else ""
            yield f"  {arg.name} ({arg.type}, {default}{check}){doc}"
        yield "in-place:"
        yield from _inplace_lines(schema)
        rng = "yes, seeded by device_option.random_seed" if schema.needs_rng else "no"
        yield f"random: {rng}"
        yield f"gradient: {gradient_text(schema.type)}"
        yield "doc:"
        for line in (schema.doc or "(none)").strip().splitlines():
            yield f"  {line}".rstrip()


def _cell(text: str) -> str:
    """Text for one Markdown table cell: ``|`` escaped everywhere, ``<`` outside
    code spans (where Markdown would read it as the start of an HTML tag)."""
    parts = CODE_MARK.split(text.replace("\n", " ").strip())
    for i in range(0, len(parts), 4):  # text, mark, code, mark, text, ...
        parts[i] = parts[i].replace("<", "&lt;")
    return "".join(parts).replace("|", "\\|")


def summary(doc: str) -> str:
    """The first sentence of an op's doc.

    >>> summary("Sum rows per segment, e.g. of embeddings. Empty ones give 0.")
    'Sum rows per segment, e.g. of embeddings.'
    """
    first = doc.strip().split("\n\n")[0].replace("\n", " ").split("Example:")[0].strip()
    for end in SENTENCE_END.finditer(first):
        if len(CODE_MARK.findall(first[: end.start()])) % 2 == 0:  # not in code
            return first[: end.start()]
    return first


def _args_cell(schema: OpSchema) -> str:
    parts = []
    for arg in schema.args.values():
        default = "" if arg.default is REQUIRED else f" = {arg.default!r}"
        parts.append(f"`{arg.name}`{default}")
    return ", ".join(parts)


def ops_markdown() -> str:
    """The README's table of supported operators (ends with a newline)."""
    rows = [
        "| Operator | Inputs -> Outputs | Arguments | Gradient | What it does |",
        "|---|---|---|---|---|",
    ]
    for schema in schemas():
        entry = registry.gradient_entry(schema.type)
        grad = GRADIENT_WORDS[entry.kind] if entry else "no decision"
        rows.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    f"`{_label(schema)}`",
                    signature(schema),
                    _args_cell(schema),
                    grad.split(" (")[0],
                    summary(schema.doc),
                )
            )
            + " |"
        )
    count = len(schemas())
    head = (
        f"{count} operators are registered.\n\n"
        if count != 1
        else "1 operator is registered.\n\n"
    )
    return head + "\n".join(rows) + "\n"


def ops_command(args: argparse.Namespace, out: Any) -> int:
    """Carry out ``caffe2lite ops [TYPE] [--markdown]``."""
    if args.markdown:
        if args.type:
            raise UsageError("ops --markdown prints the whole table; leave out TYPE")
        print(ops_markdown(), end="", file=out)
        return 0
    for line in describe_lines(args.type) if args.type else list_lines():
        print(line, file=out)
    return 0
