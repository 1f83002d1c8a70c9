"""What changed between two node catalogues: what breaks when a worker image is upgraded.

`diff_catalogs(old, new)` compares classes, their inputs (section, type, range, options,
default) and outputs, and marks each change breaking or not. Breaking means a workflow that
ComfyUI accepted against `old` may be rejected, or silently behave differently, against
`new`: a class, input or output removed, an input that became required or changed type, a
range that narrowed, options removed. Additions and widenings are not breaking.

The option lists of model and upload inputs are the files of the machine a catalogue was
pulled on, not its schema: their changes are summed up in one non-breaking `files` entry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterator, Mapping

from .models import MODEL_EXTENSIONS
from .pull import node_classes

_UPLOAD_FLAGS = ("image_upload", "video_upload", "audio_upload", "file_upload")


@dataclass(frozen=True)
class Change:
    """One difference. `kind` is e.g. `class-removed`, `input-type-changed`, `range-narrowed`."""

    kind: str
    class_type: str
    breaking: bool
    message: str
    input: str | None = None
    old: Any = None
    new: Any = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def diff_catalogs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change from `old` to `new` (raw `/object_info` data), by class then input."""
    old, new = node_classes(old), node_classes(new)
    changes: list[Change] = []
    for name in sorted(set(old) | set(new)):
        if name not in new:
            changes.append(Change("class-removed", name, True, f"class `{name}` was removed"))
        elif name not in old:
            changes.append(Change("class-added", name, False, f"class `{name}` was added"))
        elif old[name] != new[name]:
            changes.extend(_class_changes(name, old[name], new[name]))
    return changes


def _inputs(entry: Any) -> dict[str, tuple[str, Any]]:
    out: dict[str, tuple[str, Any]] = {}
    sections = entry.get("input") if isinstance(entry, Mapping) else None
    for section in ("required", "optional"):
        for name, spec in ((sections or {}).get(section) or {}).items():
            out[name] = (section, spec)
    return out


def _class_changes(cls: str, old: Any, new: Any) -> Iterator[Change]:
    before, after = _inputs(old), _inputs(new)
    for name in list(before) + [n for n in after if n not in before]:
        if name not in after:
            yield Change("input-removed", cls, True, f"`{cls}`: input `{name}` was removed", name)
        elif name not in before:
            required = after[name][0] == "required"
            yield Change("input-added", cls, required,
                         f"`{cls}`: {'required' if required else 'optional'} input `{name}` was added", name)
        else:
            yield from _input_changes(cls, name, before[name], after[name])
    yield from _output_changes(cls, old, new)


def _shape(spec: Any) -> tuple[str, dict[str, Any], list | None]:
    """(type, config, options) of an input spec of any form."""
    if isinstance(spec, str):
        return spec, {}, None
    if not isinstance(spec, list) or not spec:
        return repr(spec), {}, None
    config = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    head = spec[0]
    if isinstance(head, list):
        return "COMBO", config, head
    if head == "COMBO":
        options = config.get("options")
        return "COMBO", config, options if isinstance(options, list) else None
    return str(head), config, None


def _is_file_list(config: Mapping[str, Any], options: list) -> bool:
    if config.get("model_folder") or any(config.get(f) for f in _UPLOAD_FLAGS):
        return True
    names = [o for o in options if isinstance(o, str)]
    return bool(names) and all(("." + n.rsplit(".", 1)[-1].lower()) in MODEL_EXTENSIONS for n in names if "." in n) \
        and any("." in n for n in names)


def _input_changes(cls: str, name: str, old: tuple[str, Any], new: tuple[str, Any]) -> Iterator[Change]:
    (old_section, old_spec), (new_section, new_spec) = old, new
    where = f"`{cls}.{name}`"
    if old_section != new_section:
        breaking = new_section == "required"
        yield Change("input-now-" + new_section, cls, breaking, f"{where} became {new_section}", name,
                     old_section, new_section)
    old_type, old_cfg, old_opts = _shape(old_spec)
    new_type, new_cfg, new_opts = _shape(new_spec)
    if old_type != new_type:
        yield Change("input-type-changed", cls, True, f"{where} changed type from `{old_type}` to `{new_type}`",
                     name, old_type, new_type)
        return
    for bound, narrower in (("min", lambda a, b: b > a), ("max", lambda a, b: b < a)):
        a, b = old_cfg.get(bound), new_cfg.get(bound)
        if a == b or not all(isinstance(v, (int, float)) or v is None for v in (a, b)):
            continue
        narrowed = b is not None and (a is None or narrower(a, b))
        yield Change("range-narrowed" if narrowed else "range-widened", cls, narrowed,
                     f"{where}: {bound} {_show(a)} -> {_show(b)}", name, a, b)
    if old_opts is not None and new_opts is not None and old_opts != new_opts:
        if _is_file_list(new_cfg, new_opts) or _is_file_list(old_cfg, old_opts):
            gone, came = _set_diff(old_opts, new_opts)
            yield Change("files", cls, False, f"{where}: the machine's file list differs "
                         f"({len(came)} more, {len(gone)} fewer)", name, len(gone), len(came))
        else:
            gone, came = _set_diff(old_opts, new_opts)
            if gone:
                yield Change("options-removed", cls, True, f"{where}: options removed: {_list(gone)}", name, gone)
            if came:
                yield Change("options-added", cls, False, f"{where}: options added: {_list(came)}", name, None, came)
    if old_cfg.get("default") != new_cfg.get("default") and "default" in old_cfg | new_cfg:
        yield Change("default-changed", cls, False,
                     f"{where}: default {_show(old_cfg.get('default'))} -> {_show(new_cfg.get('default'))}",
                     name, old_cfg.get("default"), new_cfg.get("default"))


def _output_changes(cls: str, old: Any, new: Any) -> Iterator[Change]:
    before = list(old.get("output") or []) if isinstance(old, Mapping) else []
    after = list(new.get("output") or []) if isinstance(new, Mapping) else []
    for index, out_type in enumerate(before):
        if index >= len(after):
            yield Change("output-removed", cls, True, f"`{cls}`: output {index} (`{_type(out_type)}`) was removed",
                         old=_type(out_type))
        elif _type(after[index]) != _type(out_type):
            yield Change("output-type-changed", cls, True, f"`{cls}`: output {index} changed type from "
                         f"`{_type(out_type)}` to `{_type(after[index])}`", old=_type(out_type), new=_type(after[index]))
    for index in range(len(before), len(after)):
        yield Change("output-added", cls, False, f"`{cls}`: output {index} (`{_type(after[index])}`) was added",
                     new=_type(after[index]))
    if isinstance(old, Mapping) and isinstance(new, Mapping) and bool(old.get("output_node")) != bool(new.get("output_node")):
        yield Change("output-node-changed", cls, not new.get("output_node"),
                     f"`{cls}` {'is now' if new.get('output_node') else 'is no longer'} an output node")


def _type(value: Any) -> str:
    return "COMBO" if isinstance(value, list) else str(value)


def _set_diff(old: list, new: list) -> tuple[list, list]:
    old_keys = {repr(o) for o in old}
    new_keys = {repr(o) for o in new}
    return [o for o in old if repr(o) not in new_keys], [o for o in new if repr(o) not in old_keys]


def _list(values: list, limit: int = 8) -> str:
    shown = ", ".join(f"`{v}`" for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _show(value: Any) -> str:
    return "none" if value is None else f"`{value}`"


def diff_text(changes: list[Change]) -> str:
    """The changes as lines: `! ` marks a breaking one, then a count."""
    lines = [f"{'!' if c.breaking else ' '} {c.kind:<20} {c.message}" for c in changes]
    breaking = sum(c.breaking for c in changes)
    lines.append(f"{len(changes)} change(s), {breaking} breaking" if changes else "no changes")
    return "\n".join(lines) + "\n"
