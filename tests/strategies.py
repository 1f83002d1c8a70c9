"""Hypothesis strategies: random valid workflows built from the real catalogue.

`valid_workflows()` draws nodes one by one from classes whose required inputs can all be
met: literals are drawn within each input's range and options, link inputs are wired to
earlier outputs of a compatible type, model inputs take files of `MODELS`. Every node that
would otherwise feed nothing gets a `PreviewAny` after it, so the result lints clean.
"""

from __future__ import annotations

from functools import lru_cache

from hypothesis import strategies as st

from comfydsl.catalog import ModelCatalog, builtin_catalog, types_compatible
from comfydsl.workflow.links import sorted_ids

MODELS = ModelCatalog({folder: [f"{folder}-a.safetensors", f"sub/{folder}-b.safetensors"]
                       for folder in ("checkpoints", "loras", "vae", "text_encoders", "diffusion_models",
                                      "clip_vision", "style_models", "controlnet", "gligen", "upscale_models",
                                      "hypernetworks", "photomaker", "model_patches", "audio_encoders", "configs",
                                      "diffusers")})


@lru_cache(maxsize=1)
def usable_classes() -> tuple[str, ...]:
    """Classes whose required inputs a generator can fill without outside files."""
    catalog = builtin_catalog()
    usable = []
    for name in catalog:
        spec = catalog[name]
        if spec.api_node or (not spec.outputs and not spec.output_node):
            continue
        ok = True
        for inp in spec.inputs.values():
            if inp.section != "required":
                continue
            if inp.upload or (inp.is_combo and inp.options is not None and not inp.options):
                ok = False
            if inp.type == "INT" and inp.minimum is not None and inp.maximum is not None and inp.minimum > inp.maximum:
                ok = False
        if ok:
            usable.append(name)
    return tuple(sorted(usable))


def _literal(draw, inp):
    if inp.model_folder:
        return draw(st.sampled_from(MODELS.files(inp.model_folder) + list(inp.config.get("virtual", ()))))
    if inp.is_combo:
        return draw(st.sampled_from(inp.options))
    if inp.type == "INT":
        low = int(inp.minimum) if inp.minimum is not None else -(2**31)
        high = int(inp.maximum) if inp.maximum is not None else 2**31
        return draw(st.integers(min_value=low, max_value=high))
    if inp.type == "FLOAT":
        low = float(max(inp.minimum, -1e12)) if inp.minimum is not None else -1e6
        high = float(min(inp.maximum, 1e12)) if inp.maximum is not None else 1e6
        return draw(st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False))
    if inp.type == "BOOLEAN":
        return draw(st.booleans())
    if inp.type == "STRING":
        return draw(st.text(max_size=20))
    if inp.is_literal_widget:  # a V3 widget type such as WEBCAM: the widget writes a string or an object
        return draw(st.text(min_size=1, max_size=20))
    return None


@st.composite
def valid_workflows(draw, max_nodes: int = 8) -> dict:
    catalog = builtin_catalog()
    classes = usable_classes()
    workflow: dict[str, dict] = {}
    outputs: list[tuple[str, int, str]] = []  # (node id, index, type)
    count = draw(st.integers(min_value=1, max_value=max_nodes))
    next_id = 1
    for _ in range(count):
        candidates = [c for c in classes if _satisfiable(catalog[c], outputs)]
        cls = draw(st.sampled_from(candidates))
        spec = catalog[cls]
        inputs = {}
        for inp in spec.inputs.values():
            if inp.section != "required":
                continue
            if inp.takes_link_only or inp.type == "*" or inp.force_input:
                fits = [o for o in outputs if types_compatible(o[2], inp.type)]
                source = draw(st.sampled_from(fits))
                inputs[inp.name] = [source[0], source[1]]
            else:
                inputs[inp.name] = _literal(draw, inp)
        node_id = str(next_id)
        next_id += 1
        workflow[node_id] = {"class_type": cls, "inputs": inputs}
        outputs.extend((node_id, o.index, o.type) for o in spec.outputs)
    _close(workflow, catalog, next_id)
    return workflow


def _satisfiable(spec, outputs) -> bool:
    for inp in spec.inputs.values():
        if inp.section == "required" and (inp.takes_link_only or inp.type == "*" or inp.force_input):
            if not any(types_compatible(o[2], inp.type) for o in outputs):
                return False
    return True


def _close(workflow: dict, catalog, next_id: int) -> None:
    """Give every node that feeds no output node a PreviewAny."""
    used = {v[0] for node in workflow.values() for v in node["inputs"].values() if isinstance(v, list)}
    for node_id in sorted_ids(workflow):
        spec = catalog[workflow[node_id]["class_type"]]
        if node_id in used or spec.output_node:
            continue
        workflow[str(next_id)] = {"class_type": "PreviewAny", "inputs": {"source": [node_id, 0]}}
        next_id += 1
