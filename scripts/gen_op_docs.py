"""Write the operator catalogue of the documentation from the operator registry.

    python scripts/gen_op_docs.py              # write docs/operators/*.md
    python scripts/gen_op_docs.py --out DIR    # elsewhere

One page per family (``ops/<family>/``) with a section per operator: its inputs and
outputs, arguments with types and defaults, in-place rules, randomness, the
gradient decision (for a gradient maker, the ops it emits for the example) and the
doc with its worked example; and an index of every operator. mkdocs runs this
module as a hook (``hooks:`` in mkdocs.yml): the pages are made at each build and
never committed.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

import caffe2lite  # noqa: F401  (registers every operator)
from caffe2lite.cli.ops import GRADIENT_WORDS, signature, summary
from caffe2lite.schema import registry
from caffe2lite.schema.opschema import INT_MAX, REQUIRED, OpSchema

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "operators"
FOLDER = "operators"
CODE = re.compile(r"(`+)")  # opens or closes a code span
# Characters Markdown would read as markup in Caffe2-style prose.
MARKUP = re.compile(r"([\\*_\[\]])")
FAMILY_TITLES = {
    "control": "Control flow", "db": "Databases and checkpoints",
    "detection": "Detection", "distributed": "Collectives", "fill": "Fills",
    "int8": "Int8", "logic": "Comparisons and logic", "loss": "Losses",
    "math": "Element-wise math and reductions", "matrix": "Matrices",
    "nn": "Activations and normalisation", "quantized": "Quantised embeddings",
    "segment": "Segment reducers", "shape": "Shapes and layouts",
    "sparse": "Sparse features", "train": "Training and optimisers",
    "utility": "Utilities", "vision": "Vision",
}  # fmt: skip


def family(schema: OpSchema) -> str:
    """The ops/ folder the kernel lives in (``math`` for ``caffe2lite.ops.math.x``)."""
    parts = schema.kernel.__module__.split(".")
    return (
        parts[2] if len(parts) > 3 and parts[:2] == ["caffe2lite", "ops"] else "other"
    )


def anchor(schema: OpSchema) -> str:
    return schema.type + (f"-{schema.engine}" if schema.engine else "")


def title(schema: OpSchema) -> str:
    return schema.type + (f" (engine {schema.engine})" if schema.engine else "")


def prose(text: str) -> str:
    """Caffe2-style doc text as Markdown: code spans kept, markup characters and
    ``<`` outside them escaped."""
    if len(CODE.findall(text)) % 2:  # an unbalanced backtick: no code spans at all
        return MARKUP.sub(r"\\\1", text).replace("<", "&lt;").replace("`", "\\`")
    parts = CODE.split(text)
    for i in range(0, len(parts), 4):  # text, mark, code, mark, text, ...
        parts[i] = MARKUP.sub(r"\\\1", parts[i]).replace("<", "&lt;")
    return "".join(parts)


def _count(lo: int, hi: int) -> str:
    if lo == hi:
        return str(lo)
    return f"{lo} or more" if hi >= INT_MAX else f"{lo} to {hi}"


def _value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        body = np.array2string(
            value, separator=", ", threshold=40,
            formatter={"float_kind": lambda x: np.format_float_positional(x, trim="-")},
        )  # fmt: skip
        return f"{' '.join(body.split())} ({value.dtype}, shape {value.shape})"
    return repr(value)


def _names_list(names: list[str], lo: int) -> list[str]:
    return [
        f"- {i}: `{name}`" + (" (optional)" if i >= lo else "")
        for i, name in enumerate(names)
    ]


def gradient_lines(schema: OpSchema) -> list[str]:
    """The gradient decision; for a maker, the ops it emits for the example."""
    entry = registry.gradient_entry(schema.type)
    if entry is None:
        return ["No gradient decision is registered."]
    if entry.kind != registry.MAKER:
        return [
            GRADIENT_WORDS[entry.kind][0].upper() + GRADIENT_WORDS[entry.kind][1:] + "."
        ]
    from caffe2lite import core

    ex = schema.example
    ins = list(ex.inputs) if ex is not None else list(schema.inputs)
    outs = list(ex.outputs) if ex is not None else list(schema.outputs)
    try:
        op = core.CreateOperator(schema.type, ins, outs, **(ex.args if ex else {}))
        grads = [f"{o}_grad" for o in op.output]
        ops, _ = core.GradientRegistry.GetGradientForOp(op, grads)
    except Exception:  # noqa: BLE001  (a maker that needs more than the example)
        return ["A gradient maker is registered."]
    lines = ["A gradient maker is registered; for the example it emits:", "", "```text"]
    for g in ops:
        lines.append(f"{g.type}({', '.join(g.input)}) -> {', '.join(g.output)}")
    return [*lines, "```"]


def _inplace(schema: OpSchema) -> str:
    n_in = min(schema.num_inputs[1], max(len(schema.inputs), schema.num_inputs[0], 1))
    n_out = max(len(schema.outputs), schema.num_outputs[0], 1)
    pairs = [
        f"`{schema.input_name(i)}` as `{schema.output_name(o)}`"
        + (" (required)" if (i, o) in schema.enforce_inplace else "")
        for i in range(n_in)
        for o in range(n_out)
        if schema.allow_inplace(i, o) or (i, o) in schema.enforce_inplace
    ]
    return ", ".join(pairs) if pairs else "not allowed"


def op_section(schema: OpSchema) -> list[str]:
    """The Markdown section of one operator."""
    lines = [f"## {title(schema)} {{#{anchor(schema)}}}", ""]
    lines += [f"`{signature(schema)}`", ""]
    lines += [prose(schema.doc.strip()) if schema.doc else "*No description.*", ""]
    lo, hi = schema.num_inputs
    lines += [f"**Inputs** ({_count(lo, hi)})", ""]
    if schema.inputs:
        lines += [*_names_list(list(schema.inputs), lo), ""]
    if schema.same_number_of_output:
        lines += ["**Outputs** (as many as inputs)", ""]
        out_lo = len(schema.outputs)
    else:
        lines += [f"**Outputs** ({_count(*schema.num_outputs)})", ""]
        out_lo = schema.num_outputs[0]
    if schema.outputs:
        lines += [*_names_list(list(schema.outputs), out_lo), ""]
    if schema.args:
        lines += [
            "**Arguments**",
            "",
            "| Name | Type | Default | |",
            "|---|---|---|---|",
        ]
        for arg in schema.args.values():
            default = "required" if arg.default is REQUIRED else f"`{arg.default!r}`"
            notes = "; ".join(
                x for x in (prose(arg.doc), prose(f"must be {arg.expected}")
                            if arg.expected else "") if x
            ).replace("|", "\\|").replace("\n", " ")  # fmt: skip
            lines.append(f"| `{arg.name}` | {arg.type} | {default} | {notes} |")
        lines.append("")
    else:
        lines += ["**Arguments**: none", ""]
    lines += [f"**In-place**: {_inplace(schema)}", ""]
    if schema.needs_rng:
        lines += ["**Random**: yes, seeded by `device_option.random_seed`", ""]
    lines += ["**Gradient**: " + "\n".join(gradient_lines(schema)), ""]
    ex = schema.example
    if ex is not None:
        lines += ["**Example** (run by the conformance test)", "", "```text"]
        for name, value in ex.inputs.items():
            lines.append(f"input  {name} = {_value(value)}")
        for name, value in ex.args.items():
            lines.append(f"arg    {name} = {_value(value)}")
        for name, value in ex.outputs.items():
            lines.append(f"output {name} = {_value(value)}")
        lines += ["```", ""]
    return lines


def family_title(name: str) -> str:
    return FAMILY_TITLES.get(name, name.capitalize())


def pages() -> dict[str, str]:
    """{file name under docs/operators/: Markdown} for the whole catalogue."""
    families: dict[str, list[OpSchema]] = defaultdict(list)
    for key in sorted(registry.OPERATORS):
        schema = registry.OPERATORS[key]
        families[family(schema)].append(schema)
    out: dict[str, str] = {}
    index = [
        "# Operator catalogue",
        "",
        (
            f"{len(registry.OPERATORS)} operators are registered, in "
            f"{len(families)} families. Each page below is made from the operator "
            "registry when the site is built (`scripts/gen_op_docs.py`): the schemas, "
            "gradient decisions and worked examples the runtime itself uses. "
            "`caffe2lite ops TYPE` prints the same schema on the command line."
        ),
        "",
        "| Family | Operators |",
        "|---|---|",
    ]
    for name in sorted(families):
        index.append(f"| [{family_title(name)}]({name}.md) | {len(families[name])} |")
        body = [f"# {family_title(name)}", ""]
        body.append(
            f"The {len(families[name])} operators of `ops/{name}/`: "
            + ", ".join(f"[{title(s)}](#{anchor(s)})" for s in families[name])
            + "."
        )
        body.append("")
        for schema in families[name]:
            body += op_section(schema)
        out[f"{name}.md"] = "\n".join(body).rstrip() + "\n"
    index += [
        "",
        "## Every operator",
        "",
        "| Operator | Inputs -> Outputs | What it does |",
    ]
    index.append("|---|---|---|")
    every = sorted(registry.OPERATORS.values(), key=lambda s: (s.type, s.engine))
    for schema in every:
        link = f"[{title(schema)}]({family(schema)}.md#{anchor(schema)})"
        what = prose(summary(schema.doc)).replace("|", "\\|")
        index.append(f"| {link} | `{signature(schema)}` | {what} |")
    out["index.md"] = "\n".join(index) + "\n"
    return out


# mkdocs hooks: the family pages in the nav under the catalogue, and the pages
# added to the site without being written into docs/.
def on_config(config: Any) -> Any:
    names = sorted(n for n in pages() if n != "index.md")
    for entry in config.nav or []:
        if isinstance(entry, dict) and entry.get("Operators") == f"{FOLDER}/index.md":
            entry["Operators"] = [{"Catalogue": f"{FOLDER}/index.md"}] + [
                {family_title(n[:-3]): f"{FOLDER}/{n}"} for n in names
            ]
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for name, text in pages().items():
        uri = f"{FOLDER}/{name}"
        old = files.get_file_from_path(uri)
        if old is not None:  # written by an earlier `python scripts/gen_op_docs.py`
            files.remove(old)
        files.append(File.generated(config, uri, content=text))
    return files


def main(argv: list[str] | None = None) -> int:
    """Write the pages into --out (docs/operators/ by default)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write into")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    written = pages()
    for name, text in written.items():
        (out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(written)} pages to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
