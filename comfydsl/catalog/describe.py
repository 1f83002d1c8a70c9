"""One node class, readably: what `comfydsl nodes KSampler` prints."""

from __future__ import annotations

from typing import Any

from .nodes import InputSpec, NodeCatalog, NodeSpec

#: How many options of a combo are shown before "... and N more".
OPTION_LIMIT = 12


def describe_class(catalog: NodeCatalog, name: str, *, all_options: bool = False) -> str:
    """A class's inputs (type, default, range, options), outputs and flags, as text.

    KeyError when the catalogue has no such class.
    """
    spec = catalog[name]
    head = name + (f" ({spec.display_name})" if spec.display_name and spec.display_name != name else "")
    lines = [head]
    facts = [f"category: {spec.category}" if spec.category else None,
             f"module: {spec.python_module}" if spec.python_module else None,
             f"from: {spec.source}" if spec.source else None]
    lines += ["  " + f for f in facts if f]
    flags = [flag for flag, on in (("output node", spec.output_node), ("deprecated", spec.deprecated),
                                   ("experimental", spec.experimental),
                                   ("API node: needs a Comfy.org API key", spec.api_node)) if on]
    if flags:
        lines.append("  " + ", ".join(flags))
    for section in ("required", "optional", "hidden"):
        inputs = [i for i in spec.inputs.values() if i.section == section]
        if inputs:
            lines += ["", f"{section} inputs:"]
            lines += [_input_line(i, all_options) for i in inputs]
    lines += ["", "outputs:" if spec.outputs else "outputs: none"]
    lines += [_output_line(spec, o.index) for o in spec.outputs]
    return "\n".join(lines) + "\n"


def _input_line(spec: InputSpec, all_options: bool) -> str:
    parts = [f"  {spec.name}: {spec.type}"]
    details: list[str] = []
    if spec.default is not None:
        details.append(f"default {_show(spec.default)}")
    if spec.minimum is not None or spec.maximum is not None:
        details.append(f"range {_show(spec.minimum)}..{_show(spec.maximum)}")
    if spec.config.get("step") is not None:
        details.append(f"step {_show(spec.config['step'])}")
    if spec.model_folder:
        details.append(f"a file in `{spec.model_folder}`")
    if spec.upload:
        details.append(f"an uploaded {spec.upload} (the input folder)")
    if spec.force_input:
        details.append("link only")
    if spec.config.get("multiline"):
        details.append("multiline")
    if details:
        parts.append(" (" + ", ".join(details) + ")")
    if spec.options is not None:
        shown = list(spec.options) if all_options else list(spec.options[:OPTION_LIMIT])
        more = len(spec.options) - len(shown)
        parts.append("\n      options: " + ", ".join(_show(o) for o in shown) + (f" ... and {more} more" if more else ""))
    return "".join(parts)


def _output_line(spec: NodeSpec, index: int) -> str:
    out = spec.outputs[index]
    name = f" `{out.name}`" if out.name != out.type else ""
    return f"  {index}: {out.type}{name}" + (" (list)" if out.is_list else "")


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
